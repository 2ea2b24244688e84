"""Rows to look at, from a window's row sample: values the reference never saw (the
feature page) and the model's mistakes once labels arrived (error analysis).

Both read the window's :class:`~watchkeeper.profile.reservoir.Reservoir` (kept when the
model keeps one: ``multivariate`` or ``reservoir_size``), so they show a uniform sample
of the window's rows, never more than the reservoir holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from watchkeeper.monitor.analysis import ReferenceContext, Task
from watchkeeper.monitor.multivariate import ID_COLUMN
from watchkeeper.monitor.window import WindowState
from watchkeeper.store.base import Labelled

__all__ = ["example_rows", "misclassified_rows"]


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: missing values as ``None``."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in r.items()} for r in clean.to_dict("records")]


def example_rows(
    state: WindowState, reference: ReferenceContext, feature: str, limit: int = 10
) -> dict[str, Any]:
    """Rows of a window's sample whose ``feature`` is outside what the reference saw:
    below its minimum or above its maximum (numbers), or not among its categories.
    ``{"reason", "rows" (up to ``limit``, every column), "matching", "sampled"}``."""
    sample = state.sample
    ref = reference.profile.columns.get(feature)
    if sample is None or ref is None or feature not in sample.columns():
        return {"reason": "", "rows": [], "matching": 0, "sampled": 0}
    values = sample.columns()[feature]
    low, high = getattr(ref, "min", None), getattr(ref, "max", None)
    counts = getattr(ref, "counts", None)
    if values.dtype.kind == "f" and low is not None and high is not None:
        mask = np.isfinite(values) & ((values < low) | (values > high))
        reason = f"outside the reference's range [{low:.6g}, {high:.6g}]"
    elif counts is not None:
        known = set(counts)
        mask = np.array([v is not None and v not in known for v in values], dtype=bool)
        reason = "not among the reference's categories"
    else:
        return {"reason": "", "rows": [], "matching": 0, "sampled": len(sample)}
    return {
        "reason": reason,
        "rows": _records(sample.rows()[mask].head(limit)),
        "matching": int(mask.sum()),
        "sampled": len(sample),
    }


def misclassified_rows(
    state: WindowState, labelled: Labelled, task: Task, limit: int = 10
) -> dict[str, Any]:
    """The sampled rows of a window whose label arrived and differs from the prediction
    (classification), or with the largest absolute errors (regression), each with its
    ``label``: ``{"kind", "rows", "matching", "labelled"}`` where ``labelled`` counts the
    sampled rows with a label and ``matching`` the mistakes among them."""
    sample = state.sample
    out: dict[str, Any] = {"kind": task.kind or "", "rows": [], "matching": 0, "labelled": 0}
    if sample is None or ID_COLUMN not in sample.columns() or not labelled.ids:
        return out
    truth = dict(zip(labelled.ids, labelled.labels, strict=True))
    rows = sample.rows()
    label = rows[ID_COLUMN].map(truth)
    known = label.notna().to_numpy()
    out["labelled"] = int(known.sum())
    pred = task.prediction
    if pred is None or pred not in rows.columns or not known.any():
        return out
    rows = rows[known].assign(label=label[known])
    if task.kind == "regression":
        error = (rows[pred].astype(float) - rows["label"].astype(float)).abs()
        rows = rows.assign(abs_error=error).sort_values("abs_error", ascending=False)
        out["matching"] = len(rows)
    else:
        rows = rows[rows[pred].astype(str) != rows["label"].astype(str)]
        out["matching"] = len(rows)
    out["rows"] = _records(rows.head(limit))
    return out
