"""Profile of a categorical or boolean column: exact counts, frequent others, cardinality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import datasketches as ds
import numpy as np

from watchkeeper.errors import ConfigError, IncompatibleProfilesError
from watchkeeper.schema import Encoded
from watchkeeper.types import IntArray

__all__ = ["DEFAULT_MAX_EXACT", "CategoricalProfile"]

DEFAULT_MAX_EXACT = 1000
"""Distinct values counted exactly before the rest are summarised as "other"."""

_HLL_LG_K = 12  # about 1.6% relative standard error on cardinality, 2.5 kB
_FI_LG_MAX_MAP = 6  # a frequent-items map of 64 slots for the "other" values


class CategoricalProfile:
    """Mergeable summary of a categorical (or boolean) column.

    Values are counted exactly while they are *tracked*. The tracked set is either fixed
    by a reference (``categories``: the reference's values, so that every window counts
    the same categories and their count vectors line up) or, without one, grows with
    the data up to ``max_exact`` values. Values beyond it are counted in ``other``, and
    the most frequent of them are estimated by a frequent-items sketch (so new
    categories can be named). An HLL sketch estimates the number of distinct values.

    Parameters
    ----------
    categories
        Fixed tracked values, from a reference. ``None`` grows the set.
    max_exact
        Cap on the tracked set when it grows.
    kind
        ``"categorical"`` or ``"boolean"``.

    Notes
    -----
    With fixed categories, merging is exactly associative and commutative for every
    count; the sketches merge within their bounds. When the set grows and the cap is
    reached, which values stay exact depends on arrival order (the first ``max_exact``
    distinct values win); totals stay exact.

    References
    ----------
    Flajolet et al. (2007), "HyperLogLog". Anderson et al. (2017), "A high-performance
    algorithm for identifying frequent items in data streams".

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.schema import Encoded
    >>> col = Encoded(np.array([0, 1, 0, -1]), np.array(["a", "b"], dtype=object))
    >>> p = CategoricalProfile(categories=["a"]).update(col)
    >>> p.counts, p.other, p.missing, p.top_other()
    ({'a': 2}, 1, 1, [('b', 1)])
    """

    def __init__(
        self,
        *,
        categories: Sequence[str] | None = None,
        max_exact: int = DEFAULT_MAX_EXACT,
        kind: Literal["categorical", "boolean"] = "categorical",
    ) -> None:
        if max_exact < 1:
            raise ConfigError(
                f"max_exact: expected an integer >= 1, got {max_exact!r}",
                field="max_exact",
                value=max_exact,
                expected=">= 1",
            )
        self.kind = kind
        self.max_exact = max_exact
        self.fixed = categories is not None
        self.counts: dict[str, int] = {str(c): 0 for c in categories} if categories else {}
        self.other = 0
        self.missing = 0
        self.frequent = ds.frequent_strings_sketch(_FI_LG_MAX_MAP)
        self.hll = ds.hll_sketch(_HLL_LG_K)

    def update(self, column: Encoded) -> CategoricalProfile:
        """Add a dictionary-encoded batch. One ``bincount``; loops only over distinct values."""
        codes = column.codes
        present = codes >= 0
        self.missing += int(len(codes) - present.sum())
        if not present.any():
            return self
        per_value = np.bincount(codes[present], minlength=len(column.values))
        for code in np.flatnonzero(per_value):
            self._add(str(column.values[code]), int(per_value[code]))
        return self

    def _add(self, value: str, n: int) -> None:
        self.hll.update(value)
        if value in self.counts:
            self.counts[value] += n
        elif not self.fixed and len(self.counts) < self.max_exact:
            self.counts[value] = n
        else:
            self.other += n
            self.frequent.update(value, n)

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        """A new profile equal to the profile of both inputs' rows."""
        if not isinstance(other, CategoricalProfile) or other.kind != self.kind:
            raise IncompatibleProfilesError(
                f"merge: expected a {self.kind} profile, got {getattr(other, 'kind', other)!r}",
                field="kind",
                value=getattr(other, "kind", None),
                expected=self.kind,
            )
        if self.fixed != other.fixed or (self.fixed and self.counts.keys() != other.counts.keys()):
            raise IncompatibleProfilesError(
                "merge: the two profiles track different categories; expected profiles "
                "built against the same reference",
                field="categories",
                value=sorted(other.counts)[:10],
                expected=str(sorted(self.counts)[:10]),
            )
        out = CategoricalProfile(
            categories=list(self.counts) if self.fixed else None,
            max_exact=max(self.max_exact, other.max_exact),
            kind=self.kind,
        )
        for src in (self, other):
            out.missing += src.missing
            out.other += src.other
            out.frequent.merge(src.frequent)
            for value, n in src.counts.items():
                if value in out.counts:
                    out.counts[value] += n
                elif len(out.counts) < out.max_exact:
                    out.counts[value] = n
                else:
                    out.other += n
                    out.frequent.update(value, n)
        union = ds.hll_union(_HLL_LG_K)
        union.update(self.hll)
        union.update(other.hll)
        out.hll = union.get_result()
        return out

    # -- results --------------------------------------------------------------------

    @property
    def count(self) -> int:
        """Non-missing values."""
        return sum(self.counts.values()) + self.other

    @property
    def n_total(self) -> int:
        """Every row seen, missing included."""
        return self.count + self.missing

    @property
    def cardinality(self) -> float:
        """Estimated number of distinct values (HLL; exact while small)."""
        return float(self.hll.get_estimate())

    def top_other(self, n: int = 10) -> list[tuple[str, int]]:
        """The most frequent untracked values with estimated counts (new categories)."""
        rows = self.frequent.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
        return [(str(item), int(est)) for item, est, _lo, _hi in rows[:n]]

    def count_vector(self, categories: Sequence[str]) -> IntArray:
        """Counts of ``categories`` in that order, then everything else in one last slot."""
        known = [self.counts.get(c, 0) for c in categories]
        return np.array([*known, self.count - sum(known)], dtype=np.int64)

    # -- state for the codec ----------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Plain state: numbers, lists and bytes (see :mod:`watchkeeper.profile.codec`)."""
        return {
            "kind": self.kind,
            "max_exact": self.max_exact,
            "fixed": self.fixed,
            "values": list(self.counts),
            "counts": list(self.counts.values()),
            "other": self.other,
            "missing": self.missing,
            "frequent": bytes(self.frequent.serialize()),
            "hll": bytes(self.hll.serialize_compact()),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CategoricalProfile:
        """Inverse of :meth:`to_state`."""
        values = [str(v) for v in state["values"]]
        out = cls(
            categories=values if state["fixed"] else None,
            max_exact=int(state["max_exact"]),
            kind=state["kind"],
        )
        counts = [int(c) for c in state["counts"]]
        if len(counts) != len(values):
            raise ValueError("counts: length does not match the values")
        out.counts = dict(zip(values, counts, strict=True))
        out.other = int(state["other"])
        out.missing = int(state["missing"])
        out.frequent = ds.frequent_strings_sketch.deserialize(state["frequent"])
        out.hll = ds.hll_sketch.deserialize(state["hll"])
        return out

    def __repr__(self) -> str:
        return (
            f"CategoricalProfile(kind={self.kind!r}, count={self.count}, "
            f"missing={self.missing}, tracked={len(self.counts)}, other={self.other})"
        )
