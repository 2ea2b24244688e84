"""Converting one raw column to a column kind; bad values become missing and are marked."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt

from watchkeeper._batch import Column, Factorized
from watchkeeper.schema.validated import ColumnData, Encoded
from watchkeeper.types import ColumnKind, FloatArray, IntArray

__all__ = ["convert_column", "missing_mask"]


def missing_mask(arr: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    if arr.dtype.kind == "f":
        return np.asarray(np.isnan(arr), dtype=bool)
    if arr.dtype.kind == "M":
        return np.asarray(np.isnat(arr), dtype=bool)
    if arr.dtype.kind == "O":
        # None, float NaN, pandas NA/NaT: the only values unequal to themselves or None
        with np.errstate(invalid="ignore"):
            ne = np.asarray(arr != arr, dtype=bool)
        is_none: npt.NDArray[np.bool_] = np.asarray(arr == None, dtype=bool)  # noqa: E711
        return ne | is_none
    return np.zeros(len(arr), dtype=bool)


class _Bad:
    """Collects the bad rows of one column: a mask plus the first example."""

    def __init__(self, n: int) -> None:
        self.mask = np.zeros(n, dtype=bool)

    def add(self, mask: npt.NDArray[np.bool_]) -> None:
        self.mask |= mask


def _to_float(arr: npt.NDArray[Any], missing: npt.NDArray[np.bool_], bad: _Bad) -> FloatArray:
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64)
    filled = np.where(missing, np.nan, arr) if missing.any() else arr
    try:
        out = np.asarray(filled.astype(np.float64))
    except (TypeError, ValueError):
        out = np.full(len(arr), np.nan)
        for i in np.flatnonzero(~missing):  # error path only: find the bad values
            v = arr[i]
            try:
                if isinstance(v, bytes | dict | list | tuple | set):
                    raise TypeError
                out[i] = float(v)
            except (TypeError, ValueError):
                bad.mask[i] = True
    return out


def _canonical_category(value: Any) -> str | None:
    """The category string of a scalar, or None when the value is not a category."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    return None


def _factorize(arr: npt.NDArray[Any]) -> tuple[IntArray, npt.NDArray[Any]]:
    import pandas as pd

    try:
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)
    except TypeError:  # unhashable values (lists, dicts): the slow path below finds them
        pass
    missing = missing_mask(arr)
    slow_codes = np.full(len(arr), -1, dtype=np.int64)
    index: dict[Any, int] = {}
    seen: list[Any] = []
    for i in np.flatnonzero(~missing):
        v = arr[i]
        key = (type(v).__name__, repr(v)) if not isinstance(v, str | int | float) else v
        if key not in index:
            index[key] = len(seen)
            seen.append(v)
        slow_codes[i] = index[key]
    out = np.empty(len(seen), dtype=object)
    out[:] = seen
    return slow_codes, out


def _encode(codes: IntArray, uniques: npt.NDArray[Any], kind: ColumnKind, bad: _Bad) -> Encoded:
    labels: list[str | None] = []
    for u in uniques:
        if kind == "text":
            labels.append(u if isinstance(u, str) else None)
        elif kind == "boolean":
            labels.append(_boolean_label(u))
        else:
            labels.append(_canonical_category(u))
    # several raw values may share one label (1 and "1"); map to the label's first index
    label_index: dict[str, int] = {}
    remap = np.empty(len(uniques) + 1, dtype=np.int64)
    remap[-1] = -1
    bad_codes = []
    for i, label in enumerate(labels):
        if label is None:
            remap[i] = -1
            bad_codes.append(i)
        else:
            remap[i] = label_index.setdefault(label, len(label_index))
    if bad_codes:
        bad.add(np.isin(codes, bad_codes))
    values = np.empty(len(label_index), dtype=object)
    values[:] = list(label_index)
    return Encoded(remap[codes], values)


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _boolean_label(value: Any) -> str | None:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer | float | np.floating) and value in (0, 1):
        return "true" if value == 1 else "false"
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return "true"
        if low in _FALSE:
            return "false"
    return None


def _to_epoch_seconds(
    arr: npt.NDArray[Any], missing: npt.NDArray[np.bool_], bad: _Bad
) -> FloatArray:
    if arr.dtype.kind == "M":
        ns = arr.astype("datetime64[ns]").astype(np.int64).astype(np.float64) / 1e9
        ns[missing] = np.nan
        return ns
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64)
    out = np.full(len(arr), np.nan)
    import pandas as pd

    present = ~missing
    values = arr[present]
    numbers = (
        np.array(
            [
                isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
                for v in values
            ],
            dtype=bool,
        )
        if values.size
        else np.zeros(0, dtype=bool)
    )
    parsed = np.full(values.size, np.nan)
    if numbers.any():
        parsed[numbers] = values[numbers].astype(np.float64)
    others = ~numbers
    if others.any():
        stamps = pd.to_datetime(
            pd.Series(values[others]), errors="coerce", utc=True, format="mixed"
        )
        # unit-free: pandas may hold ns or us depending on version and input
        epoch = pd.Timestamp(0, tz="UTC")
        secs = ((stamps - epoch) / pd.Timedelta(seconds=1)).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        parsed[others] = secs
    out[present] = parsed
    failed = np.zeros(len(arr), dtype=bool)
    failed[present] = np.isnan(parsed)
    bad.add(failed)
    return out


def convert_column(arr: Column, kind: ColumnKind) -> tuple[ColumnData, _Bad]:
    """Convert one raw column to ``kind``; bad values become missing and are marked."""
    bad = _Bad(len(arr))
    if isinstance(arr, Factorized):
        if kind in ("categorical", "boolean", "text"):
            return _encode(arr.codes, arr.uniques, kind, bad), bad
        # convert each distinct value once, then spread to the rows
        data, bad_uniques = convert_column(arr.uniques, kind)
        converted = cast(FloatArray, data)  # numeric and datetime always give floats
        present = arr.codes >= 0
        out = np.full(len(arr), np.nan)
        out[present] = converted[arr.codes[present]]
        bad.add(present & bad_uniques.mask[np.maximum(arr.codes, 0)])
        return out, bad
    if kind in ("categorical", "boolean", "text"):
        if kind == "text" and arr.dtype.kind not in "OUS":
            bad.add(~missing_mask(arr))
            return Encoded(np.full(len(arr), -1, dtype=np.int64), np.empty(0, dtype=object)), bad
        if arr.dtype.kind == "b":
            return Encoded(arr.astype(np.int64), np.array(["false", "true"], dtype=object)), bad
        if arr.dtype.kind in "US":
            arr = arr.astype(object)
        codes, uniques = _factorize(arr)
        return _encode(codes, uniques, kind, bad), bad
    missing = missing_mask(arr)
    if kind == "numeric":
        return _to_float(arr, missing, bad), bad
    return _to_epoch_seconds(arr, missing, bad), bad
