"""Comparing two data files with progress bars, and the terminal tables of the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from watchkeeper.cli._console import error_console

__all__ = [
    "column_methods",
    "column_notes",
    "compare_with_progress",
    "drift_table",
    "verdict_table",
]


def column_methods(items: list[str] | None) -> dict[str, str]:
    """``--column-method COLUMN=METHOD`` options as a mapping.

    >>> column_methods(["age=psi", "city=chi2"])
    {'age': 'psi', 'city': 'chi2'}
    """
    from watchkeeper.errors import ConfigError

    methods: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ConfigError(
                f"--column-method: expected COLUMN=METHOD, got {item!r}",
                field="--column-method",
                value=item,
                expected="COLUMN=METHOD",
            )
        methods[name] = value
    return methods


def compare_with_progress(
    reference: Path,
    current: Path,
    *,
    false_alarm_rate: float,
    method: str | None,
    column_method: list[str] | None,
    drift_share: float,
) -> Any:
    """Compare both files batch by batch, with progress bars on stderr (in a terminal)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from watchkeeper.report.files import compare_files
    from watchkeeper.stats import DriftConfig

    methods = column_methods(column_method)
    config = DriftConfig(method=method, false_alarm_rate=false_alarm_rate, drift_share=drift_share)
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
        disable=not error_console.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def tell(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        return compare_files(
            reference, current, config=config, column_methods=methods, progress=tell
        )


def drift_table(report: Any) -> Table:
    """The comparison in the terminal: one row per column, the figures behind each verdict
    (the reasons in words are in the HTML report)."""
    from watchkeeper.report.html import percent

    table = Table(title=report.drift.explanation)
    for name in ("column", "method", "statistic", "threshold", "drift", "missing", "out/new"):
        table.add_column(name, no_wrap=True)
    for col in report.columns:
        d = col.drift
        quality = col.out_of_range if col.out_of_range is not None else col.new_category_share
        table.add_row(
            col.name,
            d.method if d else "–",
            f"{d.statistic:.4g}" if d else "–",
            f"{d.threshold:.4g}" if d else "–",
            "[red]yes[/red]" if col.drifted else ("no" if d else "not judged"),
            percent(col.missing[1]),
            percent(quality),
        )
    return table


def verdict_table(report: Any) -> Table:
    """The drift verdicts in the terminal: one row per judged column, with the reason in
    words; the dataset's verdict is the title."""
    table = Table(title=report.drift.explanation)
    for name in ("column", "method", "statistic", "threshold", "drift", "why"):
        table.add_column(name)
    for col in report.drift.columns:
        table.add_row(
            col.column,
            col.method,
            f"{col.statistic:.4g}",
            f"{col.threshold:.4g}",
            "[red]yes[/red]" if col.drifted else "no",
            col.explanation,
        )
    return table


def column_notes(report: Any) -> list[str]:
    """One line per column mismatch (nothing when both files have the same columns):
    what was not compared is said, never silently left out."""
    notes = []
    absent = [c.name for c in report.columns if c.absent]
    if absent:
        notes.append(
            f"columns of the reference missing from {report.current_name} (not compared): "
            + ", ".join(absent)
        )
    if report.extra_columns:
        notes.append(
            f"columns of {report.current_name} missing from the reference (not compared): "
            + ", ".join(report.extra_columns)
        )
    return notes
