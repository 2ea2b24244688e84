"""Two data files compared batch by batch: what ``watchkeeper report`` and ``watchkeeper
check`` run. Memory holds one batch of rows plus the profiles, whatever the files' size
(the reference is read twice: :mod:`watchkeeper.profile.stream`)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from watchkeeper.errors import InvalidBatchError, SchemaError, WatchkeeperError
from watchkeeper.profile import profile_batches
from watchkeeper.report.build import Progress, Report, build_report
from watchkeeper.stats import DriftConfig
from watchkeeper.tables import count_rows, iter_batches

__all__ = ["FILE_BATCH_ROWS", "compare_files"]

FILE_BATCH_ROWS = 50_000
"""Rows per batch when two files are compared: half the readers' default, because a
batch's rows, their pandas frame and the arrays profiled from it are alive at once (a
1,000,000 x 25 single-row-group pair peaked at 499 MB with 100,000-row batches, 415 MB
with 50,000, for the same CPU time)."""

_T = TypeVar("_T")


def _unreadable(path: Path, exc: Exception) -> InvalidBatchError:
    """A reader's error (pandas, pyarrow, the OS) as one line naming the file."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    fmt = path.suffix.lstrip(".").lower()
    return InvalidBatchError(
        f"file {str(path)!r}: not a readable {fmt} file ({reason})",
        field="path",
        value=str(path),
        expected=f"a {fmt} file with a header and rows",
    )


def _in_file(path: Path, exc: SchemaError) -> SchemaError:
    """The same schema error, its message prefixed with the file it came from."""
    return type(exc)(
        f"file {str(path)!r}: {exc.message}",
        field=exc.field,
        value=exc.value,
        expected=exc.expected,
    )


def _not_a_file(path: Path) -> InvalidBatchError | None:
    """A directory given where a data file is expected (``x.parquet/``)."""
    if not path.is_dir():
        return None
    return InvalidBatchError(
        f"file {str(path)!r}: is a directory; expected a data file (.parquet, .csv or .feather)",
        field="path",
        value=str(path),
        expected="a data file",
    )


def _no_rows(path: Path) -> InvalidBatchError:
    return InvalidBatchError(
        f"file {str(path)!r}: 0 rows; expected at least one row to compare",
        field="path",
        value=str(path),
        expected="a file with rows",
    )


def _read(path: Path, read: Callable[[], _T]) -> _T:
    problem = _not_a_file(path)
    if problem is not None:
        raise problem
    try:
        return read()
    except WatchkeeperError:
        raise
    except (ValueError, OSError) as exc:  # pandas and pyarrow errors subclass these
        raise _unreadable(path, exc) from exc


def _batches(path: Path, rows: int) -> Generator[Any, None, None]:
    """:func:`~watchkeeper.tables.iter_batches`, with reading errors naming the file.

    Only the reading is guarded: an error raised while a batch is profiled is not a
    reading error and passes through unchanged.
    """
    reader = _read(path, lambda: iter_batches(path, rows))
    try:
        while True:
            batch = _read(path, lambda: next(reader, None))
            if batch is None:
                return
            yield batch
    finally:
        reader.close()


def compare_files(
    reference: Path,
    current: Path,
    *,
    config: DriftConfig | None = None,
    column_methods: Mapping[str, str] | None = None,
    batch_rows: int = FILE_BATCH_ROWS,
    progress: Progress | None = None,
) -> Report:
    """Profile both files (parquet, feather or csv) in batches and compare them.

    The reference's schema is inferred from its first batch. Reference columns the
    current file lacks are reported absent, and its columns the reference lacks as extra
    (read off the current file's first batch).

    Raises
    ------
    InvalidBatchError
        A file is missing, is a directory, has an unsupported suffix, cannot be read as
        its format, or has no rows (the message names the file and the problem, on one
        line).
    """
    tell = progress or (lambda _stage, _done, _total: None)
    ref_rows = _read(reference, lambda: count_rows(reference))
    cur_rows = _read(current, lambda: count_rows(current))
    for path, n in ((reference, ref_rows), (current, cur_rows)):
        if n == 0:  # nothing to compare: no verdict, rather than "no drift"
            raise _no_rows(path)
    stages = {"scan": "scanning the reference", "count": "profiling the reference"}
    try:
        ref = profile_batches(
            lambda: _batches(reference, batch_rows),
            rows_done=lambda name, done: tell(stages[name], done, ref_rows),
        )
    except SchemaError as exc:  # e.g. no rows to infer the schema from
        raise _in_file(reference, exc) from exc
    peek = _batches(current, batch_rows)
    first = next(peek, None)
    peek.close()
    names = [str(c) for c in first.columns] if first is not None else []
    cur = profile_batches(
        lambda: _batches(current, batch_rows),
        reference=ref,
        rows_done=lambda _name, done: tell("profiling the current data", done, cur_rows),
    )
    if cur.n_rows == 0:  # a csv with a header only (its rows are not counted up front)
        raise _no_rows(current)
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
