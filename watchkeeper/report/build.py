"""The offline comparison of a current dataset with a reference: drift and data quality
per column, from two profiles.

:func:`build_report` takes two :class:`~watchkeeper.profile.DatasetProfile` — the
reference's with its own quantile bins and categories, the current one profiled on that
layout — judges drift with :class:`~watchkeeper.stats.DriftDetector` and adds, per column,
what an engineer checks next to a drift verdict: missing values, values outside the
reference's range, new categories, summary statistics, and the two distributions on the
reference's bins. :func:`compare_frames` does the profiling from two data frames in
memory; :func:`watchkeeper.report.files.compare_files` from two files batch by batch (what
``watchkeeper report`` and ``watchkeeper check`` run).

Everything here returns frozen dataclasses; HTML and JSON are built from them in
:mod:`watchkeeper.report.html` and :mod:`watchkeeper.report.json`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from watchkeeper.binning import slot_labels
from watchkeeper.errors import SchemaError
from watchkeeper.profile import (
    CategoricalProfile,
    DatasetProfile,
    NumericProfile,
    TextProfile,
    profile_table,
)
from watchkeeper.profile.quality import missing_ratio, new_categories, out_of_range_share
from watchkeeper.schema import Schema
from watchkeeper.stats import DatasetDrift, DriftConfig, DriftDetector
from watchkeeper.stats.multivariate import MultivariateFindings
from watchkeeper.stats.verdict import ColumnDrift

__all__ = [
    "ColumnReport",
    "Distribution",
    "Report",
    "build_report",
    "compare_frames",
    "distribution",
]

Progress = Callable[[str, int, int | None], None]
"""Called with ``(stage, rows done, rows in all or None)`` as the work goes on (the CLI
draws a progress bar per stage)."""


@dataclass(frozen=True)
class Distribution:
    """Reference and current shares of rows on the reference's slots.

    Attributes
    ----------
    kind
        ``"numeric"``: slots are below ``edges[0]``, the reference's quantile bins, and
        above ``edges[-1]`` (the layout of :mod:`watchkeeper.binning`); ``"categorical"``:
        the reference's categories by frequency, then one slot for every other value.
    labels
        One label per slot.
    edges
        Bin edges (numeric only).
    reference, current
        Shares of the side's non-missing values per slot (each sums to 1, or is all
        zeros when the side has no value).
    """

    kind: str
    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] | None = None


@dataclass(frozen=True)
class ColumnReport:
    """One column of the comparison.

    Attributes
    ----------
    name, kind, role
        From the reference's schema.
    drift
        The drift verdict; ``None`` for a column that is not judged (ids, labels,
        timestamps, datetimes, or a column with no values on one side).
    absent
        The column is in the reference but not in the current data.
    rows
        ``(reference, current)`` rows.
    missing
        ``(reference, current)`` missing ratios (NaN and ±inf count as missing).
    type_errors
        Current values of the wrong type (kept as missing).
    out_of_range
        Share of current values below the reference's minimum or above its maximum
        (numeric), else ``None``.
    new_category_share, new_categories
        Share of current values that are not reference categories, and those the profile
        can name with their counts (categorical), else ``None`` and ``{}``.
    summary
        Side-by-side statistics: ``{name: (reference, current)}`` — mean, std, min,
        max for numbers; cardinality for categories; empty share and mean length for text.
    distribution
        The two distributions for a chart, when the column has a layout.
    """

    name: str
    kind: str
    role: str
    drift: ColumnDrift | None
    absent: bool
    rows: tuple[int, int]
    missing: tuple[float, float]
    type_errors: int
    out_of_range: float | None
    new_category_share: float | None
    new_categories: Mapping[str, int]
    summary: Mapping[str, tuple[float, float]]
    distribution: Distribution | None

    @property
    def drifted(self) -> bool:
        """The drift verdict, ``False`` for a column that was not judged."""
        return bool(self.drift is not None and self.drift.drifted)


@dataclass(frozen=True)
class Report:
    """A current dataset compared with a reference.

    Attributes
    ----------
    reference_name, current_name
        What the two sides are (file names for the CLI).
    rows
        ``(reference, current)`` rows.
    drift
        The dataset verdict (every judged column, the share drifted, the correction).
    columns
        One :class:`ColumnReport` per reference column, in schema order.
    extra_columns
        Columns of the current data the reference does not have.
    config
        The drift configuration used.
    generated_at
        Epoch seconds.
    multivariate
        Multivariate drift and root causes, when asked for
        (:func:`watchkeeper.report.multivariate.add_multivariate`); else ``None``.
    """

    reference_name: str
    current_name: str
    rows: tuple[int, int]
    drift: DatasetDrift
    columns: tuple[ColumnReport, ...]
    extra_columns: tuple[str, ...]
    config: DriftConfig
    generated_at: float = field(default_factory=time.time)
    multivariate: MultivariateFindings | None = None

    def __getitem__(self, name: str) -> ColumnReport:
        """The report of column ``name``; ``KeyError`` when the reference has no such column."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        """Names of the drifted columns, in schema order."""
        return tuple(c.name for c in self.columns if c.drifted)


def build_report(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    config: DriftConfig | None = None,
    column_methods: Mapping[str, str] | None = None,
    reference_name: str = "reference",
    current_name: str = "current",
    current_columns: Iterable[str] | None = None,
) -> Report:
    """Compare ``current`` with ``reference``: drift and data quality per column.

    Parameters
    ----------
    reference
        The reference's profile, with its own layout (``profile_table(frame)``).
    current
        The current profile on the reference's layout (``profile_table(frame,
        reference=ref)``); on another layout the shares are read off its sketches.
    config, column_methods
        Passed to :class:`~watchkeeper.stats.DriftDetector`.
    reference_name, current_name
        Shown in the report.
    current_columns
        The current data's column names, when known: reference columns not among them
        are reported absent, and those the reference lacks as extra (a profile cannot
        tell on its own).

    Returns
    -------
    Report

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> rng = np.random.default_rng(0)
    >>> ref = profile_table(
    ...     {"age": rng.normal(40, 10, 5_000), "city": rng.choice(["a", "b"], 5_000)}
    ... )
    >>> cur = profile_table(
    ...     {"age": rng.normal(45, 10, 2_000), "city": rng.choice(["a", "b", "c"], 2_000)},
    ...     reference=ref,
    ... )
    >>> report = build_report(ref, cur)
    >>> report.drifted_columns
    ('age', 'city')
    >>> sorted(report["city"].new_categories), round(report["city"].new_category_share, 1)
    (['c'], 0.3)
    """
    config = config or DriftConfig()
    detector = DriftDetector(config, column_methods=column_methods).fit(reference)
    verdict = detector.compare(current)
    judged = {c.column: c for c in verdict.columns}
    names = [str(c) for c in current_columns] if current_columns is not None else None
    known = {spec.name for spec in reference.schema}
    gone = known - set(names) if names is not None else set()
    columns = []
    for spec in reference.schema:
        ref_col = reference.columns[spec.name]
        cur_col = current.columns.get(spec.name)
        if cur_col is None:
            raise SchemaError(
                f"column {spec.name!r}: in the reference profile but not in the current one",
                field=spec.name,
                value=None,
                expected="the same schema on both sides",
            )
        columns.append(
            _column(spec.name, spec.kind, spec.role, ref_col, cur_col, current, judged, gone)
        )
    return Report(
        reference_name=reference_name,
        current_name=current_name,
        rows=(reference.n_rows, current.n_rows),
        drift=verdict,
        columns=tuple(columns),
        extra_columns=tuple(n for n in names or () if n not in known),
        config=config,
    )


def compare_frames(
    reference: Any,
    current: Any,
    *,
    schema: Schema | None = None,
    config: DriftConfig | None = None,
    column_methods: Mapping[str, str] | None = None,
    reference_name: str = "reference",
    current_name: str = "current",
    progress: Progress | None = None,
) -> Report:
    """Profile two pandas data frames and compare them (:func:`build_report`).

    The reference's schema is inferred unless ``schema`` is given; the current frame is
    validated against it leniently, so values of the wrong type count as type errors and
    a column the current frame lacks is reported as absent rather than failing.
    """
    tell = progress or (lambda _stage, _done, _total: None)
    rows = (len(reference), len(current))
    tell("profiling the reference", 0, rows[0])
    ref = profile_table(reference, schema)
    tell("profiling the reference", rows[0], rows[0])
    tell("profiling the current data", 0, rows[1])
    cur = profile_table(current, reference=ref)
    tell("profiling the current data", rows[1], rows[1])
    tell("judging drift", 0, None)
    return build_report(
        ref,
        cur,
        config=config,
        column_methods=column_methods,
        reference_name=reference_name,
        current_name=current_name,
        current_columns=current.columns,
    )


# -- one column ---------------------------------------------------------------------------


def _column(
    name: str,
    kind: str,
    role: str,
    ref: Any,
    cur: Any,
    current: DatasetProfile,
    judged: Mapping[str, ColumnDrift],
    absent: set[str],
) -> ColumnReport:
    out_of_range: float | None = None
    new_share: float | None = None
    named: dict[str, int] = {}
    summary: dict[str, tuple[float, float]] = {}
    if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
        out_of_range = out_of_range_share(cur, ref)
        for stat in ("mean", "std", "min", "max"):
            summary[stat] = (_stat(ref, stat), _stat(cur, stat))
    elif isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        new_share, named = new_categories(cur, ref, limit=20)
        summary["cardinality"] = (ref.cardinality, cur.cardinality)
    elif isinstance(ref, TextProfile) and isinstance(cur, TextProfile):
        summary["empty share"] = (ref.empty_ratio, cur.empty_ratio)
        summary["mean length"] = (_stat(ref.lengths, "mean"), _stat(cur.lengths, "mean"))
    return ColumnReport(
        name=name,
        kind=kind,
        role=role,
        drift=judged.get(name),
        absent=name in absent,
        rows=(ref.n_total, cur.n_total),
        missing=(missing_ratio(ref), missing_ratio(cur)),
        type_errors=int(current.type_errors.get(name, 0)),
        out_of_range=out_of_range,
        new_category_share=new_share,
        new_categories=named,
        summary=summary,
        distribution=distribution(ref, cur),
    )


def _stat(col: NumericProfile, name: str) -> float:
    if not col.count:
        return math.nan
    return float(getattr(col, name))


def _shares(counts: Sequence[int] | np.ndarray) -> tuple[float, ...]:
    values = [int(x) for x in counts]
    total = sum(values)
    return tuple(v / total if total else 0.0 for v in values)


def distribution(ref: Any, cur: Any | None) -> Distribution | None:
    """Reference and current shares on the reference's slots, or ``None`` when the
    reference column has no layout (text) or the sides are of different kinds.

    Exact counts when ``cur`` was profiled on the reference's layout, else read off its
    sketch (numeric); ``cur=None`` gives the reference alone, with zero current shares.
    """
    if isinstance(ref, NumericProfile) and ref.edges is not None and ref.bin_counts is not None:
        if cur is not None and not isinstance(cur, NumericProfile):
            return None
        current = cur.histogram(ref.edges) if cur is not None else np.zeros_like(ref.bin_counts)
        return Distribution(
            kind="numeric",
            labels=tuple(slot_labels(ref.edges)),
            reference=_shares(ref.bin_counts),
            current=_shares(current),
            edges=tuple(float(e) for e in ref.edges),
        )
    if isinstance(ref, CategoricalProfile):
        if cur is not None and not isinstance(cur, CategoricalProfile):
            return None
        cats = sorted(ref.counts, key=lambda k: -ref.counts[k])
        tracked = [cur.counts.get(k, 0) if cur is not None else 0 for k in cats]
        other = cur.count - sum(tracked) if cur is not None else 0
        return Distribution(
            kind="categorical",
            labels=(*cats, "other (not in reference)"),
            reference=_shares([*(ref.counts[k] for k in cats), ref.other]),
            current=_shares([*tracked, other]),
        )
    return None
