"""Per-segment profiles: one dataset profile per value of a segment column, bounded.

A *segment column* (``region``, ``channel``) splits the rows; :class:`SegmentProfile`
keeps one :class:`~watchkeeper.profile.DatasetProfile` per tracked value of it, plus one
for ``"other"`` (values not tracked, and missing values). :class:`SegmentSet` holds one
per segment column. Both merge and serialise like every profile.

Which values are tracked
------------------------
With a reference, the ``top_k`` most frequent values of the reference's column
(``fixed``): every window tracks the same values, so merges are exact. Without one, the
first ``top_k`` values seen (first come); when two profiles together track more than
``top_k`` values, the merge keeps the ``top_k`` with the most rows and folds the others'
profiles into ``"other"`` (profiles merge, so no row is lost; which values stay tracked
then depends on the order of merges, as for the categorical profile's exact counts).

Memory
------
At most ``top_k + 1`` dataset profiles per segment column, whatever the number of
distinct values (a 100,000-value column costs the same as a 21-value one). Each is
built with a smaller KLL sketch (``k`` = :data:`SEGMENT_K`) than the main profile: a
segment's drift is judged on the reference's bins, which are exact counts, so the
sketch only serves quantiles. An empty per-segment profile of 14 columns is ~7 kB
and a full one ~45 kB (``benchmarks/bench_segments.py`` prints the figures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from watchkeeper.errors import ColumnNotFoundError, ConfigError, ProfileFormatError
from watchkeeper.profile import codec
from watchkeeper.profile._segment_parts import (
    concat_batches,
    layout_from_state,
    layout_state,
    take_rows,
)
from watchkeeper.profile.categorical import CategoricalProfile
from watchkeeper.profile.dataset import ColumnLayout, DatasetProfile
from watchkeeper.schema import Encoded, Schema, ValidatedBatch
from watchkeeper.types import FloatArray, IntArray

__all__ = [
    "DEFAULT_TOP_K",
    "FLUSH_ROWS",
    "OTHER_SEGMENT",
    "SEGMENT_K",
    "SegmentProfile",
    "SegmentSet",
]

DEFAULT_TOP_K = 20
"""Values of a segment column tracked one by one; the rest are ``"other"``."""
OTHER_SEGMENT = "other"
"""The segment of untracked and missing values (a real value ``"other"`` joins it)."""
SEGMENT_K = 64
"""KLL accuracy parameter of per-segment profiles (about 2.5% rank error)."""
FLUSH_ROWS = 16_384
"""Rows buffered before they are folded into the per-segment profiles (also folded
whenever the profiles are read): the buffer holds at most this many rows plus one
batch, as validated arrays."""
_SEGMENT_KINDS = ("categorical", "boolean", "text")


def _check_top_k(top_k: Any) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ConfigError(
            f"segment_top_k: expected an integer >= 1, got {top_k!r}",
            field="segment_top_k",
            value=top_k,
            expected="an integer >= 1",
        )
    return top_k


class SegmentProfile:
    """Profiles of the rows of each tracked value of one segment column, plus ``other``.

    Parameters
    ----------
    column
        The segment column (categorical, boolean or text in ``schema``).
    schema, layout
        What each per-segment profile holds, on which bins (the reference's layout).
    values
        Tracked values, fixed (e.g. the reference's most frequent); ``None``: first come.
    top_k
        Cap on tracked values.
    k
        KLL parameter of the per-segment profiles.

    Raises
    ------
    ConfigError
        ``top_k`` is not a positive integer, or the column is numeric.
    ColumnNotFoundError
        The column is not in the schema.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> rng = np.random.default_rng(0)
    >>> data = {"x": rng.normal(size=300), "region": rng.choice(["n", "s", "e"], 300)}
    >>> ref = profile_table(data)
    >>> seg = SegmentProfile.for_reference("region", ref, top_k=2).update_table(data)
    >>> seg.values, seg.counts()
    (['e', 'n'], {'e': 106, 'n': 99, 'other': 95})
    """

    def __init__(
        self,
        column: str,
        schema: Schema,
        *,
        layout: Mapping[str, ColumnLayout] | None = None,
        values: Sequence[str] | None = None,
        top_k: int = DEFAULT_TOP_K,
        k: int = SEGMENT_K,
    ) -> None:
        if column not in schema:
            raise ColumnNotFoundError(
                f"segments: column {column!r} is not in the schema; expected one of: "
                f"{', '.join(schema.names)}",
                field="segments",
                value=column,
                expected=", ".join(schema.names),
            )
        if schema[column].kind not in _SEGMENT_KINDS:
            raise ConfigError(
                f"segments: column {column!r} is {schema[column].kind}; expected a "
                "categorical, boolean or text column",
                field="segments",
                value=column,
                expected="a categorical, boolean or text column",
            )
        self.column = column
        self.schema = schema
        self.layout = dict(layout or {})
        self.top_k = _check_top_k(top_k)
        self.k = k
        self.fixed = values is not None
        self._values: list[str] = list(values or [])[: self.top_k]
        self._profiles: dict[str, DatasetProfile] = {}
        self._pending: list[tuple[ValidatedBatch, FloatArray | None]] = []
        self._pending_rows = 0

    @property
    def values(self) -> list[str]:
        """The tracked values (each has its own profile; the rest are ``other``)."""
        self.flush()
        return self._values

    @property
    def profiles(self) -> dict[str, DatasetProfile]:
        """``{segment: profile}`` of the segments seen (buffered rows are added first)."""
        self.flush()
        return self._profiles

    @profiles.setter
    def profiles(self, profiles: dict[str, DatasetProfile]) -> None:
        self.flush()
        self._profiles = profiles

    @classmethod
    def for_reference(
        cls,
        column: str,
        reference: DatasetProfile,
        *,
        top_k: int = DEFAULT_TOP_K,
        k: int = SEGMENT_K,
    ) -> SegmentProfile:
        """Track the reference's ``top_k`` most frequent values of ``column``, on its layout."""
        col = reference.columns.get(column)
        counts = (
            col.counts
            if isinstance(col, CategoricalProfile)
            else getattr(getattr(col, "values", None), "counts", {})
        )
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: _check_top_k(top_k)]
        return cls(
            column,
            reference.schema,
            layout=reference.layout(),
            values=sorted(v for v, _ in ranked),
            top_k=top_k,
            k=k,
        )

    def empty_like(self) -> SegmentProfile:
        """A new empty profile tracking the same values."""
        out = SegmentProfile(
            self.column,
            self.schema,
            layout=self.layout,
            values=self.values,
            top_k=self.top_k,
            k=self.k,
        )
        out.fixed = self.fixed
        return out

    def _new(self) -> DatasetProfile:
        return DatasetProfile(self.schema, layout=self.layout, k=self.k)

    # -- updates --------------------------------------------------------------------

    def assign(self, data: Encoded) -> tuple[list[str], IntArray]:
        """Each row's segment: the keys and one index into them per row (growing the
        tracked values first come when not fixed)."""
        index = {v: i for i, v in enumerate(self._values)}
        lut = np.empty(len(data.values) + 1, dtype=np.int64)
        for code, value in enumerate(data.values.tolist()):
            text = str(value)
            i = index.get(text)
            if i is None and not self.fixed and len(self._values) < self.top_k:
                present = bool(np.any(data.codes == code))
                if present:
                    i = index[text] = len(self._values)
                    self._values.append(text)
            lut[code] = -1 if i is None else i
        keys = [*self._values, OTHER_SEGMENT]
        lut[lut == -1] = len(keys) - 1
        lut[-1] = len(keys) - 1  # code -1 (missing) reads lut[-1]
        return keys, lut[data.codes]

    def update(
        self, batch: ValidatedBatch, *, timestamps: FloatArray | None = None
    ) -> SegmentProfile:
        """Add a validated batch, each row to its segment's profile; returns self.

        Batches are buffered until :data:`FLUSH_ROWS` rows wait (or anything is read),
        then one stable sort groups the rows and each segment present gets one
        vectorised profile update: a profile update has a fixed cost per column, which
        small batches split over 21 segments would pay 21 times per batch.
        """
        if batch.n_rows == 0 or not isinstance(batch.columns.get(self.column), Encoded):
            return self
        self._pending.append((batch, timestamps))
        self._pending_rows += batch.n_rows
        if self._pending_rows >= FLUSH_ROWS:
            self.flush()
        return self

    def flush(self) -> None:
        """Fold the buffered rows into the segments' profiles."""
        if not self._pending:
            return
        pending, self._pending, self._pending_rows = self._pending, [], 0
        batch = concat_batches([b for b, _ in pending])
        ts: FloatArray | None = None
        if all(t is not None for _, t in pending):
            ts = np.concatenate([np.asarray(t, dtype=np.float64) for _, t in pending])
        self._fold(batch, ts)

    def _fold(self, batch: ValidatedBatch, timestamps: FloatArray | None) -> None:
        data = batch.columns[self.column]
        assert isinstance(data, Encoded)  # checked in update
        keys, rows = self.assign(data)
        order = np.argsort(rows, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=len(keys)))))
        for i, key in enumerate(keys):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            if lo == hi:
                continue
            idx = order[lo:hi]
            profile = self._profiles.get(key)
            if profile is None:
                profile = self._profiles[key] = self._new()
            ts = None if timestamps is None else timestamps[idx]
            profile.update_validated(take_rows(batch, idx), timestamps=ts)

    def update_table(self, data: Any) -> SegmentProfile:
        """Validate a table against the schema (lenient) and add it; returns self."""
        from watchkeeper.schema import validate

        return self.update(validate(data, self.schema, strict=False, allow_extra=True))

    # -- results --------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Rows per segment seen so far, ``{segment: rows}``, sorted by segment."""
        return {k: self.profiles[k].n_rows for k in sorted(self.profiles)}

    # -- merge and bytes ------------------------------------------------------------

    def merge(self, other: SegmentProfile) -> SegmentProfile:
        """A new profile holding both inputs' rows (same column and schema)."""
        if other.column != self.column or other.schema != self.schema:
            raise ConfigError(
                f"merge: segment profiles of {self.column!r} and {other.column!r} (or of "
                "different schemas); expected the same column and schema",
                field="segments",
                value=other.column,
                expected=self.column,
            )
        profiles: dict[str, DatasetProfile] = {}
        for src in (self, other):
            for key, prof in src.profiles.items():
                mine = profiles.get(key)
                profiles[key] = prof if mine is None else mine.merge(prof)
        values = list(dict.fromkeys([*self.values, *other.values]))
        fixed = self.fixed and other.fixed and self.values == other.values
        if len(values) > self.top_k:
            rows = {v: profiles[v].n_rows if v in profiles else 0 for v in values}
            values = sorted(sorted(values, key=lambda v: (-rows[v], v))[: self.top_k])
            for key in [k for k in profiles if k != OTHER_SEGMENT and k not in values]:
                moved = profiles.pop(key)
                rest = profiles.get(OTHER_SEGMENT)
                profiles[OTHER_SEGMENT] = moved if rest is None else rest.merge(moved)
        out = SegmentProfile(
            self.column, self.schema, layout=self.layout, values=values, top_k=self.top_k, k=self.k
        )
        out.fixed = fixed
        out._profiles = profiles
        return out

    def to_state(self) -> dict[str, Any]:
        """A codec-ready mapping (each segment's profile as its own checked bytes)."""
        return {
            "column": self.column,
            "values": list(self.values),
            "fixed": self.fixed,
            "top_k": self.top_k,
            "k": self.k,
            "profiles": {key: p.to_bytes() for key, p in self.profiles.items()},
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], schema: Schema, layout: Mapping[str, ColumnLayout] | None
    ) -> SegmentProfile:
        out = cls(
            str(state["column"]),
            schema,
            layout=layout,
            values=[str(v) for v in state["values"]],
            top_k=int(state["top_k"]),
            k=int(state["k"]),
        )
        out.fixed = bool(state["fixed"])
        out._profiles = {str(k): DatasetProfile.from_bytes(b) for k, b in state["profiles"].items()}
        return out


