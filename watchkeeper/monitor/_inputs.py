"""Turn what a model service hands to ``log()`` into columns: outputs, ids, errors, tags."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from watchkeeper._batch import Column, Columns, Factorized, to_columns
from watchkeeper.errors import InvalidBatchError
from watchkeeper.types import FloatArray

__all__ = [
    "PREDICTION",
    "as_floats",
    "as_texts",
    "batch_outputs",
    "error_kinds",
    "latencies",
    "row_outputs",
    "take",
]

PREDICTION = "prediction"
"""Output column of a bare prediction (a score, a class, a number or a text)."""


def row_outputs(outputs: Any) -> dict[str, Any]:
    """One prediction's outputs as ``{column: value}``.

    A mapping is taken as it is (``{"label": "fraud", "score": 0.93}``, or class
    probabilities ``{"cat": 0.1, "dog": 0.9}``); a sequence of numbers is class
    probabilities ``proba_0…``; anything else is the bare ``prediction``.
    """
    if outputs is None:
        return {}
    if isinstance(outputs, Mapping):
        return {str(k): v for k, v in outputs.items()}
    if isinstance(outputs, list | tuple | np.ndarray) and np.ndim(outputs) == 1:
        return {f"proba_{i}": v for i, v in enumerate(outputs)}
    return {PREDICTION: outputs}


def batch_outputs(outputs: Any, n: int) -> Columns:
    """A batch's outputs as columns of ``n`` rows (same shapes as :func:`row_outputs`, one
    level up: a 1-D array is ``prediction``, a 2-D array ``proba_0…``, a frame or dict of
    arrays its columns)."""
    if outputs is None:
        return {}
    if (
        isinstance(outputs, Mapping)
        or hasattr(outputs, "columns")
        or hasattr(outputs, "column_names")
    ) or (isinstance(outputs, Sequence) and outputs and isinstance(outputs[0], Mapping)):
        columns, m = to_columns(outputs)
    else:
        arr = np.asarray(outputs.to_numpy() if hasattr(outputs, "to_numpy") else outputs)
        if arr.ndim == 2:
            columns = {f"proba_{i}": arr[:, i] for i in range(arr.shape[1])}
            m = arr.shape[0]
        elif arr.ndim == 1:
            columns, m = {PREDICTION: arr}, arr.shape[0]
        else:
            raise InvalidBatchError(
                f"outputs: expected one value or one row of values per prediction, "
                f"got shape {arr.shape}",
                field="outputs",
                value=arr.shape,
                expected="1-D or 2-D",
            )
    if m != n:
        raise InvalidBatchError(
            f"outputs: {m} rows for {n} predictions; expected one per prediction",
            field="outputs",
            value=m,
            expected=str(n),
        )
    return columns


def take(columns: Columns, idx: npt.NDArray[np.intp]) -> Columns:
    """The rows ``idx`` of every column."""
    return {
        name: Factorized(col.codes[idx], col.uniques) if isinstance(col, Factorized) else col[idx]
        for name, col in columns.items()
    }


def as_texts(column: Column | None, n: int) -> list[str | None]:
    """Values as text, ``None`` for missing (the form predictions are kept in)."""
    if column is None:
        return [None] * n
    if isinstance(column, Factorized):
        uniques = [None if _missing(v) else _text(v) for v in column.uniques.tolist()]
        return [uniques[c] if c >= 0 else None for c in column.codes.tolist()]
    return [None if _missing(v) else _text(v) for v in column.tolist()]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 2**53 else repr(value)
    return str(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def as_floats(column: Column | None, n: int) -> FloatArray:
    """Values as floats, NaN where missing or not a number."""
    if column is None or isinstance(column, Factorized):
        return np.full(n, np.nan)
    try:
        return np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        out = np.full(n, np.nan)
        for i, v in enumerate(column.tolist()):
            with contextlib.suppress(TypeError, ValueError):
                out[i] = float(v)
        return out


def latencies(value: Any, n: int) -> FloatArray | None:
    """Latency in seconds per row (one value for all, or one per row); ``None`` if absent."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise InvalidBatchError(
            f"latency: {arr.size} values for {n} rows; expected one per row",
            field="latency",
            value=arr.size,
            expected=str(n),
        )
    return arr


def error_kinds(value: Any, n: int) -> list[str]:
    """The error kind of each row, ``""`` for none: ``True`` is ``"error"``, a string or
    an exception its kind, ``None``/``False``/empty no error. One value applies to all
    rows; ``[]`` when no row failed."""
    if value is None or value is False:
        return []
    if isinstance(value, str | bool | BaseException):
        kind = _kind(value)
        return [kind] * n if kind else []
    values = list(value)
    if len(values) != n:
        raise InvalidBatchError(
            f"error: {len(values)} values for {n} rows; expected one per row",
            field="error",
            value=len(values),
            expected=str(n),
        )
    kinds = [_kind(v) for v in values]
    return kinds if any(kinds) else []


def _kind(value: Any) -> str:
    if value is None or value is False or value == "" or _missing(value):
        return ""
    if value is True:
        return "error"
    if isinstance(value, BaseException):
        return type(value).__name__
    return str(value)[:64]
