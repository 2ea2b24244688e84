"""Offline comparison of two data files: ``drift``, ``report`` and ``check``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from watchkeeper.cli._comparison import (
    column_methods,
    column_notes,
    compare_with_progress,
    drift_table,
    verdict_table,
)
from watchkeeper.cli._console import console, error_console, fail

if TYPE_CHECKING:
    from watchkeeper.integrations import Engine

__all__ = ["check", "drift", "report"]


_Reference = Annotated[Path, typer.Argument(help="Reference data: .parquet, .csv or .feather")]
_Current = Annotated[Path, typer.Argument(help="Current data, same columns")]
_FalseAlarm = Annotated[
    float, typer.Option(help="False-alarm rate per comparison, after the correction")
]
_Method = Annotated[
    str | None, typer.Option(help="Drift method for every column (default: by kind and size)")
]
_ColumnMethod = Annotated[
    list[str] | None,
    typer.Option("--column-method", help="COLUMN=METHOD, for one column; repeatable"),
]
_DriftShare = Annotated[
    float, typer.Option(help="The dataset drifts when this share of columns drifted")
]
_JsonOut = Annotated[
    Path | None,
    typer.Option(
        "--json", help="Also write the report as JSON to this file ('-', or --json alone: stdout)"
    ),
]
STDOUT = Path("-")
_Multivariate = Annotated[
    bool,
    typer.Option(
        "--multivariate",
        help="Also test the rows as a whole (PCA reconstruction error, a domain classifier) "
        "and rank the features behind a change; needs watchkeeper[multivariate]",
    ),
]


def _with_multivariate(result: Any, reference: Path, current: Path, false_alarm_rate: float) -> Any:
    """The report with its multivariate part: both files sampled, both tests run."""
    from watchkeeper.report import add_multivariate, sample_file
    from watchkeeper.report.multivariate import report_schema
    from watchkeeper.stats.multivariate import MultivariateConfig

    schema = report_schema(result)
    ref, cur = sample_file(reference, schema), sample_file(current, schema)
    return add_multivariate(result, ref, cur, MultivariateConfig(false_alarm_rate=false_alarm_rate))


_Segment = Annotated[
    list[str] | None,
    typer.Option(
        "--segment",
        help="A segment column (e.g. region): drift, and with label and prediction columns "
        "the weakest segments, per value of it; repeatable",
    ),
]
_EngineOpt = Annotated[
    str,
    typer.Option(
        help="Where the profiles are computed: local (this process), dask or spark; "
        "REFERENCE and CURRENT may then be directories or globs of data files"
    ),
]


def _compare(reference: Path, current: Path, engine: str, **options: Any) -> Any:
    """Two files in this process as before; else (another engine, a directory or a glob)
    the datasets profiled on ``engine``
    (:func:`watchkeeper.integrations.compare_datasets`), one stderr line per stage."""
    sets = [p.is_dir() or any(ch in str(p) for ch in "*?[") for p in (reference, current)]
    if engine == "local" and not any(sets):
        return compare_with_progress(reference, current, **options)
    from watchkeeper.integrations import compare_datasets
    from watchkeeper.stats import DriftConfig

    methods = column_methods(options["column_method"])
    config = DriftConfig(
        method=options["method"],
        false_alarm_rate=options["false_alarm_rate"],
        drift_share=options["drift_share"],
    )
    seen: set[str] = set()

    def tell(stage: str, _done: int, _total: int | None) -> None:
        if stage not in seen and error_console.is_terminal:
            error_console.print(f"{stage} ({engine})", markup=False, highlight=False)
        seen.add(stage)

    return compare_datasets(
        reference,
        current,
        engine=cast("Engine", engine),
        config=config,
        column_methods=methods,
        progress=tell,
    )


def _segments(
    reference: Path, current: Path, columns: list[str] | None, engine: str, **options: Any
) -> Any:
    """The segments section of ``report``/``check`` (``None`` without ``--segment``).

    Raises
    ------
    ConfigError
        ``--segment`` with another engine than local.
    """
    if not columns:
        return None
    from watchkeeper.errors import ConfigError
    from watchkeeper.report.segments import compare_segment_files
    from watchkeeper.stats import DriftConfig

    if engine != "local":
        raise ConfigError(
            f"--segment: not available with --engine {engine}; expected --engine local",
            field="segment",
            value=engine,
            expected="--engine local",
        )
    config = DriftConfig(
        method=options["method"],
        false_alarm_rate=options["false_alarm_rate"],
        drift_share=options["drift_share"],
    )
    return compare_segment_files(
        reference,
        current,
        columns,
        config=config,
        column_methods=column_methods(options["column_method"]),
    )


def _with_segments(doc: dict[str, Any], segments: Any) -> dict[str, Any]:
    if segments is not None:
        doc["segments"] = segments.to_dict()
    return doc


def _sections(segments: Any) -> list[Any]:
    if segments is None:
        return []
    from watchkeeper.report.segments import render_segments_html

    return [render_segments_html(segments)]


def drift(
    reference: _Reference,
    current: _Current,
    false_alarm_rate: _FalseAlarm = 0.01,
    method: _Method = None,
    column_method: _ColumnMethod = None,
    drift_share: _DriftShare = 0.5,
) -> None:
    """Compare two data files and print each column's drift verdict: the comparison of
    'watchkeeper report', as a table, without writing files."""
    from watchkeeper.errors import WatchkeeperError

    try:
        result = compare_with_progress(
            reference,
            current,
            false_alarm_rate=false_alarm_rate,
            method=method,
            column_method=column_method,
            drift_share=drift_share,
        )
    except (WatchkeeperError, OSError) as exc:
        raise fail(exc) from exc
    console.print(verdict_table(result))
    for note in column_notes(result):
        console.print(note, markup=False, highlight=False, soft_wrap=True)


def report(
    reference: _Reference,
    current: _Current,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The HTML report (self-contained)")
    ] = Path("report.html"),
    json_path: _JsonOut = None,
    title: Annotated[str | None, typer.Option(help="Title of the page")] = None,
    false_alarm_rate: _FalseAlarm = 0.01,
    method: _Method = None,
    column_method: _ColumnMethod = None,
    drift_share: _DriftShare = 0.5,
    engine: _EngineOpt = "local",
    multivariate: _Multivariate = False,
    segment: _Segment = None,
) -> None:
    """Compare two data files: drift and data quality per column, as HTML (and JSON)."""
    import json

    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.report import render_html, report_to_dict, write_text_atomically

    options: dict[str, Any] = {
        "false_alarm_rate": false_alarm_rate,
        "method": method,
        "column_method": column_method,
        "drift_share": drift_share,
    }
    try:
        if multivariate:
            from watchkeeper.report.multivariate import require_files

            require_files(reference, current)
        result = _compare(reference, current, engine, **options)
        if multivariate:
            result = _with_multivariate(result, reference, current, false_alarm_rate)
        segments = _segments(reference, current, segment, engine, **options)
        page = render_html(result, title=title, sections=_sections(segments))
        write_text_atomically(output, page)
        doc = _with_segments(report_to_dict(result), segments)
        text = json.dumps(doc, indent=2, allow_nan=False)
        if json_path is not None and json_path != STDOUT:
            write_text_atomically(json_path, text)
    except (WatchkeeperError, OSError) as exc:
        raise fail(exc) from exc
    screen = console
    if json_path == STDOUT:  # stdout is the JSON's: the rest goes to stderr
        typer.echo(text)
        screen = error_console
    screen.print(drift_table(result))
    for note in column_notes(result):
        screen.print(note, markup=False, highlight=False, soft_wrap=True)
    if segments is not None:
        from watchkeeper.report.segments import segment_failures

        for line in segment_failures(segments) or ["segments: none drifted or weaker"]:
            screen.print(line, markup=False, highlight=False, soft_wrap=True)
    to_file = json_path is not None and json_path != STDOUT
    written = f"{output}" + (f" and {json_path}" if to_file else "")
    screen.print(f"report written to {written}", markup=False, highlight=False)


def check(
    reference: _Reference,
    current: _Current,
    column: Annotated[
        list[str] | None,
        typer.Option("--column", help="Fail when this column drifts; repeatable"),
    ] = None,
    any_column: Annotated[bool, typer.Option(help="Fail when any column drifts")] = False,
    dataset_drift: Annotated[
        bool, typer.Option(help="Fail when the dataset drifts (share of drifted columns)")
    ] = True,
    allow_absent: Annotated[
        bool, typer.Option(help="Pass even when reference columns are missing")
    ] = False,
    max_missing: Annotated[
        float | None, typer.Option(help="Fail when a column's missing share is above this")
    ] = None,
    max_missing_increase: Annotated[
        float | None, typer.Option(help="Fail when a column's missing share rose by more")
    ] = None,
    max_out_of_range: Annotated[
        float | None, typer.Option(help="Fail above this share outside the reference's range")
    ] = None,
    max_new_categories: Annotated[
        float | None, typer.Option(help="Fail above this share of new categories")
    ] = None,
    json_path: _JsonOut = None,
    html: Annotated[Path | None, typer.Option(help="Also write the HTML report")] = None,
    false_alarm_rate: _FalseAlarm = 0.01,
    method: _Method = None,
    column_method: _ColumnMethod = None,
    drift_share: _DriftShare = 0.5,
    engine: _EngineOpt = "local",
    multivariate: Annotated[
        bool,
        typer.Option(
            "--multivariate",
            help="Also fail when the rows as a whole drifted (PCA reconstruction error, a "
            "domain classifier); needs watchkeeper[multivariate]",
        ),
    ] = False,
    segment: _Segment = None,
) -> None:
    """Gate a pipeline on two data files: exit 0 when the check passes, 1 when it fails.

    With ``--segment COL`` it also fails when a segment of COL drifted or got
    significantly weaker (with label and prediction columns).

    Exit codes: 0 the check passed; 1 it failed (one "FAIL condition: reason" line per
    unmet condition, then a summary); 2 bad input: a file that is missing, unreadable, a
    directory or without rows, or a bad option (one "error:" line on stderr naming it).
    """
    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.report import (
        CheckPolicy,
        render_html,
        report_to_dict,
        run_check,
        write_text_atomically,
    )

    try:
        policy = CheckPolicy(
            dataset_drift=dataset_drift,
            any_column_drift=any_column,
            columns=tuple(column or ()),
            absent_columns=not allow_absent,
            max_missing_ratio=max_missing,
            max_missing_increase=max_missing_increase,
            max_out_of_range=max_out_of_range,
            max_new_category_share=max_new_categories,
            multivariate=multivariate,
        )
        if multivariate:
            from watchkeeper.report.multivariate import require_files

            require_files(reference, current)
        options: dict[str, Any] = {
            "false_alarm_rate": false_alarm_rate,
            "method": method,
            "column_method": column_method,
            "drift_share": drift_share,
        }
        result = _compare(reference, current, engine, **options)
        if multivariate:
            result = _with_multivariate(result, reference, current, false_alarm_rate)
        segments = _segments(reference, current, segment, engine, **options)
        outcome = run_check(result, policy)
        failed_segments: list[str] = []
        if segments is not None:
            from watchkeeper.report.segments import segment_failures

            failed_segments = segment_failures(segments)
        text = None
        if json_path is not None:
            import json

            doc = _with_segments(report_to_dict(result), segments)
            doc["check"] = outcome.to_dict()
            if segments is not None:
                doc["check"]["segment_failures"] = failed_segments
                doc["check"]["passed"] = outcome.passed and not failed_segments
            text = json.dumps(doc, indent=2, allow_nan=False)
            if json_path != STDOUT:
                write_text_atomically(json_path, text)
        if html is not None:
            write_text_atomically(html, render_html(result, sections=_sections(segments)))
    except (WatchkeeperError, OSError, ValueError) as exc:
        raise fail(exc) from exc
    screen = console
    if json_path == STDOUT and text is not None:  # stdout is the JSON's: lines to stderr
        typer.echo(text)
        screen = error_console
    for failure in outcome.failures:  # one line each, unwrapped: CI logs are grepped
        line = f"FAIL {failure.condition}: {failure.message}"
        screen.print(line, markup=False, highlight=False, soft_wrap=True)
    for line in failed_segments:
        screen.print(f"FAIL {line}", markup=False, highlight=False, soft_wrap=True)
    for note in column_notes(result):
        screen.print(note, markup=False, highlight=False, soft_wrap=True)
    screen.print(outcome.summary, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(0 if outcome.passed and not failed_segments else 1)
