"""Per-class calibration of class probabilities, kept only where it helps.

A classifier's probabilities are calibrated one class at a time (one-vs-rest), each by
a monotone, piecewise-linear map fitted on labelled reference rows: the observed rate of
the class in equal-mass bins of its probability, made non-decreasing by pooling adjacent
violators (isotonic regression on the bins), interpolated linearly between the bins'
mean probabilities (so rows inside a bin are not all given the same value, which would
bias the estimate when the rows move within a bin under covariate shift). A class's
calibrator is *kept* only when it lowers that class's expected calibration error (ECE,
equal-mass bins) on held-out folds of the reference (k-fold cross-validation with a
seeded split); otherwise the model's own probabilities are used for it. Calibrated rows
of a multiclass model are renormalised to sum to one, and the most probable class's
probability gets its own map (kept on the same test), since one-vs-rest maps calibrate a
class over all rows, not over the rows where it is the prediction.

Calibration learns P(y | score) on the reference; it carries over to new data as long as
P(y | x) is unchanged (covariate shift is fine; concept drift is not).

References
----------
Naeini, Cooper & Hauskrecht (2015), "Obtaining well calibrated probabilities using
Bayesian binning" (ECE). Zadrozny & Elkan (2002), "Transforming classifier scores into
accurate multiclass probability estimates" (one-vs-rest calibration, renormalised).
"""

from __future__ import annotations

import numpy as np

from watchkeeper.errors import InvalidBatchError
from watchkeeper.stats.performance.estimated import _pool_adjacent_violators
from watchkeeper.types import FloatArray, IntArray

__all__ = ["ClassCalibration", "IsotonicMap", "expected_calibration_error"]

_MARGIN = 0.9
"""A calibrator is kept when its held-out ECE is under this share of the raw one: an
already calibrated class, whose two errors are both noise, keeps its own probabilities."""


class IsotonicMap:
    """Monotone piecewise-linear calibration of one class's probability.

    Parameters
    ----------
    n_bins
        Equal-mass bins of the fitted probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=20_000)
    >>> m = IsotonicMap(20).fit(p, rng.uniform(size=20_000) < p ** 2)
    >>> round(float(m.transform(np.array([0.5]))[0]), 2)
    0.26
    """

    def __init__(self, n_bins: int = 20) -> None:
        self.n_bins = n_bins

    def fit(self, prob: FloatArray, hit: FloatArray) -> IsotonicMap:
        """Learn the map from probabilities and 0/1 outcomes; returns self."""
        p = np.asarray(prob, dtype=np.float64)
        y = np.asarray(hit, dtype=np.float64)
        order = np.argsort(p, kind="stable")
        chunks = [c for c in np.array_split(order, min(self.n_bins, p.size)) if c.size]
        weight = np.array([c.size for c in chunks], dtype=np.float64)
        rate = np.array([y[c].mean() for c in chunks])
        self.x_ = np.array([p[c].mean() for c in chunks])
        self.y_ = _pool_adjacent_violators(rate, weight)
        return self

    def transform(self, prob: FloatArray) -> FloatArray:
        """Calibrated probabilities."""
        out: FloatArray = np.interp(np.asarray(prob, dtype=np.float64), self.x_, self.y_)
        return out


def expected_calibration_error(prob: FloatArray, hit: FloatArray, n_bins: int = 10) -> float:
    """ECE of one class: the row-weighted mean |observed rate - mean probability| over
    equal-mass bins of ``prob``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=50_000)
    >>> round(expected_calibration_error(p, rng.uniform(size=50_000) < p), 3)
    0.004
    >>> round(expected_calibration_error(p, rng.uniform(size=50_000) < p ** 2), 2)
    0.17
    """
    p = np.asarray(prob, dtype=np.float64)
    y = np.asarray(hit, dtype=np.float64)
    if p.size == 0:
        return 0.0
    order = np.argsort(p, kind="stable")
    chunks = np.array_split(order, min(n_bins, p.size))
    return float(sum(abs(y[c].mean() - p[c].mean()) * c.size for c in chunks if c.size) / p.size)


