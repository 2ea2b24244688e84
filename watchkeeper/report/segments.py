"""The segments section of the offline report and check (``--segment COL``).

For each segment column, the reference and the current data are split by the column's
values (the reference's ``top_k`` most frequent, plus ``other``) and profiled per
segment (:class:`~watchkeeper.profile.segments.SegmentSet`, batch by batch). Each
segment is then judged like a whole dataset, against the same segment of the reference,
by :class:`~watchkeeper.stats.DriftDetector` at the false-alarm rate divided by the
number of segments of the column (Bonferroni; on analytic p-values:
:func:`~watchkeeper.stats.segments.segment_drift_config`). When both files carry the ``label`` and
``prediction`` columns, the section also ranks the segments by how much their accuracy
(or, for a numeric label, their mean absolute error) got worse than in the reference
(:func:`~watchkeeper.stats.segments.rank_segments`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from markupsafe import Markup

from watchkeeper import assets
from watchkeeper.errors import ColumnNotFoundError, WatchkeeperWarning
from watchkeeper.jsonable import json_ready
from watchkeeper.profile import DatasetProfile, profile_batches
from watchkeeper.profile.segments import DEFAULT_TOP_K, OTHER_SEGMENT, SegmentSet
from watchkeeper.schema import validate
from watchkeeper.stats import DriftConfig, DriftDetector
from watchkeeper.stats.segments import (
    SegmentMetric,
    SegmentOutcome,
    WeakSegment,
    outcomes_by_segment,
    rank_segments,
    segment_drift_config,
)
from watchkeeper.tables import BATCH_ROWS

__all__ = [
    "SegmentRow",
    "SegmentsReport",
    "compare_segment_files",
    "compare_segment_frames",
    "render_segments_html",
    "segment_failures",
]

MIN_REFERENCE_ROWS = 30
"""Reference rows a segment needs before its drift is judged."""

Batches = Callable[[], Iterable[Any]]


@dataclass(frozen=True)
class SegmentRow:
    """One segment: its rows, drift verdict and, with labels, its change in performance.

    ``drifted`` is ``None`` when the segment was not judged (fewer than
    :data:`MIN_REFERENCE_ROWS` reference rows, or no current rows).
    """

    column: str
    segment: str
    rows: tuple[int, int]
    drifted: bool | None
    drift_share: float | None
    drifted_features: tuple[str, ...]
    explanation: str
    performance: WeakSegment | None


@dataclass(frozen=True)
class SegmentsReport:
    """The segments section: every segment of every segment column, worst first."""

    columns: tuple[str, ...]
    segments: tuple[SegmentRow, ...]
    metric: SegmentMetric | None
    false_alarm_rate: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = json_ready(
            {
                "columns": list(self.columns),
                "metric": self.metric,
                "false_alarm_rate": self.false_alarm_rate,
                "segments": [
                    {
                        **{k: v for k, v in dataclasses.asdict(row).items() if k != "performance"},
                        "performance": None
                        if row.performance is None
                        else row.performance.to_dict(),
                    }
                    for row in self.segments
                ],
            }
        )
        return out


def _outcomes(
    sets: SegmentSet, batch: Any, label: str, prediction: str, metric: SegmentMetric
) -> dict[str, dict[str, SegmentOutcome]]:
    """Labelled rows of one batch, per segment column and segment."""
    out: dict[str, dict[str, SegmentOutcome]] = {}
    y, p = batch[label], batch[prediction]
    if metric == "mae":
        values = np.asarray(y, dtype=np.float64) - np.asarray(p, dtype=np.float64)
    else:
        values = (y.astype(str) == p.astype(str)).to_numpy(np.float64)
        values[(y.isna() | p.isna()).to_numpy()] = np.nan
    for part in sets:
        tracked = set(part.values)
        segs = [v if v in tracked else OTHER_SEGMENT for v in batch[part.column].astype(str)]
        out[part.column] = outcomes_by_segment(segs, values, metric)
    return out


def _add(
    total: dict[str, dict[str, SegmentOutcome]], more: dict[str, dict[str, SegmentOutcome]]
) -> None:
    for column, per in more.items():
        mine = total.setdefault(column, {})
        for seg, outcome in per.items():
            mine[seg] = outcome if seg not in mine else mine[seg] + outcome


def _profile_sets(
    batches: Batches,
    sets: SegmentSet,
    label: str | None,
    prediction: str,
    metric: SegmentMetric | None,
) -> dict[str, dict[str, SegmentOutcome]]:
    outcomes: dict[str, dict[str, SegmentOutcome]] = {}
    schema = next(iter(sets)).schema
    for batch in batches():
        sets.update(validate(batch, schema, strict=False, allow_extra=True))
        if label is not None and metric is not None:
            _add(outcomes, _outcomes(sets, batch, label, prediction, metric))
    return outcomes


def compare_segments(
    reference: DatasetProfile,
    reference_batches: Batches,
    current_batches: Batches,
    columns: Sequence[str],
    *,
    current_columns: Iterable[str],
    config: DriftConfig | None = None,
    column_methods: Mapping[str, str] | None = None,
    top_k: int = DEFAULT_TOP_K,
    label: str = "label",
    prediction: str = "prediction",
) -> SegmentsReport:
    """The segments section from the reference's profile and both sides' batches.

    Raises
    ------
    ColumnNotFoundError
        A segment column is not in the reference.
    ConfigError
        A segment column is numeric.
    """
    config = config or DriftConfig()
    for column in columns:
        if column not in reference.schema:
            raise ColumnNotFoundError(
                f"--segment {column!r}: not a column of the reference; expected one of: "
                f"{', '.join(reference.schema.names)}",
                field="segment",
                value=column,
                expected=", ".join(reference.schema.names),
            )
    ref_sets = SegmentSet.for_reference(columns, reference, top_k=top_k)
    cur_sets = ref_sets.empty_like()
    has_labels = label in reference.schema and prediction in reference.schema
    has_labels = has_labels and {label, prediction} <= set(current_columns)
    metric: SegmentMetric | None = None
    if has_labels:
        metric = "mae" if reference.schema[label].kind == "numeric" else "accuracy"
    ref_out = _profile_sets(
        reference_batches, ref_sets, label if has_labels else None, prediction, metric
    )
    cur_out = _profile_sets(
        current_batches, cur_sets, label if has_labels else None, prediction, metric
    )
    rows: list[SegmentRow] = []
    for part in ref_sets:
        block: list[SegmentRow] = []
        cur_part = cur_sets[part.column]
        m = len(part.values) + 1
        drift = segment_drift_config(config, m, column_methods)
        ranking: dict[str, WeakSegment] = {}
        if metric is not None:
            ranked = rank_segments(
                cur_out.get(part.column, {}),
                ref_out.get(part.column, {}),
                column=part.column,
                metric=metric,
                false_alarm_rate=config.false_alarm_rate,
            )
            ranking = {w.segment: w for w in ranked}
        for segment in [*part.values, OTHER_SEGMENT]:
            ref_prof = part.profiles.get(segment)
            cur_prof = cur_part.profiles.get(segment)
            n_ref = 0 if ref_prof is None else ref_prof.n_rows
            n_cur = 0 if cur_prof is None else cur_prof.n_rows
            if not n_ref and not n_cur:
                continue
            drifted: bool | None = None
            share: float | None = None
            names: tuple[str, ...] = ()
            why = "not judged: too few rows"
            if ref_prof is not None and cur_prof is not None and n_ref >= MIN_REFERENCE_ROWS:
                detector = DriftDetector(drift, column_methods=column_methods).fit(ref_prof)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", WatchkeeperWarning)
                    verdict = detector.compare(cur_prof)
                roles = {s.name: s.role for s in ref_prof.schema}
                judged = [
                    c
                    for c in verdict.columns
                    if roles.get(c.column) == "feature"
                    and c.column not in (part.column, label, prediction)
                ]
                names = tuple(c.column for c in judged if c.drifted)
                drifted = bool(names)
                share = len(names) / len(judged) if judged else 0.0
                why = (
                    f"{len(names)} of {len(judged)} columns drifted within the segment"
                    + (f": {', '.join(names)}" if names else "")
                    + f" (false-alarm rate {config.false_alarm_rate:g} over {m} segments)"
                )
            block.append(
                SegmentRow(
                    part.column,
                    segment,
                    (n_ref, n_cur),
                    drifted,
                    share,
                    names,
                    why,
                    ranking.get(segment),
                )
            )
        rows += sorted(block, key=_row_key)
    return SegmentsReport(tuple(columns), tuple(rows), metric, config.false_alarm_rate)


def _row_key(row: SegmentRow) -> tuple[float, int, float, str]:
    """Weakest first (the lower bound of the drop), then drifted, then by name."""
    w = row.performance
    low = -w.low if w is not None and not np.isnan(w.low) else np.inf
    return (low, 0 if row.drifted else 1, -(row.drift_share or 0.0), row.segment)


def compare_segment_frames(
    reference: Any, current: Any, columns: Sequence[str], **options: Any
) -> SegmentsReport:
    """:func:`compare_segments` of two pandas data frames (the reference's schema is
    inferred; ``label`` and ``prediction`` columns, when both have them, give
    performance per segment)."""
    from watchkeeper.profile import profile_table
    from watchkeeper.schema import infer_schema

    roles = {c: "output" for c in ("prediction",) if c in reference.columns}
    schema = infer_schema(reference, roles=roles)  # type: ignore[arg-type]
    ref = profile_table(reference, schema)
    return compare_segments(
        ref,
        lambda: [reference],
        lambda: [current],
        columns,
        current_columns=[str(c) for c in current.columns],
        **options,
    )


def compare_segment_files(
    reference: Path,
    current: Path,
    columns: Sequence[str],
    *,
    batch_rows: int = BATCH_ROWS,
    **options: Any,
) -> SegmentsReport:
    """:func:`compare_segments` of two data files, batch by batch (memory: one batch
    plus at most ``top_k + 1`` profiles per segment column and side)."""
    from watchkeeper.report.files import _batches

    ref = profile_batches(lambda: _batches(reference, batch_rows))
    peek = _batches(current, batch_rows)
    first = next(peek, None)
    peek.close()
    names = [str(c) for c in first.columns] if first is not None else []
    return compare_segments(
        ref,
        lambda: _batches(reference, batch_rows),
        lambda: _batches(current, batch_rows),
        columns,
        current_columns=names,
        **options,
    )


def segment_failures(report: SegmentsReport) -> list[str]:
    """One line per drifted or significantly weaker segment (what ``check`` fails on)."""
    out = []
    for row in report.segments:
        where = f"{row.column}={row.segment}"
        if row.drifted:
            out.append(f"segment {where}: drifted; {row.explanation}")
        w = row.performance
        if w is not None and w.flagged:
            out.append(
                f"segment {where}: {w.metric} {w.baseline_value:.4g} -> {w.current:.4g} "
                f"(worse by {w.drop:.4g}, 95% interval {w.low:.4g} to {w.high:.4g}, "
                f"{w.n_current:,} labelled rows)"
            )
    return out


_ENV = jinja2.Environment(
    loader=jinja2.FunctionLoader(assets.template_source),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_segments_html(report: SegmentsReport) -> Markup:
    """The section as HTML, escaped, to place in the report page."""
    template = _ENV.get_template("segments_section.html")
    return Markup(template.render(seg=report, fmt=_fmt))


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or np.isnan(value):
        return "–"
    return f"{value:.{digits}f}"
