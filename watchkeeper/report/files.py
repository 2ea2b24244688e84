"""Two data files compared batch by batch: what ``watchkeeper report`` and ``watchkeeper
check`` run. Memory holds one batch of rows plus the profiles, whatever the files' size
(the reference is read twice: :mod:`watchkeeper.profile.stream`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from watchkeeper.profile import profile_batches
from watchkeeper.report.build import Progress, Report, build_report
from watchkeeper.stats import DriftConfig
from watchkeeper.tables import BATCH_ROWS, count_rows, iter_batches

__all__ = ["compare_files"]


def compare_files(
    reference: Path,
    current: Path,
    *,
    config: DriftConfig | None = None,
    column_methods: Mapping[str, str] | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> Report:
    """Profile both files (parquet, feather or csv) in batches and compare them.

    The reference's schema is inferred from its first batch. Reference columns the
    current file lacks are reported absent, and its columns the reference lacks as extra
    (read off the current file's first batch).
    """
    tell = progress or (lambda _stage, _done, _total: None)
    ref_rows, cur_rows = count_rows(reference), count_rows(current)
    stages = {"scan": "scanning the reference", "count": "profiling the reference"}
    ref = profile_batches(
        lambda: iter_batches(reference, batch_rows),
        rows_done=lambda name, done: tell(stages[name], done, ref_rows),
    )
    peek = iter_batches(current, batch_rows)
    first = next(peek, None)
    peek.close()
    names = [str(c) for c in first.columns] if first is not None else []
    cur = profile_batches(
        lambda: iter_batches(current, batch_rows),
        reference=ref,
        rows_done=lambda _name, done: tell("profiling the current data", done, cur_rows),
    )
    tell("judging drift", 0, None)
    return build_report(
        ref,
        cur,
        config=config,
        column_methods=column_methods,
        reference_name=reference.name,
        current_name=current.name,
        current_columns=names,
    )
