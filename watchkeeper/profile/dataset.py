"""The dataset profile: one column profile per schema column, rows, time span, type errors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from watchkeeper.binning import DEFAULT_BINS, quantile_edges
from watchkeeper.errors import IncompatibleProfilesError, ProfileFormatError
from watchkeeper.profile import codec
from watchkeeper.profile.categorical import DEFAULT_MAX_EXACT, CategoricalProfile
from watchkeeper.profile.numeric import DEFAULT_K, NumericProfile
from watchkeeper.profile.text import TEXT_MAX_EXACT, TextProfile
from watchkeeper.schema import ColumnSpec, Encoded, Schema, ValidatedBatch, infer_schema, validate
from watchkeeper.types import FloatArray

__all__ = ["ColumnLayout", "ColumnProfile", "DatasetProfile", "profile_table"]

ColumnProfile = NumericProfile | CategoricalProfile | TextProfile

ColumnLayout = dict[str, Any]
"""What a reference fixes for a column: ``{"edges": FloatArray | None,
"categories": list[str] | None}``. Profiles built on the same layout line up bin for
bin and category for category, so they merge exactly and compare without sketches."""


def _new_column(spec: ColumnSpec, layout: ColumnLayout | None, k: int) -> ColumnProfile:
    layout = layout or {}
    edges = layout.get("edges")
    categories = layout.get("categories")
    if spec.kind in ("numeric", "datetime"):
        return NumericProfile(edges=edges, k=k, kind=spec.kind)
    if spec.kind in ("categorical", "boolean"):
        return CategoricalProfile(categories=categories, kind=spec.kind)
    return TextProfile(length_edges=edges, categories=categories, k=k)


class DatasetProfile:
    """Mergeable summary of a batch of rows, in memory that does not grow with them.

    Parameters
    ----------
    schema
        The columns profiled.
    layout
        Reference bins and categories per column (see :data:`ColumnLayout`); build it
        with :meth:`layout` of a reference profile.
    k
        KLL accuracy parameter for numeric columns and text lengths.

    Attributes
    ----------
    columns
        ``{name: column profile}`` in schema order.
    n_rows
        Rows seen.
    start, end
        Event-time span covered (epoch seconds), ``None`` until timestamps are given.
    type_errors
        Rows per column whose value had the wrong type (kept as missing).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> data = {"age": rng.normal(40, 10, 500), "city": rng.choice(["Oslo", "Rome"], 500)}
    >>> ref = profile_table(data)
    >>> cur = DatasetProfile(ref.schema, layout=ref.layout()).update(data)
    >>> both = ref.merge(cur)
    >>> both.n_rows, sum(both.columns["city"].counts.values())
    (1000, 1000)
    """

    def __init__(
        self,
        schema: Schema,
        *,
        layout: Mapping[str, ColumnLayout] | None = None,
        k: int = DEFAULT_K,
    ) -> None:
        self.schema = schema
        self.k = k
        layout = layout or {}
        self.columns: dict[str, ColumnProfile] = {
            spec.name: _new_column(spec, layout.get(spec.name), k) for spec in schema
        }
        self.n_rows = 0
        self.start: float | None = None
        self.end: float | None = None
        self.type_errors: dict[str, int] = {}

    def update(
        self, batch: Any, *, timestamps: FloatArray | None = None, strict: bool = False
    ) -> DatasetProfile:
        """Validate a batch against the schema and add it; returns self.

        ``strict=False`` counts values of the wrong type (and absent columns) as missing
        and records them in :attr:`type_errors`; ``strict=True`` raises instead.
        ``timestamps`` are event times in epoch seconds, one per row.
        """
        return self.update_validated(
            validate(batch, self.schema, strict=strict, allow_extra=not strict),
            timestamps=timestamps,
        )

    def update_validated(
        self, batch: ValidatedBatch, *, timestamps: FloatArray | None = None
    ) -> DatasetProfile:
        """Add an already validated batch (the monitor validates once, then profiles)."""
        for name, column in self.columns.items():
            data = batch.columns[name]
            if isinstance(column, NumericProfile):
                if isinstance(data, Encoded):
                    raise IncompatibleProfilesError(
                        f"column {name!r}: expected numeric data, got encoded values",
                        field=name,
                        value="encoded",
                        expected="float64 array",
                    )
                column.update(data)
            elif isinstance(data, Encoded):
                column.update(data)
            else:
                raise IncompatibleProfilesError(
                    f"column {name!r}: expected encoded values, got a numeric array",
                    field=name,
                    value="float64",
                    expected="encoded values",
                )
        for name, n in batch.type_errors().items():
            self.type_errors[name] = self.type_errors.get(name, 0) + n
        self.n_rows += batch.n_rows
        if timestamps is not None and len(timestamps):
            ts = np.asarray(timestamps, dtype=np.float64)
            self._extend_span(float(np.nanmin(ts)), float(np.nanmax(ts)))
        return self

    def _extend_span(self, start: float | None, end: float | None) -> None:
        if start is not None and not math.isnan(start):
            self.start = start if self.start is None else min(self.start, start)
        if end is not None and not math.isnan(end):
            self.end = end if self.end is None else max(self.end, end)

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """A new profile equal to the profile of both inputs' rows (same schema)."""
        if not isinstance(other, DatasetProfile) or other.schema != self.schema:
            raise IncompatibleProfilesError(
                "merge: the two dataset profiles have different schemas; expected "
                f"columns {list(self.schema.names)}",
                field="schema",
                value=list(other.schema.names) if isinstance(other, DatasetProfile) else other,
                expected=str(list(self.schema.names)),
            )
        out = DatasetProfile.__new__(DatasetProfile)
        out.schema = self.schema
        out.k = max(self.k, other.k)
        out.columns = {
            name: col.merge(other.columns[name])  # type: ignore[arg-type]
            for name, col in self.columns.items()
        }
        out.n_rows = self.n_rows + other.n_rows
        out.start = out.end = None
        out.type_errors = dict(self.type_errors)
        for name, n in other.type_errors.items():
            out.type_errors[name] = out.type_errors.get(name, 0) + n
        out._extend_span(self.start, self.end)
        out._extend_span(other.start, other.end)
        return out

    def layout(self) -> dict[str, ColumnLayout]:
        """This profile's bins and categories, for profiles to be compared with it."""
        out: dict[str, ColumnLayout] = {}
        for name, col in self.columns.items():
            if isinstance(col, NumericProfile):
                out[name] = {"edges": col.edges, "categories": None}
            elif isinstance(col, CategoricalProfile):
                out[name] = {"edges": None, "categories": sorted(col.counts)}
            else:
                cats = sorted(col.values.counts) if col.values.other == 0 else None
                out[name] = {"edges": col.lengths.edges, "categories": cats}
        return out

    # -- bytes ----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Versioned, checksummed bytes (:mod:`watchkeeper.profile.codec`)."""
        return codec.encode(
            {
                "type": "dataset_profile",
                "schema": self.schema.to_dict(),
                "k": self.k,
                "n_rows": self.n_rows,
                "start": self.start,
                "end": self.end,
                "type_errors": self.type_errors,
                "columns": {name: col.to_state() for name, col in self.columns.items()},
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> DatasetProfile:
        """Read :meth:`to_bytes` output; foreign or corrupt bytes raise ProfileFormatError."""
        state = codec.decode(data)
        try:
            if state.get("type") != "dataset_profile":
                raise ProfileFormatError(
                    f"profile bytes: holds a {state.get('type')!r}; expected a dataset_profile",
                    field="type",
                    value=state.get("type"),
                    expected="dataset_profile",
                )
            out = cls.__new__(cls)
            out.schema = Schema.from_dict(state["schema"])
            out.k = int(state["k"])
            out.n_rows = int(state["n_rows"])
            out.start = None if state["start"] is None else float(state["start"])
            out.end = None if state["end"] is None else float(state["end"])
            out.type_errors = {str(k): int(v) for k, v in state["type_errors"].items()}
            out.columns = {}
            for spec in out.schema:
                col_state = state["columns"][spec.name]
                if spec.kind in ("numeric", "datetime"):
                    out.columns[spec.name] = NumericProfile.from_state(col_state)
                elif spec.kind in ("categorical", "boolean"):
                    out.columns[spec.name] = CategoricalProfile.from_state(col_state)
                else:
                    out.columns[spec.name] = TextProfile.from_state(col_state)
        except ProfileFormatError:
            raise
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ProfileFormatError(
                f"profile bytes: inconsistent content ({exc!r}); expected a complete profile",
                field="payload",
                value=None,
                expected="a complete dataset profile",
            ) from exc
        return out

    def __repr__(self) -> str:
        return f"DatasetProfile(n_rows={self.n_rows}, columns={list(self.columns)})"


def _reference_layout(
    schema: Schema, batch: ValidatedBatch, n_bins: int
) -> dict[str, ColumnLayout]:
    layout: dict[str, ColumnLayout] = {}
    for spec in schema:
        data = batch.columns[spec.name]
        if isinstance(data, Encoded):
            present = data.codes[data.codes >= 0]
            per_value = np.bincount(present, minlength=len(data.values))
            cap = TEXT_MAX_EXACT if spec.kind == "text" else DEFAULT_MAX_EXACT
            seen = np.flatnonzero(per_value)
            # keep the most frequent values when there are more than the cap
            top = seen[np.argsort(-per_value[seen], kind="stable")][:cap]
            cats: list[str] | None = sorted(str(v) for v in data.values[top])
            edges = None
            if spec.kind == "text":
                if len(seen) > cap:
                    cats = None
                lengths = np.array([len(str(v)) for v in data.values], dtype=np.float64)
                edges = quantile_edges(lengths[present], n_bins) if present.size else None
            layout[spec.name] = {"edges": edges, "categories": cats}
        else:
            finite = data[np.isfinite(data)]
            edges = quantile_edges(finite, n_bins) if finite.size else None
            layout[spec.name] = {"edges": edges, "categories": None}
    return layout


def profile_table(
    data: Any,
    schema: Schema | None = None,
    *,
    reference: DatasetProfile | None = None,
    timestamps: FloatArray | None = None,
    n_bins: int = DEFAULT_BINS,
    k: int = DEFAULT_K,
    strict: bool = False,
) -> DatasetProfile:
    """Profile a table (a data frame or a mapping of column arrays) in one call.

    Named ``profile_table`` so that ``watchkeeper.profile`` stays the package. Without
    ``reference`` the batch is a reference: its schema is inferred when not given, and
    its own quantile bins and categories become the layout (computed exactly from the
    batch). With ``reference`` the batch is profiled on the reference's schema
    and layout, ready to be compared with it.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = profile_table({"x": rng.normal(size=10_000)})
    >>> cur = profile_table({"x": rng.normal(0.5, 1, 10_000)}, reference=ref)
    >>> int(ref.columns["x"].bin_counts.sum()), int(cur.columns["x"].bin_counts[0])
    (10000, 0)
    """
    if reference is not None:
        return DatasetProfile(reference.schema, layout=reference.layout(), k=k).update(
            data, timestamps=timestamps, strict=strict
        )
    schema = schema or infer_schema(data)
    batch = validate(data, schema, strict=strict, allow_extra=not strict)
    out = DatasetProfile(schema, layout=_reference_layout(schema, batch, n_bins), k=k)
    return out.update_validated(batch, timestamps=timestamps)
