"""Classification performance from labels: accuracy, precision, recall, F1, ROC AUC, log loss.

Pure functions over arrays of true and predicted classes (and, where given, scores), with
the number of labelled rows behind every figure. Binary problems report the positive
class's precision, recall and F1; multiclass problems report their macro average (the
unweighted mean over classes present in the truth or the predictions), as scikit-learn's
``average="binary"`` and ``average="macro"``. ROC AUC needs scores: the positive class's
score for binary problems, one column per class for multiclass (one-vs-rest macro AUC);
it is undefined (NaN) when the truth holds a single class. Log loss needs probabilities
and clips them to [1e-15, 1 − 1e-15].

References
----------
Fawcett (2006), "An introduction to ROC analysis". Hand & Till (2001), "A simple
generalisation of the area under the ROC curve for multiple class classification".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from watchkeeper.errors import InvalidBatchError
from watchkeeper.types import FloatArray, IntArray

__all__ = ["ClassificationMetrics", "classification_metrics", "roc_auc"]

_EPS = 1e-15


@dataclass(frozen=True)
class ClassificationMetrics:
    """Classification performance of one window.

    Attributes
    ----------
    n
        Labelled rows behind every figure.
    classes
        Class labels in the order of the confusion matrix rows and columns.
    confusion
        ``confusion[i][j]``: rows of true class ``classes[i]`` predicted ``classes[j]``.
    """

    n: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float
    log_loss: float
    classes: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]


def _labels(values: Any, name: str) -> npt.NDArray[np.str_]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidBatchError(
            f"{name}: expected a 1-D array of classes, got shape {arr.shape}",
            field=name,
            value=arr.shape,
            expected="1-D",
        )
    if arr.dtype.kind == "b":
        return np.where(arr, "true", "false").astype(str)
    if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    return arr.astype(str)


def roc_auc(y_true: npt.NDArray[np.bool_], score: FloatArray) -> float:
    """Area under the ROC curve by the rank-sum formula (ties count half); NaN if one class.

    Examples
    --------
    >>> import numpy as np
    >>> roc_auc(np.array([False, True, True]), np.array([0.1, 0.8, 0.4]))
    1.0
    """
    pos = int(y_true.sum())
    neg = y_true.size - pos
    if pos == 0 or neg == 0:
        return math.nan
    from scipy.stats import rankdata  # here: scipy.stats is slow to import

    ranks = rankdata(score)
    return float((ranks[y_true].sum() - pos * (pos + 1) / 2) / (pos * neg))


def classification_metrics(
    y_true: Any,
    y_pred: Any,
    *,
    scores: Any = None,
    classes: Sequence[Any] | None = None,
    positive: Any = None,
) -> ClassificationMetrics:
    """Compute classification metrics for one window of labelled predictions.

    Parameters
    ----------
    y_true, y_pred
        True and predicted classes (any hashable labels; compared as strings).
    scores
        Binary: the positive class's probability, shape (n,). Multiclass: probabilities
        shape (n, k) in the order of ``classes``. ``None`` leaves AUC and log loss NaN.
    classes
        All class labels, in score-column order; default: sorted labels seen.
    positive
        The positive class of a binary problem; default: the last of ``classes``.

    Examples
    --------
    >>> m = classification_metrics([0, 1, 1, 0], [0, 1, 0, 0], scores=[0.2, 0.9, 0.4, 0.3])
    >>> m.n, m.accuracy, round(m.f1, 3), m.roc_auc, m.confusion
    (4, 0.75, 0.667, 1.0, ((2, 0), (1, 1)))
    """
    t = _labels(y_true, "y_true")
    p = _labels(y_pred, "y_pred")
    if t.size != p.size:
        raise InvalidBatchError(
            f"y_pred: {p.size} predictions for {t.size} labels; expected equal lengths",
            field="y_pred",
            value=p.size,
            expected=str(t.size),
        )
    if classes is None:
        names = sorted(set(t.tolist()) | set(p.tolist()))
    else:
        names = [str(_labels([c], "classes")[0]) for c in classes]
    n = int(t.size)
    k = len(names)
    nan = math.nan
    if n == 0:
        return ClassificationMetrics(0, nan, nan, nan, nan, nan, nan, tuple(names), ())
    index = {c: i for i, c in enumerate(names)}
    unknown = sorted((set(t.tolist()) | set(p.tolist())) - set(index))
    if unknown:
        raise InvalidBatchError(
            f"classes: label {unknown[0]!r} is not among the declared classes; expected one "
            "of: " + ", ".join(names),
            field="classes",
            value=unknown[0],
            expected=", ".join(names),
        )
    ti = np.array([index[c] for c in t.tolist()], dtype=np.int64)
    pi = np.array([index[c] for c in p.tolist()], dtype=np.int64)
    confusion: IntArray = np.bincount(ti * k + pi, minlength=k * k).reshape(k, k)
    tp = np.diag(confusion).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(confusion.sum(0) > 0, tp / confusion.sum(0), 0.0)
        rec = np.where(confusion.sum(1) > 0, tp / confusion.sum(1), 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    binary = k == 2
    if binary:
        pos = index[str(_labels([positive], "positive")[0])] if positive is not None else 1
        precision, recall, f1_score = float(prec[pos]), float(rec[pos]), float(f1[pos])
    else:
        present = (confusion.sum(0) + confusion.sum(1)) > 0
        precision = float(prec[present].mean())
        recall = float(rec[present].mean())
        f1_score = float(f1[present].mean())
    auc = loss = nan
    if scores is not None:
        s = np.asarray(scores, dtype=np.float64)
        if binary and s.ndim == 1:
            pos_idx = index[str(_labels([positive], "positive")[0])] if positive is not None else 1
            truth = ti == pos_idx
            auc = roc_auc(truth, s)
            prob = np.clip(np.where(truth, s, 1 - s), _EPS, 1 - _EPS)
            loss = float(-np.mean(np.log(prob)))
        elif s.ndim == 2 and s.shape == (n, k):
            aucs = [roc_auc(ti == j, s[:, j]) for j in range(k)]
            defined = [a for a in aucs if not math.isnan(a)]
            auc = float(np.mean(defined)) if defined else nan
            probs = s / s.sum(axis=1, keepdims=True)
            loss = float(-np.mean(np.log(np.clip(probs[np.arange(n), ti], _EPS, 1 - _EPS))))
        else:
            raise InvalidBatchError(
                f"scores: shape {s.shape} does not fit {n} rows and {k} classes; expected "
                f"({n},) for a binary problem or ({n}, {k})",
                field="scores",
                value=s.shape,
                expected=f"({n},) or ({n}, {k})",
            )
    return ClassificationMetrics(
        n=n,
        accuracy=float(tp.sum() / n),
        precision=precision,
        recall=recall,
        f1=f1_score,
        roc_auc=auc,
        log_loss=loss,
        classes=tuple(names),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
    )
