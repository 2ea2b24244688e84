"""Profile of a free-text column: length distribution, empty share, low-cardinality values."""

from __future__ import annotations

from typing import Any

import numpy as np

from watchkeeper.errors import IncompatibleProfilesError
from watchkeeper.profile.categorical import CategoricalProfile
from watchkeeper.profile.numeric import DEFAULT_K, NumericProfile
from watchkeeper.schema import Encoded
from watchkeeper.types import FloatArray

__all__ = ["TEXT_MAX_EXACT", "TextProfile"]

TEXT_MAX_EXACT = 100
"""Distinct texts counted exactly; beyond, texts are free-form and only their lengths,
emptiness and cardinality are summarised."""


class TextProfile:
    """Mergeable summary of a text column (a transcript, a query, a generated answer).

    ``lengths`` profiles the number of characters per value (its drift is the text
    column's drift); ``empty`` counts values that are empty or whitespace only (an ASR
    model returning nothing); ``values`` summarises the values themselves as a category
    while there are few of them, and estimates their cardinality always.

    Parameters
    ----------
    length_edges
        Reference bins of the length distribution, or ``None``.
    categories
        Reference values tracked exactly, or ``None`` to grow up to ``TEXT_MAX_EXACT``.
    k
        KLL accuracy parameter of the length sketch.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.schema import Encoded
    >>> col = Encoded(np.array([0, 1, 1, -1]), np.array(["hello world", " "], dtype=object))
    >>> p = TextProfile().update(col)
    >>> p.count, p.empty, p.missing, p.lengths.mean
    (3, 2, 1, 4.333333333333333)
    """

    kind = "text"

    def __init__(
        self,
        *,
        length_edges: FloatArray | None = None,
        categories: list[str] | None = None,
        k: int = DEFAULT_K,
    ) -> None:
        self.lengths = NumericProfile(edges=length_edges, k=k)
        self.values = CategoricalProfile(categories=categories, max_exact=TEXT_MAX_EXACT)
        self.empty = 0

    def update(self, column: Encoded) -> TextProfile:
        """Add a dictionary-encoded batch; lengths are computed once per distinct value."""
        self.values.update(column)
        present = column.codes >= 0
        if not present.any():
            return self
        strings = column.values.astype(np.dtypes.StringDType())
        lengths = np.strings.str_len(strings).astype(np.float64)
        blank = np.strings.str_len(np.strings.strip(strings)) == 0
        codes = column.codes[present]
        self.lengths.update(lengths[codes])
        self.empty += int(blank[codes].sum())
        return self

    def merge(self, other: TextProfile) -> TextProfile:
        """A new profile equal to the profile of both inputs' rows."""
        if not isinstance(other, TextProfile):
            raise IncompatibleProfilesError(
                f"merge: expected a text profile, got {getattr(other, 'kind', other)!r}",
                field="kind",
                value=getattr(other, "kind", None),
                expected="text",
            )
        out = TextProfile.__new__(TextProfile)
        out.lengths = self.lengths.merge(other.lengths)
        out.values = self.values.merge(other.values)
        out.empty = self.empty + other.empty
        return out

    @property
    def count(self) -> int:
        """Non-missing values."""
        return self.values.count

    @property
    def missing(self) -> int:
        """Missing values."""
        return self.values.missing

    @property
    def n_total(self) -> int:
        """Every row seen, missing included."""
        return self.values.n_total

    @property
    def empty_ratio(self) -> float:
        """Share of present values that are empty or whitespace only (NaN when none)."""
        return self.empty / self.count if self.count else float("nan")

    def to_state(self) -> dict[str, Any]:
        """Plain state for :mod:`watchkeeper.profile.codec`."""
        return {
            "kind": "text",
            "lengths": self.lengths.to_state(),
            "values": self.values.to_state(),
            "empty": self.empty,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TextProfile:
        """Inverse of :meth:`to_state`."""
        out = cls.__new__(cls)
        out.lengths = NumericProfile.from_state(state["lengths"])
        out.values = CategoricalProfile.from_state(state["values"])
        out.empty = int(state["empty"])
        return out

    def __repr__(self) -> str:
        return f"TextProfile(count={self.count}, missing={self.missing}, empty={self.empty})"
