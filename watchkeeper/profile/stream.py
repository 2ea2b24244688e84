"""Profiles of data that does not fit in memory: batch by batch, in two passes for a
reference.

A reference fixes the bins and categories every later profile is counted on, and
:func:`~watchkeeper.profile.profile` takes them exactly from the whole batch. Streamed,
the first pass builds a profile without a layout (quantile sketches, category counts),
:func:`sketched_layout` reads bins and categories off it, and the second pass counts the
reference on them. Memory is one batch plus the profiles, whatever the row count.

The bins come from a seeded sample of each numeric column kept during the first pass
(:class:`~watchkeeper.profile.sample.SeededSample`), not from the KLL sketch, whose coin
flips cannot be seeded: the same files give the same bins, hence the same statistics and
verdicts, in every run. While a column has at most 65,536 values the sample is the whole
column and the bins are exactly those of an in-memory profile; above, each bin holds its
1/``n_bins`` share within about 0.2%. The bins stay fixed, and reference and current are
counted exactly on them, so the drift statistics remain exact for those bins; the first
and last edges are the reference's exact minimum and maximum, so "outside the
reference's range" stays exact too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from watchkeeper.binning import DEFAULT_BINS
from watchkeeper.errors import SchemaError
from watchkeeper.profile.categorical import CategoricalProfile
from watchkeeper.profile.dataset import ColumnLayout, DatasetProfile
from watchkeeper.profile.numeric import DEFAULT_K, NumericProfile
from watchkeeper.profile.sample import SeededSample
from watchkeeper.profile.text import TextProfile
from watchkeeper.schema import Encoded, Schema, ValidatedBatch, infer_schema, validate

__all__ = ["profile_batches", "sketched_layout"]

Batches = Callable[[], Iterable[Any]]
"""Returns a fresh iterable of batches each time it is called (a reference is read twice)."""

RowsDone = Callable[[str, int], None]
"""Called after each batch with the pass — ``"scan"``, a reference's first pass, or
``"count"`` — and the rows profiled so far in it."""


def _edges(col: NumericProfile, n_bins: int) -> np.ndarray | None:
    if col.count == 0:
        return None
    inner = col.quantiles(np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
    return np.unique(np.concatenate([[col.min], inner, [col.max]]).astype(np.float64))


def sketched_layout(
    sketch: DatasetProfile,
    n_bins: int = DEFAULT_BINS,
    samples: dict[str, SeededSample] | None = None,
) -> dict[str, ColumnLayout]:
    """Reference bins and categories read off a profile built without a layout.

    Numeric (and datetime) columns get edges at the ``1/n_bins`` quantiles of their
    seeded sample when ``samples`` has one (the same every run), else of the sketch,
    between the exact minimum and maximum, duplicates removed; categorical columns the
    categories the profile counted exactly; text columns edges on their lengths (from
    ``samples`` too) and their values when the profile kept all of them.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> data = {"x": np.arange(1_000.0), "c": ["a", "b"] * 500}
    >>> sketch = DatasetProfile(profile_table(data).schema).update(data)
    >>> layout = sketched_layout(sketch, n_bins=4)
    >>> edges = layout["x"]["edges"]  # exact ends, quartiles within the sketch's rank error
    >>> float(edges[0]), float(edges[-1]), bool(np.all(abs(edges[1:-1] - [250, 500, 750]) < 10))
    (0.0, 999.0, True)
    >>> layout["c"]["categories"]
    ['a', 'b']
    """
    layout: dict[str, ColumnLayout] = {}
    samples = samples or {}
    for name, col in sketch.columns.items():
        sample = samples.get(name)
        if isinstance(col, CategoricalProfile):
            layout[name] = {"edges": None, "categories": sorted(col.counts)}
            continue
        numeric = col if isinstance(col, NumericProfile) else col.lengths
        if sample is not None:
            edges = sample.edges(n_bins) if numeric.count else None
        else:
            edges = _edges(numeric, n_bins)
        if isinstance(col, NumericProfile):
            layout[name] = {"edges": edges, "categories": None}
        else:
            cats = sorted(col.values.counts) if col.values.other == 0 else None
            layout[name] = {"edges": edges, "categories": cats}
    return layout


def _text_lengths(column: Encoded) -> np.ndarray:
    """Lengths of the present values, as :class:`TextProfile` computes them."""
    present = column.codes >= 0
    strings = column.values.astype(np.dtypes.StringDType())
    lengths = np.strings.str_len(strings).astype(np.float64)
    return np.asarray(lengths[column.codes[present]])


class _Scan:
    """The first pass over a reference: a profile without a layout, and a seeded sample
    of every numeric column and text length for its bins."""

    def __init__(self, schema: Schema, k: int) -> None:
        self.profile = DatasetProfile(schema, k=k)
        self.samples = {
            name: SeededSample(seed=i)
            for i, (name, col) in enumerate(self.profile.columns.items())
            if isinstance(col, NumericProfile | TextProfile)
        }

    def update(self, batch: Any) -> None:
        validated: ValidatedBatch = validate(
            batch, self.profile.schema, strict=False, allow_extra=True
        )
        self.profile.update_validated(validated)
        for name, sample in self.samples.items():
            data = validated.columns[name]
            sample.update(_text_lengths(data) if isinstance(data, Encoded) else data)


def profile_batches(
    batches: Batches,
    schema: Schema | None = None,
    *,
    reference: DatasetProfile | None = None,
    n_bins: int = DEFAULT_BINS,
    k: int = DEFAULT_K,
    rows_done: RowsDone | None = None,
) -> DatasetProfile:
    """Profile batches one at a time (module docstring).

    With ``reference`` the batches are read once and profiled on its schema and layout.
    Without it they are a reference: read twice, the schema inferred from the first batch
    unless given, and the layout taken from the first pass (:func:`sketched_layout`).
    Values of the wrong type count as missing and are recorded in ``type_errors``.

    Raises
    ------
    SchemaError
        The batches are empty, so there is nothing to infer a schema from.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> parts = [{"x": rng.normal(size=1_000)} for _ in range(5)]
    >>> ref = profile_batches(lambda: parts)
    >>> ref.n_rows, int(ref.columns["x"].bin_counts.sum())
    (5000, 5000)
    """
    done = rows_done or (lambda _pass, _rows: None)
    if reference is not None:
        out = DatasetProfile(reference.schema, layout=reference.layout(), k=k)
        return _feed(out, batches(), "count", done)
    iterator = iter(batches())
    first = next(iterator, None)
    if first is None:
        raise SchemaError(
            "batches: expected at least one batch to infer the schema from, got none",
            field="batches",
            value=None,
            expected="one or more batches",
        )
    schema = schema or infer_schema(first)
    scan = _Scan(schema, k)
    scan.update(first)
    done("scan", scan.profile.n_rows)
    for batch in iterator:
        scan.update(batch)
        done("scan", scan.profile.n_rows)
    layout = sketched_layout(scan.profile, n_bins, scan.samples)
    out = DatasetProfile(schema, layout=layout, k=k)
    return _feed(out, batches(), "count", done)


def _feed(
    profile: DatasetProfile, batches: Iterable[Any], name: str, done: RowsDone
) -> DatasetProfile:
    for batch in batches:
        profile.update(batch)
        done(name, profile.n_rows)
    return profile
