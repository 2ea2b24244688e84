"""Column kinds, schema inference and batch validation.

A :class:`Schema` names each column's *kind* (how it is profiled and compared) and
*role* (what it is to the model). It is declared, or inferred from a reference batch by
:func:`infer_schema`, with declared kinds overriding inference.

Inference rules (documented here because users rely on them):

- ``bool`` values → ``boolean``.
- Integers with at most ``max_int_categories`` (default 10) distinct values →
  ``categorical`` (codes such as a rating or a number of children); other integers and
  all floats → ``numeric``.
- ``datetime64`` values and ``datetime``/``date`` objects → ``datetime``.
- Strings → ``text`` when they look like free text (median length of at least 30
  characters, or more than 50 distinct values that are over half of the rows), else
  ``categorical``.
- Object columns mixing types take the kind of the majority of their non-missing
  values; the minority values are type errors at validation.
- An all-missing or empty column cannot be inferred: a :class:`SchemaError` asks for a
  declaration.

:func:`validate` converts a batch to arrays of the schema's kinds and reports every
missing column, extra column and value of the wrong type, naming the column, the value,
its row and what was expected. ``strict=True`` raises on the first problem;
``strict=False`` (the serving path) turns bad values into missing values and returns the
problems as :class:`Issue` records, so nothing raises into a model's request path.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

import numpy as np
import numpy.typing as npt

from watchkeeper._batch import Column, Columns, Factorized, to_columns, value_at
from watchkeeper.errors import (
    ColumnNotFoundError,
    ColumnTypeError,
    InvalidBatchError,
    SchemaError,
)
from watchkeeper.types import ColumnKind, ColumnRole, FloatArray, IntArray, ObjectArray

__all__ = [
    "KINDS",
    "ColumnSpec",
    "Encoded",
    "Issue",
    "Schema",
    "ValidatedBatch",
    "infer_schema",
    "validate",
]

KINDS: tuple[ColumnKind, ...] = get_args(ColumnKind)
ROLES: tuple[ColumnRole, ...] = get_args(ColumnRole)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a schema.

    Parameters
    ----------
    name
        Column name as it appears in batches.
    kind
        One of ``numeric``, ``categorical``, ``boolean``, ``text``, ``datetime``.
    role
        One of ``feature`` (default), ``output``, ``label``, ``id``, ``timestamp``.
    """

    name: str
    kind: ColumnKind
    role: ColumnRole = "feature"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SchemaError(
                f"column {self.name!r}: unknown kind {self.kind!r}; expected one of: "
                + ", ".join(KINDS),
                field=self.name,
                value=self.kind,
                expected=", ".join(KINDS),
            )
        if self.role not in ROLES:
            raise SchemaError(
                f"column {self.name!r}: unknown role {self.role!r}; expected one of: "
                + ", ".join(ROLES),
                field=self.name,
                value=self.role,
                expected=", ".join(ROLES),
            )


