"""Confidence-based performance estimation (CBPE) for classifiers with any number of classes.

With calibrated probabilities q (row r, class i) and the model's predicted class
``pred_r``, row r is a draw of its true class from q_r. The expected confusion matrix is
then ``E[C_ij] = sum over rows predicted j of q_ri``, and the estimates are the metrics
of that matrix (ratios of expectations): accuracy, and precision, recall and F1 of the
positive class (binary) or their macro average (multiclass, as
:func:`~watchkeeper.stats.performance.classification.classification_metrics`). ROC AUC is
estimated one-vs-rest by weighting every (row a, row b) pair ranked by the model's score
with ``q_a (1 - q_b)``.

Intervals are prediction intervals for the realised metric, estimate +/- z x the
standard deviation the metric has when every row's true class is drawn from q: for
accuracy the Poisson-binomial law of the number of correct rows (normal approximation),
for precision, recall and F1 the delta method in the rows' class indicators (see
:func:`_spreads`), for ROC AUC Hanley and McNeil's variance. Closed forms keep an
estimate of 5,000 rows in milliseconds; ``tests/unit/stats/performance`` checks them
against seeded simulations of the labels. The intervals cover label noise only, not a
calibration that no longer holds: under concept drift (P(y | x) changed) the estimate
is wrong and the realised values fall outside, which the monitor's self-check reports.

References
----------
NannyML, "Confidence-based performance estimation" (CBPE). Guillory et al. (2021),
"Predicting with confidence on unseen distributions" (average confidence). Hong (2013),
"On computing the distribution function for the Poisson binomial distribution".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import norm

from watchkeeper.errors import InvalidBatchError
from watchkeeper.stats.performance.calibration import ClassCalibration
from watchkeeper.stats.performance.classification import (
    ClassificationMetrics,
    classification_metrics,
)
from watchkeeper.stats.performance.interval import Interval, PerformanceEstimate
from watchkeeper.types import FloatArray, IntArray

__all__ = ["CBPE", "CLASSIFICATION_ESTIMATES"]

CLASSIFICATION_ESTIMATES = ("accuracy", "precision", "recall", "f1", "roc_auc")
"""The metrics a :class:`CBPE` estimates, in this order."""


def _as_matrix(probabilities: Any) -> FloatArray:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim == 1:
        p = np.column_stack([1.0 - p, p])
    if p.ndim != 2 or p.shape[1] < 2:
        raise InvalidBatchError(
            f"probabilities: shape {p.shape}; expected (n,) positive-class scores or "
            "(n, k) class probabilities with k >= 2",
            field="probabilities",
            value=p.shape,
            expected="(n,) or (n, k)",
        )
    return p


def _average_ranks(score: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
    """Average ranks (1-based, ties share), the tie-group of each row and group sizes."""
    _, group, counts = np.unique(score, return_inverse=True, return_counts=True)
    upto = np.cumsum(counts)
    mean_rank = (upto - counts + 1 + upto) / 2.0
    return mean_rank[group], group, counts.astype(np.float64)


def _weighted_auc(score: FloatArray, q: FloatArray) -> float:
    """Expected-pairs AUC: sum over pairs of q_a (1 - q_b) [s_a > s_b] (+ half for ties)
    over sum q x sum (1 - q), self-pairs left out."""
    _, group, _ = _average_ranks(score)
    neg = 1.0 - q
    per_group = np.bincount(group, weights=neg)
    below = np.cumsum(per_group) - per_group
    wins = below[group] + 0.5 * (per_group[group] - neg)
    denom = q.sum() * neg.sum() - float(np.dot(q, neg))
    return float(np.dot(q, wins) / denom) if denom > 0 else math.nan


class CBPE:
    """Estimate a classifier's performance from its probabilities, without labels.

    Parameters
    ----------
    confidence
        Nominal coverage of the intervals.
    n_bins, folds
        Of the per-class calibration (:class:`ClassCalibration`).
    seed
        Seeds the calibration folds.

    Attributes
    ----------
    classes_
        The class labels, in probability-column order.
    calibration_
        The fitted :class:`ClassCalibration`.
    calibration_sd_
        Per metric, the error of the estimate beyond label noise measured on held-out
        folds of the reference (calibrated on the other folds); added to the interval in
        quadrature.
    reference_
        The realised metrics of the labelled reference rows.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.beta(2, 2, 20_000)
    >>> y = rng.uniform(size=20_000) < p
    >>> est = CBPE().fit(p, y).estimate(p[:5_000])
    >>> realised = classification_metrics(y[:5_000], p[:5_000] >= 0.5).accuracy
    >>> a = est["accuracy"]
    >>> round(a.value, 3), round(realised, 3), a.contains(realised)
    (0.685, 0.691, True)
    """

    def __init__(
        self,
        *,
        confidence: float = 0.95,
        n_bins: int = 20,
        folds: int = 5,
        seed: int = 0,
    ) -> None:
        if not 0.0 < confidence < 1.0:
            raise InvalidBatchError(
                f"confidence: expected a number in (0, 1), got {confidence!r}",
                field="confidence",
                value=confidence,
                expected="in (0, 1)",
            )
        self.confidence = confidence
        self.n_bins = n_bins
        self.folds = folds
        self.seed = seed

    def fit(
        self,
        probabilities: Any,
        labels: Any,
        *,
        classes: Sequence[Any] | None = None,
        predictions: Any = None,
    ) -> CBPE:
        """Learn the calibration from labelled reference rows; returns self.

        Parameters
        ----------
        probabilities
            (n,) positive-class scores of a binary model or (n, k) class probabilities.
        labels
            The true classes.
        classes
            The class labels in column order; default: the sorted labels seen (which
            must then number k).
        predictions
            The model's predicted classes; default: the most probable class.
        """
        p = _as_matrix(probabilities)
        names = [str(c) for c in classes] if classes is not None else None
        truth = np.asarray(labels)
        if truth.dtype.kind == "b":
            truth = truth.astype(np.int64)
        text = truth.astype(str)
        if names is None:
            names = sorted(set(text.tolist()))
            if len(names) < p.shape[1]:  # e.g. a binary reference holding one class
                names = [str(i) for i in range(p.shape[1])]
        if len(names) != p.shape[1]:
            raise InvalidBatchError(
                f"classes: {len(names)} classes for {p.shape[1]} probability columns; "
                "expected one class per column",
                field="classes",
                value=len(names),
                expected=str(p.shape[1]),
            )
        index = {c: i for i, c in enumerate(names)}
        unknown = sorted(set(text.tolist()) - set(index))
        if unknown:
            raise InvalidBatchError(
                f"labels: class {unknown[0]!r} has no probability column; expected one of: "
                + ", ".join(names),
                field="labels",
                value=unknown[0],
                expected=", ".join(names),
            )
        y = np.array([index[c] for c in text.tolist()], dtype=np.int64)
        self.classes_ = tuple(names)
        self.calibration_ = ClassCalibration(self.n_bins, self.folds, self.seed).fit(p, y)
        pred = self._predicted(p, predictions)
        self.reference_: ClassificationMetrics = _realised(y, pred, p)
        self.calibration_sd_ = self._calibration_sd(p, y, pred)
        return self

    def _calibration_sd(self, p: FloatArray, y: IntArray, pred: IntArray) -> dict[str, float]:
        """Per metric, the spread of the estimate's error beyond label noise on held-out
        folds: sqrt(mean((estimate - realised)^2 - label-noise variance)), at least 0."""
        k = p.shape[1]
        fold = np.random.default_rng(self.seed + 1).permutation(p.shape[0]) % self.folds
        excess: dict[str, list[float]] = {name: [] for name in CLASSIFICATION_ESTIMATES}
        for f in range(self.folds):
            train, test = fold != f, fold == f
            cal = ClassCalibration(self.n_bins, self.folds, self.seed).fit(p[train], y[train])
            point, spread, _ = _expected(cal, p[test], pred[test], k)
            realised = _realised(y[test], pred[test], p[test])
            for name in CLASSIFICATION_ESTIMATES:
                gap = point[name] - float(getattr(realised, name))
                if math.isfinite(gap):
                    excess[name].append(gap**2 - spread[name] ** 2)
        return {
            name: math.sqrt(max(float(np.mean(v)), 0.0)) if v else 0.0 for name, v in excess.items()
        }

    def _predicted(self, p: FloatArray, predictions: Any) -> IntArray:
        if predictions is None:
            top: IntArray = np.argmax(p, axis=1).astype(np.int64)
            return top
        text = np.asarray(predictions)
        if text.dtype.kind == "b":
            text = text.astype(np.int64)
        index = {c: i for i, c in enumerate(self.classes_)}
        # a prediction outside the known classes counts as wrong for every true class
        out = np.array([index.get(c, -1) for c in text.astype(str).tolist()], dtype=np.int64)
        if out.shape != (p.shape[0],):
            raise InvalidBatchError(
                f"predictions: {out.size} for {p.shape[0]} rows; expected one per row",
                field="predictions",
                value=out.size,
                expected=str(p.shape[0]),
            )
        return out

    def estimate(self, probabilities: Any, predictions: Any = None) -> PerformanceEstimate:
        """Expected performance of rows without labels, with intervals.

        Rows with a non-finite probability are left out.
        """
        p = _as_matrix(probabilities)
        k = len(self.classes_)
        if p.shape[1] != k:
            raise InvalidBatchError(
                f"probabilities: {p.shape[1]} columns; expected {k} (one per class)",
                field="probabilities",
                value=p.shape[1],
                expected=str(k),
            )
        pred = self._predicted(p, predictions)
        ok = np.isfinite(p).all(axis=1)
        p, pred = p[ok], pred[ok]
        n = int(p.shape[0])
        if n == 0:
            return PerformanceEstimate.empty(CLASSIFICATION_ESTIMATES, self.confidence)
        point, spread, confusion = _expected(self.calibration_, p, pred, k)
        z = float(norm.ppf(0.5 + self.confidence / 2))
        metrics: dict[str, Interval] = {}
        for name in CLASSIFICATION_ESTIMATES:
            value = point[name]
            half = z * math.hypot(spread[name], self.calibration_sd_.get(name, 0.0))
            metrics[name] = Interval(value, max(0.0, value - half), min(1.0, value + half))
        return PerformanceEstimate(
            n,
            metrics,
            self.confidence,
            tuple(tuple(float(v) for v in row[:k]) for row in confusion),
            self.classes_,
        )


def _expected(
    calibration: ClassCalibration, p: FloatArray, pred: IntArray, k: int
) -> tuple[dict[str, float], dict[str, float], FloatArray]:
    """Point estimates, their label-noise spreads and the expected confusion matrix."""
    n = p.shape[0]
    calibrated, one_vs_rest = calibration.transform_both(p)
    q = np.clip(calibrated, 0.0, 1.0)
    onehot = np.zeros((n, k + 1), dtype=np.float64)
    onehot[np.arange(n), np.where(pred >= 0, pred, k)] = 1.0
    confusion = q.T @ onehot  # expected [true i, predicted j]; column k: unknown
    point = _confusion_metrics(confusion[None, :, :], k)
    # one-vs-rest AUC ranks rows by one class's probability: it takes that class's
    # calibrated probability over all rows, not the one remapped for the predicted class
    q_auc = np.clip(one_vs_rest, 0.0, 1.0)
    aucs = [_weighted_auc(p[:, j], q_auc[:, j]) for j in (range(k) if k > 2 else (1,))]
    defined = [a for a in aucs if not math.isnan(a)]
    point["roc_auc"] = np.array([np.mean(defined) if defined else math.nan])
    spread = _spreads(q, pred, confusion, point, k)
    return {name: float(point[name][0]) for name in CLASSIFICATION_ESTIMATES}, spread, confusion


def _realised(y: IntArray, pred: IntArray, p: FloatArray) -> ClassificationMetrics:
    k = p.shape[1]
    return classification_metrics(
        y,
        pred,
        scores=p[:, 1] if k == 2 else p,
        classes=list(range(k)),
        positive=1 if k == 2 else None,
    )


def _spreads(
    q: FloatArray,
    pred: IntArray,
    confusion: FloatArray,
    point: dict[str, FloatArray],
    k: int,
) -> dict[str, float]:
    """Standard deviations of the realised metrics when every row's true class is drawn
    from its calibrated probabilities (rows independent), by the delta method.

    Each metric is a function of the rows' true-class indicators I_ri (one-hot, drawn
    from q_r). With per-class true positives A_i, true counts T_i and predicted counts
    P_i (fixed: the predictions are known), its derivative in I_ri has the form
    ``g_ri = w ([i = pred_r] c_i - d_i)``: accuracy c = 1 / n, d = 0; precision c = 1 / P,
    d = 0; recall c = 1 / T, d = A / T^2; F1 (2A / (P + T)) c = 2 / (P + T),
    d = 2A / (P + T)^2; w is 1 over the classes averaged (the positive class of a binary
    problem). Then ``Var = sum_r [sum_i q_ri g_ri^2 - (sum_i q_ri g_ri)^2]``, the
    covariances between classes included (each row has one true class). For accuracy
    this is the Poisson-binomial variance. ROC AUC: Hanley & McNeil's (1982) variance at
    the expected numbers of positives and negatives, averaged over the classes.
    """
    n = q.shape[0]
    onehot = np.zeros((n, k))
    known = pred >= 0
    onehot[np.flatnonzero(known), pred[known]] = 1.0
    a = np.diagonal(confusion[:, :k]).copy()
    n_pred = confusion[:, :k].sum(axis=0)
    n_true = confusion.sum(axis=1)
    pick = np.zeros(k, dtype=bool)
    if k == 2:
        pick[1] = True
    else:
        pick[:] = (n_pred + n_true) >= 0.5
    weight = pick / max(int(pick.sum()), 1)

    def spread(c: FloatArray, d: FloatArray, w: FloatArray) -> float:
        g = (onehot * c - d) * w
        qg = q * g
        var = float(np.sum(qg * g) - np.sum(qg.sum(axis=1) ** 2))
        return math.sqrt(max(var, 0.0))

    with np.errstate(invalid="ignore", divide="ignore"):
        inv_p = np.where(n_pred > 0, 1.0 / n_pred, 0.0)
        inv_t = np.where(n_true > 0, 1.0 / n_true, 0.0)
        total = n_pred + n_true
        inv_d = np.where(total > 0, 2.0 / total, 0.0)
        zero = np.zeros(k)
        out = {
            "accuracy": spread(np.full(k, 1.0 / n), zero, np.ones(k)),
            "precision": spread(inv_p, zero, weight),
            "recall": spread(inv_t, a * inv_t**2, weight),
            "f1": spread(inv_d, a * inv_d**2 / 2.0, weight),
        }
        pos = q.sum(axis=0)
        neg = n - pos
        auc = float(point["roc_auc"][0])
        q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
        v_auc = (auc * (1 - auc) + (pos - 1) * (q1 - auc**2) + (neg - 1) * (q2 - auc**2)) / (
            pos * neg
        )
    classes = [1] if k == 2 else list(range(k))
    out["roc_auc"] = math.sqrt(float(np.nansum(np.maximum(v_auc[classes], 0.0)))) / len(classes)
    return out


def _confusion_metrics(confusion: FloatArray, k: int) -> dict[str, FloatArray]:
    """Accuracy and positive-class (binary) or macro (multiclass) precision, recall, F1
    of a stack of confusion matrices (s, k, k or k + 1; the extra column: predictions
    outside the known classes), as the metrics from labels compute them."""
    n = confusion.sum(axis=(1, 2))
    tp = np.diagonal(confusion[:, :, :k], axis1=1, axis2=2)
    predicted = confusion[:, :, :k].sum(axis=1)
    actual = confusion.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(predicted > 0, tp / predicted, 0.0)
        rec = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
        accuracy = tp.sum(axis=1) / n
    if k == 2:
        return {"accuracy": accuracy, "precision": prec[:, 1], "recall": rec[:, 1], "f1": f1[:, 1]}
    # realised macro averages run over the classes present in the truth or predictions;
    # expected counts below half a row count as absent
    present = (predicted + actual) >= 0.5
    count = np.maximum(present.sum(axis=1), 1)
    return {
        "accuracy": accuracy,
        "precision": (prec * present).sum(axis=1) / count,
        "recall": (rec * present).sum(axis=1) / count,
        "f1": (f1 * present).sum(axis=1) / count,
    }
