"""Checking a batch against a :class:`~watchkeeper.schema.spec.Schema`."""

from __future__ import annotations

from typing import Any

import numpy as np

from watchkeeper._batch import to_columns, value_at
from watchkeeper.errors import ColumnNotFoundError, ColumnTypeError, InvalidBatchError
from watchkeeper.schema.convert import convert_column
from watchkeeper.schema.spec import Schema
from watchkeeper.schema.validated import ColumnData, Encoded, Issue, ValidatedBatch
from watchkeeper.types import ColumnKind

__all__ = ["validate"]

_EXPECTED: dict[ColumnKind, str] = {
    "numeric": "a number",
    "categorical": "a category (string, integer or boolean)",
    "boolean": "a boolean (true/false, 1/0)",
    "text": "a string",
    "datetime": "a timestamp (datetime, ISO 8601 string or epoch seconds)",
}


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
