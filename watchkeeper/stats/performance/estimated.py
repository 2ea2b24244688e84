"""Performance estimated without labels, from calibrated scores (confidence-based).

While labels are late, a binary classifier's expected confusion matrix follows from its
calibrated probabilities: a row with positive-class probability p predicted positive is a
true positive with probability p and a false positive with 1 − p; predicted negative, a
false negative with p and a true negative with 1 − p. Summing gives expected TP, FP, FN,
TN, hence expected accuracy, precision, recall and F1 (ratios of expectations).

This is only as good as the calibration, so a :class:`Calibrator` is fitted on the
reference's scores and labels (histogram binning on score quantiles: the observed
positive rate per bin, made monotone by pooling adjacent violators) and applied to
current scores before estimating. The estimate assumes the relation between score and
label has not changed (no concept drift); when it has, estimated and realised
performance part ways, which is itself the signal.

References
----------
Zadrozny & Elkan (2001), "Obtaining calibrated probability estimates from decision trees
and naive Bayesian classifiers". NannyML, "Confidence-based performance estimation".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper.errors import InvalidBatchError
from watchkeeper.types import FloatArray

__all__ = ["Calibrator", "EstimatedMetrics", "estimate_binary"]


def _pool_adjacent_violators(rate: FloatArray, weight: FloatArray) -> FloatArray:
    """Least-squares non-decreasing fit of ``rate`` with ``weight`` (isotonic regression)."""
    blocks: list[list[float]] = []  # [value, weight, length]
    for r, w in zip(rate.tolist(), weight.tolist(), strict=True):
        blocks.append([r, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            total = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / total if total else v2, total, n1 + n2])
    return np.repeat([b[0] for b in blocks], [int(b[2]) for b in blocks]).astype(np.float64)


class Calibrator:
    """Monotone histogram-binning calibration of binary scores.

    Parameters
    ----------
    n_bins
        Quantile bins of the reference scores.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=20_000)
    >>> y = rng.uniform(size=20_000) < p ** 2          # scores overconfident
    >>> cal = Calibrator().fit(p, y)
    >>> round(float(cal.transform(np.array([0.5]))[0]), 2)
    0.24
    """

    def __init__(self, n_bins: int = 20) -> None:
        if n_bins < 1:
            raise InvalidBatchError(
                f"n_bins: expected an integer >= 1, got {n_bins!r}",
                field="n_bins",
                value=n_bins,
                expected=">= 1",
            )
        self.n_bins = n_bins

    def fit(self, scores: Any, labels: Any) -> Calibrator:
        """Learn the observed positive rate per score bin; returns self."""
        s = np.asarray(scores, dtype=np.float64)
        y = np.asarray(labels).astype(bool)
        if s.shape != y.shape or s.size == 0:
            raise InvalidBatchError(
                f"labels: {y.size} labels for {s.size} scores; expected equal, non-empty",
                field="labels",
                value=y.size,
                expected=str(s.size),
            )
        edges = np.unique(np.quantile(s, np.linspace(0, 1, self.n_bins + 1)))
        idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, max(len(edges) - 2, 0))
        k = max(len(edges) - 1, 1)
        count = np.bincount(idx, minlength=k).astype(np.float64)
        pos = np.bincount(idx, weights=y.astype(np.float64), minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(count > 0, pos / count, 0.0)
        self.edges_ = edges
        self.rate_ = _pool_adjacent_violators(rate, count)
        return self

    def transform(self, scores: Any) -> FloatArray:
        """Calibrated probabilities for new scores."""
        s = np.asarray(scores, dtype=np.float64)
        idx = np.clip(np.searchsorted(self.edges_, s, side="right") - 1, 0, len(self.rate_) - 1)
        out: FloatArray = self.rate_[idx]
        return out


@dataclass(frozen=True)
class EstimatedMetrics:
    """Expected binary-classification performance of one window, without labels."""

    n: int
    accuracy: float
    precision: float
    recall: float
    f1: float


def estimate_binary(probabilities: Any, threshold: float = 0.5) -> EstimatedMetrics:
    """Expected accuracy, precision, recall and F1 from calibrated probabilities.

    Examples
    --------
    >>> e = estimate_binary([0.9, 0.8, 0.3, 0.1])
    >>> e.n, round(e.accuracy, 3), round(e.precision, 3), round(e.recall, 3)
    (4, 0.825, 0.85, 0.81)
    """
    p = np.asarray(probabilities, dtype=np.float64)
    p = p[np.isfinite(p)]
    if p.size == 0:
        return EstimatedMetrics(0, math.nan, math.nan, math.nan, math.nan)
    predicted = p >= threshold
    tp = float(p[predicted].sum())
    fp = float((1 - p[predicted]).sum())
    fn = float(p[~predicted].sum())
    tn = float((1 - p[~predicted]).sum())
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return EstimatedMetrics(
        n=int(p.size), accuracy=(tp + tn) / p.size, precision=precision, recall=recall, f1=f1
    )
