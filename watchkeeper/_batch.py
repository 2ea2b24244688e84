"""Adapters: turn any supported batch container into named 1-D numpy arrays.

Supported containers, each imported lazily so the core needs none of them:

- pandas ``DataFrame`` (and a ``Series`` of one row is not a batch: pass a dict),
- polars ``DataFrame``,
- pyarrow ``Table`` or ``RecordBatch``,
- a dict of equal-length sequences or arrays (columnar),
- a list of row dicts,
- one row as a dict of scalars.

The adapters keep values as they come (no kind coercion); :mod:`watchkeeper.schema`
checks and converts them against a schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from watchkeeper.errors import InvalidBatchError

__all__ = ["Columns", "Factorized", "to_columns", "value_at"]


class Factorized:
    """A column already dictionary-encoded by its source: ``uniques[codes[i]]``, -1 missing.

    pandas string and category columns arrive this way (one ``factorize`` in C instead
    of a million Python objects), and the schema converts only the distinct values.
    """

    def __init__(self, codes: npt.NDArray[np.int64], uniques: npt.NDArray[Any]) -> None:
        self.codes = codes
        self.uniques = uniques

    def __len__(self) -> int:
        return len(self.codes)

    def materialize(self, limit: int | None = None) -> npt.NDArray[Any]:
        """Plain object array (``None`` for missing), of the first ``limit`` rows."""
        codes = self.codes if limit is None else self.codes[:limit]
        out = np.empty(len(codes), dtype=object)
        ok = codes >= 0
        out[ok] = self.uniques[codes[ok]]
        return out


Column = npt.NDArray[Any] | Factorized
Columns = dict[str, Column]


def value_at(column: Column, row: int) -> Any:
    """The raw value of one row, whatever the column's form."""
    if isinstance(column, Factorized):
        code = int(column.codes[row])
        return None if code < 0 else column.uniques[code]
    return column[row]


def _module(obj: object) -> str:
    return type(obj).__module__.split(".", 1)[0]


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | bytes | int | float | bool | np.generic)


def _object_array(values: Sequence[Any]) -> npt.NDArray[Any]:
    # np.array would split nested sequences into a 2-D array; build 1-D explicitly
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _as_array(name: str, values: Any) -> npt.NDArray[Any]:
    if isinstance(values, np.ndarray):
        arr = values
    elif _module(values) in {"pandas", "polars", "pyarrow"} and hasattr(values, "to_numpy"):
        arr = np.asarray(values.to_numpy())
    elif isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidBatchError(
            f"column {name!r}: expected a sequence of values, got {type(values).__name__}",
            field=name,
            value=values,
            expected="a list or 1-D array",
        )
    else:
        scalars = all(_is_scalar(v) for v in values[:64])
        arr = np.asarray(values) if scalars else _object_array(values)
        if arr.ndim != 1 or arr.dtype.kind in {"U", "S"}:
            arr = _object_array(values)
    if arr.ndim != 1:
        raise InvalidBatchError(
            f"column {name!r}: expected a 1-D array, got shape {arr.shape}",
            field=name,
            value=arr.shape,
            expected="1-D",
        )
    return arr


def _from_pandas(df: Any) -> Columns:
    out: Columns = {}
    for name in df.columns:
        series = df[name]
        if str(series.dtype).startswith("datetime64") and getattr(series.dt, "tz", None):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        if series.dtype.kind in "OUT" or str(series.dtype) in {"category", "str", "string"}:
            codes, uniques = series.factorize()
            out[str(name)] = Factorized(
                np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)
            )
        else:
            out[str(name)] = np.asarray(series.to_numpy())
    return out


def _from_arrow(table: Any) -> Columns:
    out: Columns = {}
    for name in table.column_names:
        col = table.column(name)
        out[str(name)] = np.asarray(col.to_numpy(zero_copy_only=False))
    return out


def _from_rows(rows: Sequence[Mapping[str, Any]]) -> Columns:
    names: dict[str, None] = {}
    first = rows[0].keys() if rows and isinstance(rows[0], Mapping) else None
    for i, row in enumerate(rows):
        if first is not None and type(row) is dict and row.keys() == first and names:
            continue  # same keys as the first row (the usual case): nothing new
        if not isinstance(row, Mapping):
            raise InvalidBatchError(
                f"row {i}: expected a mapping of column to value, got {type(row).__name__}",
                field=f"rows[{i}]",
                value=row,
                expected="a dict",
            )
        names.update(dict.fromkeys(row))
    # a key absent from a row is a missing value in that row, not an error
    return {str(n): _as_array(str(n), [row.get(n) for row in rows]) for n in names}


def to_columns(batch: Any) -> tuple[Columns, int]:
    """Return ``(columns, n_rows)`` for any supported container.

    Parameters
    ----------
    batch
        A pandas or polars DataFrame, a pyarrow Table, a dict of arrays, a list of row
        dicts, or one row as a dict of scalars.

    Raises
    ------
    InvalidBatchError
        For an unsupported container or columns of different lengths.

    Examples
    --------
    >>> cols, n = to_columns([{"age": 31, "city": "Oslo"}, {"age": 40}])
    >>> n, cols["age"].tolist(), cols["city"].tolist()
    (2, [31, 40], ['Oslo', None])
    """
    module = _module(batch)
    if module == "pandas" and hasattr(batch, "columns"):
        columns = _from_pandas(batch)
    elif module == "polars" and hasattr(batch, "columns"):
        columns = {str(n): _as_array(str(n), batch[n]) for n in batch.columns}
    elif module == "pyarrow" and hasattr(batch, "column_names"):
        columns = _from_arrow(batch)
    elif isinstance(batch, Mapping):
        if batch and all(_is_scalar(v) for v in batch.values()):
            columns = {str(k): _object_array([v]) for k, v in batch.items()}
        else:
            columns = {
                str(k): v if isinstance(v, Factorized) else _as_array(str(k), v)
                for k, v in batch.items()
            }
    elif isinstance(batch, Sequence) and not isinstance(batch, str | bytes):
        columns = _from_rows(batch)
    else:
        raise InvalidBatchError(
            f"batch: expected a DataFrame, Arrow table, dict of arrays or list of row dicts, "
            f"got {type(batch).__name__}",
            field="batch",
            value=type(batch).__name__,
            expected="DataFrame, Table, dict or list of dicts",
        )
    lengths = {name: len(arr) for name, arr in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidBatchError(
            f"batch: columns have different lengths {lengths}; expected equal lengths",
            field="batch",
            value=lengths,
            expected="columns of equal length",
        )
    n_rows = next(iter(lengths.values()), 0)
    return columns, n_rows