class ClassCalibration:
    """One-vs-rest calibration of ``k`` class-probability columns, per class kept only
    when cross-validation shows it lowers the calibration error.

    Parameters
    ----------
    n_bins
        Quantile bins of each class's calibrator.
    folds
        Cross-validation folds deciding whether a class's calibrator is kept.
    seed
        Seed of the fold split (same inputs -> same choice).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> true = rng.dirichlet([1, 1, 1], size=20_000)
    >>> y = (rng.uniform(size=(20_000, 1)) > true.cumsum(1)).sum(1)
    >>> sharp = true ** 3 / (true ** 3).sum(1, keepdims=True)   # overconfident
    >>> cal = ClassCalibration().fit(sharp, y)
    >>> cal.kept_.tolist()
    [True, True, True]
    >>> ClassCalibration().fit(true, y).kept_.tolist()   # already calibrated
    [False, False, False]
    """

    def __init__(self, n_bins: int = 20, folds: int = 5, seed: int = 0) -> None:
        for name, value, low in (("n_bins", n_bins, 1), ("folds", folds, 2)):
            if not isinstance(value, int) or value < low:
                raise InvalidBatchError(
                    f"{name}: expected an integer >= {low}, got {value!r}",
                    field=name,
                    value=value,
                    expected=f">= {low}",
                )
        self.n_bins = n_bins
        self.folds = folds
        self.seed = seed

    def fit(self, probabilities: FloatArray, labels: IntArray) -> ClassCalibration:
        """Fit per-class calibrators on ``probabilities`` (n, k) and class indices
        ``labels`` (n,); keep each where it lowers the held-out ECE. Returns self."""
        p = np.asarray(probabilities, dtype=np.float64)
        y = np.asarray(labels, dtype=np.int64)
        if p.ndim != 2 or y.shape != (p.shape[0],) or p.shape[0] < self.folds:
            raise InvalidBatchError(
                f"labels: {y.size} labels for probabilities of shape {p.shape}; expected "
                f"one per row and at least {self.folds} rows",
                field="labels",
                value=y.size,
                expected=f"{p.shape[0]} (>= {self.folds})",
            )
        k = p.shape[1]
        fold = np.random.default_rng(self.seed).permutation(p.shape[0]) % self.folds
        kept = np.zeros(k, dtype=bool)
        calibrators: list[IsotonicMap | None] = []
        for j in range(k):
            hit = (y == j).astype(np.float64)
            raw = cal = 0.0
            for f in range(self.folds):
                train, test = fold != f, fold == f
                c = IsotonicMap(self.n_bins).fit(p[train, j], hit[train])
                raw += expected_calibration_error(p[test, j], hit[test])
                cal += expected_calibration_error(c.transform(p[test, j]), hit[test])
            kept[j] = cal < _MARGIN * raw
            calibrators.append(IsotonicMap(self.n_bins).fit(p[:, j], hit) if kept[j] else None)
        self.kept_ = kept
        self.calibrators_ = calibrators
        # one-vs-rest maps calibrate P(y = j | q_j) over all rows, not over the rows where
        # j is the most probable class, so the predicted class's probability (hence
        # accuracy) can stay biased; a map of that confidence fixes it where it helps
        self.confidence_: IsotonicMap | None = None
        if k > 2:
            q = self.one_vs_rest(p)
            top = np.argmax(p, axis=1)
            conf = q[np.arange(q.shape[0]), top]
            hit = (y == top).astype(np.float64)
            raw = cal = 0.0
            for f in range(self.folds):
                train, test = fold != f, fold == f
                c = IsotonicMap(self.n_bins).fit(conf[train], hit[train])
                raw += expected_calibration_error(conf[test], hit[test])
                cal += expected_calibration_error(c.transform(conf[test]), hit[test])
            if cal < _MARGIN * raw:
                self.confidence_ = IsotonicMap(self.n_bins).fit(conf, hit)
        return self

    def one_vs_rest(self, p: FloatArray) -> FloatArray:
        """Each class's column calibrated on its own, rows renormalised (k > 2)."""
        out = p.copy()
        for j, c in enumerate(self.calibrators_):
            if c is not None:
                out[:, j] = c.transform(p[:, j])
        total = out.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            normed: FloatArray = np.where(total > 0, out / total, 1.0 / p.shape[1])
        return normed

    def transform(self, probabilities: FloatArray) -> FloatArray:
        """Calibrated probabilities (n, k). With two classes the positive column is
        calibrated and the other is 1 - it; with more, each column is calibrated, rows are
        renormalised, then the most probable class's probability is recalibrated (when kept)
        and the others rescaled to share the rest."""
        return self.transform_both(probabilities)[0]

    def transform_both(self, probabilities: FloatArray) -> tuple[FloatArray, FloatArray]:
        """:meth:`transform` and :meth:`one_vs_rest` of the same rows, computed once."""
        p = np.asarray(probabilities, dtype=np.float64)
        out = p.copy()
        k = p.shape[1]
        if k == 2:
            c = self.calibrators_[1]
            if c is not None:
                out[:, 1] = c.transform(p[:, 1])
                out[:, 0] = 1.0 - out[:, 1]
            return out, out
        ovr = q = self.one_vs_rest(p)
        if self.confidence_ is not None:
            rows = np.arange(q.shape[0])
            top = np.argmax(p, axis=1)
            conf = q[rows, top]
            new = np.clip(self.confidence_.transform(conf), 0.0, 1.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = np.where(conf < 1.0, (1.0 - new) / (1.0 - conf), 0.0)
            q = q * scale[:, None]
            q[rows, top] = new
        return q, ovr