class SegmentSet:
    """One :class:`SegmentProfile` per segment column: what a window keeps of segments.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> data = {"x": np.arange(6.0), "region": ["n", "s", "n", "s", "n", "e"]}
    >>> ref = profile_table(data)
    >>> seg = SegmentSet.for_reference(["region"], ref, top_k=2).update_table(data)
    >>> again = SegmentSet.from_bytes(seg.to_bytes())
    >>> again["region"].counts(), again.merge(seg)["region"].counts()
    ({'n': 3, 'other': 1, 's': 2}, {'n': 6, 'other': 2, 's': 4})
    """

    def __init__(self, parts: Mapping[str, SegmentProfile]) -> None:
        self.parts = dict(parts)

    @classmethod
    def for_reference(
        cls, columns: Sequence[str], reference: DatasetProfile, *, top_k: int = DEFAULT_TOP_K
    ) -> SegmentSet:
        """Track each column's ``top_k`` values of ``reference``, on its layout."""
        return cls({c: SegmentProfile.for_reference(c, reference, top_k=top_k) for c in columns})

    @classmethod
    def for_schema(
        cls,
        columns: Sequence[str],
        schema: Schema,
        *,
        layout: Mapping[str, ColumnLayout] | None = None,
        top_k: int = DEFAULT_TOP_K,
    ) -> SegmentSet:
        """First-come tracked values (no reference)."""
        return cls({c: SegmentProfile(c, schema, layout=layout, top_k=top_k) for c in columns})

    def __getitem__(self, column: str) -> SegmentProfile:
        return self.parts[column]

    def __iter__(self) -> Any:
        return iter(self.parts.values())

    def empty_like(self) -> SegmentSet:
        """New empty profiles tracking the same values."""
        return SegmentSet({c: p.empty_like() for c, p in self.parts.items()})

    def update(self, batch: ValidatedBatch, *, timestamps: FloatArray | None = None) -> SegmentSet:
        for part in self.parts.values():
            part.update(batch, timestamps=timestamps)
        return self

    def update_table(self, data: Any) -> SegmentSet:
        for part in self.parts.values():
            part.update_table(data)
        return self

    def merge(self, other: SegmentSet) -> SegmentSet:
        """Merge column by column; a column only one side has is kept as it is."""
        out = dict(self.parts)
        for column, part in other.parts.items():
            mine = out.get(column)
            out[column] = part if mine is None else mine.merge(part)
        return SegmentSet(out)

    def to_bytes(self) -> bytes:
        """Versioned, checksummed bytes (:mod:`watchkeeper.profile.codec`)."""
        first = next(iter(self.parts.values()), None)
        return codec.encode(
            {
                "type": "segment_set",
                "schema": None if first is None else first.schema.to_dict(),
                "layout": None if first is None else layout_state(first.layout),
                "columns": {c: p.to_state() for c, p in self.parts.items()},
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SegmentSet:
        """Read :meth:`to_bytes` output; foreign or corrupt bytes raise ProfileFormatError."""
        state = codec.decode(data)
        try:
            if state.get("type") != "segment_set":
                raise ProfileFormatError(
                    f"segment bytes: hold a {state.get('type')!r}; expected a segment_set",
                    field="type",
                    value=state.get("type"),
                    expected="segment_set",
                )
            if state["schema"] is None:
                return cls({})
            schema = Schema.from_dict(state["schema"])
            layout = layout_from_state(state["layout"])
            return cls(
                {
                    c: SegmentProfile.from_state(s, schema, layout)
                    for c, s in state["columns"].items()
                }
            )
        except ProfileFormatError:
            raise
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ProfileFormatError(
                f"segment bytes: inconsistent content ({exc!r}); expected a complete segment set",
                field="payload",
                value=None,
                expected="a complete segment set",
            ) from exc
