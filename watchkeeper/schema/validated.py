"""What validation produces: encoded columns, the problems found, the validated batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from watchkeeper.types import FloatArray, IntArray, ObjectArray

__all__ = ["ColumnData", "Encoded", "Issue", "Problem", "ValidatedBatch"]


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