@dataclass(frozen=True)
class Schema:
    """An ordered set of :class:`ColumnSpec`.

    Examples
    --------
    >>> s = Schema.from_dict({"age": "numeric", "score": {"kind": "numeric", "role": "output"}})
    >>> s.names, s["score"].role
    (('age', 'score'), 'output')
    """

    columns: tuple[ColumnSpec, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for col in self.columns:
            if col.name in seen:
                raise SchemaError(
                    f"column {col.name!r}: declared twice; expected unique names",
                    field=col.name,
                    value=col.name,
                    expected="unique column names",
                )
            seen.add(col.name)

    @classmethod
    def from_dict(cls, spec: Mapping[str, str | Mapping[str, str]]) -> Schema:
        """Build from ``{name: kind}`` or ``{name: {"kind": ..., "role": ...}}``."""
        cols = []
        for name, value in spec.items():
            if isinstance(value, str):
                cols.append(ColumnSpec(name, cast(ColumnKind, value)))
            else:
                unknown = set(value) - {"kind", "role"}
                if unknown or "kind" not in value:
                    raise SchemaError(
                        f"column {name!r}: expected keys 'kind' and optional 'role', "
                        f"got {sorted(value)}",
                        field=name,
                        value=dict(value),
                        expected="{'kind': ..., 'role': ...}",
                    )
                cols.append(
                    ColumnSpec(
                        name,
                        cast(ColumnKind, value["kind"]),
                        cast(ColumnRole, value.get("role", "feature")),
                    )
                )
        return cls(tuple(cols))

    def to_dict(self) -> dict[str, dict[str, str]]:
        """The inverse of :meth:`from_dict`."""
        return {c.name: {"kind": c.kind, "role": c.role} for c in self.columns}

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in declaration order."""
        return tuple(c.name for c in self.columns)

    def with_role(self, role: ColumnRole) -> tuple[ColumnSpec, ...]:
        """The columns of one role, e.g. ``schema.with_role("feature")``."""
        return tuple(c for c in self.columns if c.role == role)

    def __getitem__(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise ColumnNotFoundError(
            f"column {name!r}: not in the schema; expected one of: " + ", ".join(self.names),
            field=name,
            value=name,
            expected=", ".join(self.names),
        )

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __iter__(self) -> Iterator[ColumnSpec]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


@dataclass(frozen=True)
class Encoded:
    """A dictionary-encoded column: ``values[codes[i]]`` is row ``i``; code -1 is missing.

    Categorical, boolean and text columns travel in this form, so profiles count
    distinct values with one ``bincount`` instead of hashing every row.
    """

    codes: IntArray
    values: ObjectArray

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, mask: npt.NDArray[np.bool_]) -> Encoded:
        """Rows where ``mask`` is true, with the same dictionary."""
        return Encoded(self.codes[mask], self.values)

    def decode(self) -> ObjectArray:
        """Plain object array of ``str`` with ``None`` for missing values."""
        out = np.empty(len(self.codes), dtype=object)
        ok = self.codes >= 0
        out[ok] = self.values[self.codes[ok]]
        return out


ColumnData = FloatArray | Encoded
"""Numeric and datetime columns are float64 (NaN missing, datetime as epoch seconds);
categorical, boolean and text columns are :class:`Encoded`."""

Problem = Literal["missing_column", "extra_column", "type_error"]


@dataclass(frozen=True)
class Issue:
    """One problem found while validating a batch.

    Attributes
    ----------
    column
        The column at fault.
    problem
        ``missing_column``, ``extra_column`` or ``type_error``.
    count
        How many rows had the problem (all rows for a missing column).
    example
        ``repr`` of the first offending value, if any.
    row
        Row index of the first offending value, if any.
    expected
        What would have been accepted.
    """

    column: str
    problem: Problem
    count: int
    example: str | None
    row: int | None
    expected: str

    @property
    def message(self) -> str:
        """One sentence naming the column, the value and what was expected."""
        if self.problem == "missing_column":
            return f"column {self.column!r}: missing from the batch; expected {self.expected}"
        if self.problem == "extra_column":
            return f"column {self.column!r}: not in the schema; expected {self.expected}"
        more = f" ({self.count} rows in all)" if self.count > 1 else ""
        return (
            f"column {self.column!r}: expected {self.expected}, got {self.example} "
            f"in row {self.row}{more}"
        )


@dataclass(frozen=True)
class ValidatedBatch:
    """A batch converted to the schema's kinds.

    Attributes
    ----------
    n_rows
        Rows in the batch.
    columns
        ``{name: ColumnData}`` for every schema column (an absent column in lenient
        mode is all missing).
    issues
        Problems found; empty when the batch was clean.
    """

    n_rows: int
    columns: dict[str, ColumnData]
    issues: tuple[Issue, ...] = field(default=())

    def type_errors(self) -> dict[str, int]:
        """Rows with a value of the wrong type, per column."""
        return {i.column: i.count for i in self.issues if i.problem == "type_error"}


_EXPECTED: dict[ColumnKind, str] = {
    "numeric": "a number",
    "categorical": "a category (string, integer or boolean)",
    "boolean": "a boolean (true/false, 1/0)",
    "text": "a string",
    "datetime": "a timestamp (datetime, ISO 8601 string or epoch seconds)",
}


def _missing_mask(arr: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
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
    missing = _missing_mask(arr)
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
            bad.add(~_missing_mask(arr))
            return Encoded(np.full(len(arr), -1, dtype=np.int64), np.empty(0, dtype=object)), bad
        if arr.dtype.kind == "b":
            return Encoded(arr.astype(np.int64), np.array(["false", "true"], dtype=object)), bad
        if arr.dtype.kind in "US":
            arr = arr.astype(object)
        codes, uniques = _factorize(arr)
        return _encode(codes, uniques, kind, bad), bad
    missing = _missing_mask(arr)
    if kind == "numeric":
        return _to_float(arr, missing, bad), bad
    return _to_epoch_seconds(arr, missing, bad), bad


def validate(
    batch: Any,
    schema: Schema,
    *,
    strict: bool = True,
    allow_extra: bool = False,
) -> ValidatedBatch:
    """Check a batch against a schema and convert it to the schema's kinds.

    Parameters
    ----------
    batch
        Any container :func:`watchkeeper._batch.to_columns` accepts.
    schema
        The columns expected.
    strict
        Raise on the first problem (reports, API). ``False`` (serving path): bad values
        become missing, an absent column is all missing, and the problems are returned.
    allow_extra
        Ignore columns the schema does not declare instead of reporting them.

    Raises
    ------
    ColumnNotFoundError, ColumnTypeError, InvalidBatchError
        In strict mode, naming the column, the value, the row and what was expected.

    Examples
    --------
    >>> schema = Schema.from_dict({"age": "numeric", "city": "categorical"})
    >>> vb = validate([{"age": 31, "city": "Oslo"}, {"age": "n/a", "city": "Rome"}],
    ...               schema, strict=False)
    >>> vb.columns["age"].tolist(), vb.issues[0].message
    ([31.0, nan], "column 'age': expected a number, got 'n/a' in row 1")
    """
    columns, n_rows = to_columns(batch)
    issues: list[Issue] = []
    out: dict[str, ColumnData] = {}
    for spec in schema:
        if spec.name not in columns:
            issue = Issue(spec.name, "missing_column", n_rows, None, None, "a column of the schema")
            if strict:
                raise ColumnNotFoundError(
                    issue.message, field=spec.name, value=None, expected=issue.expected
                )
            issues.append(issue)
            out[spec.name] = _all_missing(spec.kind, n_rows)
            continue
        raw = columns[spec.name]
        data, bad = convert_column(raw, spec.kind)
        if bad.mask.any():
            rows = np.flatnonzero(bad.mask)
            issue = Issue(
                spec.name,
                "type_error",
                len(rows),
                _describe(value_at(raw, int(rows[0]))),
                int(rows[0]),
                _EXPECTED[spec.kind],
            )
            if strict:
                raise ColumnTypeError(
                    issue.message,
                    field=spec.name,
                    value=value_at(raw, int(rows[0])),
                    expected=issue.expected,
                )
            issues.append(issue)
        out[spec.name] = data
    extra = [name for name in columns if name not in schema]
    if extra and not allow_extra:
        expected = "one of: " + ", ".join(schema.names)
        if strict:
            raise InvalidBatchError(
                f"column {extra[0]!r}: not in the schema; expected {expected}",
                field=extra[0],
                value=extra[0],
                expected=expected,
            )
        issues.extend(Issue(name, "extra_column", n_rows, None, None, expected) for name in extra)
    return ValidatedBatch(n_rows, out, tuple(issues))


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})" if not isinstance(value, str) else text


def _all_missing(kind: ColumnKind, n: int) -> ColumnData:
    if kind in ("numeric", "datetime"):
        return np.full(n, np.nan)
    return Encoded(np.full(n, -1, dtype=np.int64), np.empty(0, dtype=object))


def _infer_kind(name: str, column: Column, max_int_categories: int) -> ColumnKind:
    # a sample of rows is enough to decide a kind
    arr = column.materialize(10_000) if isinstance(column, Factorized) else column
    kind = arr.dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        n_distinct = len(np.unique(arr))
        return "categorical" if n_distinct <= max_int_categories else "numeric"
    if kind == "f":
        if np.isnan(arr).all():
            raise _uninferable(name)
        return "numeric"
    if kind == "M":
        return "datetime"
    if kind in "US":
        arr = arr.astype(object)
    values = arr[~_missing_mask(arr)]
    if values.size == 0:
        raise _uninferable(name)
    votes: dict[ColumnKind, int] = {}
    strings: list[str] = []
    for v in values[:10_000]:  # a sample is enough to decide a kind
        if isinstance(v, bool | np.bool_):
            k: ColumnKind = "boolean"
        elif isinstance(v, int | np.integer | float | np.floating):
            k = "numeric"
        elif isinstance(v, _dt.date | np.datetime64):
            k = "datetime"
        elif isinstance(v, str):
            k = "categorical"
            strings.append(v)
        else:
            k = "categorical"
        votes[k] = votes.get(k, 0) + 1
    winner = max(votes, key=lambda kk: votes[kk])
    if winner == "numeric":
        nums = np.array(
            [
                v
                for v in values[:10_000]
                if isinstance(v, int | float | np.number) and not isinstance(v, bool)
            ],
            dtype=np.float64,
        )
        integral = bool(np.all(np.isfinite(nums) & (nums == np.round(nums))))
        if integral and len(np.unique(nums)) <= max_int_categories:
            return "categorical"
        return "numeric"
    if winner == "categorical" and strings:
        n_distinct = len(set(strings))
        median_len = float(np.median([len(s) for s in strings]))
        if median_len >= 30 or (n_distinct > 50 and n_distinct > 0.5 * len(strings)):
            return "text"
    return winner


def _uninferable(name: str) -> SchemaError:
    return SchemaError(
        f"column {name!r}: cannot infer a kind from a column with no values; "
        "expected a declared kind (one of: " + ", ".join(KINDS) + ")",
        field=name,
        value=None,
        expected="a declared kind",
    )


def infer_schema(
    data: Any,
    *,
    kinds: Mapping[str, ColumnKind] | None = None,
    roles: Mapping[str, ColumnRole] | None = None,
    max_int_categories: int = 10,
) -> Schema:
    """Infer a schema from a batch; declared ``kinds`` and ``roles`` override inference.

    Parameters
    ----------
    data
        Any container :func:`watchkeeper._batch.to_columns` accepts.
    kinds
        Declared kinds by column name; these columns are not inferred.
    roles
        Roles by column name; other columns are features.
    max_int_categories
        Integer columns with at most this many distinct values are categorical.

    Examples
    --------
    >>> import numpy as np
    >>> s = infer_schema({"age": np.arange(100.0), "stars": np.arange(100) % 5,
    ...                   "city": ["Oslo", "Rome"] * 50}, roles={"age": "feature"})
    >>> [(c.name, c.kind) for c in s]
    [('age', 'numeric'), ('stars', 'categorical'), ('city', 'categorical')]
    """
    if max_int_categories < 0:
        raise SchemaError(
            f"max_int_categories: expected an integer >= 0, got {max_int_categories!r}",
            field="max_int_categories",
            value=max_int_categories,
            expected="an integer >= 0",
        )
    columns: Columns
    columns, n_rows = to_columns(data)
    kinds = dict(kinds or {})
    roles = dict(roles or {})
    for name in [*kinds, *roles]:
        if name not in columns:
            raise ColumnNotFoundError(
                f"column {name!r}: declared but not in the data; expected one of: "
                + ", ".join(columns),
                field=name,
                value=name,
                expected=", ".join(columns),
            )
    specs = []
    for name, arr in columns.items():
        kind = kinds.get(name) or _infer_kind(name, arr, max_int_categories)
        specs.append(ColumnSpec(name, kind, roles.get(name, "feature")))
    if not specs:
        raise SchemaError(
            "batch: no columns to infer a schema from; expected at least one column",
            field="batch",
            value=n_rows,
            expected="at least one column",
        )
    return Schema(tuple(specs))
