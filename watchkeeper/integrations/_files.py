"""Datasets on disk: a file, a directory of files or a glob, each file one partition.

``watchkeeper report/check REF CUR --engine local|dask|spark`` reads its arguments here.
Each file is read batch by batch with :func:`~watchkeeper.tables.iter_batches` by the
process that profiles it, so a worker holds one batch of rows whatever the file's size
and only the file's path and the profile's bytes cross processes.
"""

from __future__ import annotations

import glob
from collections.abc import Generator, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

from watchkeeper.errors import InvalidBatchError, WatchkeeperError
from watchkeeper.integrations._dataset import LocalPartitions, Partitions, compare_partitions
from watchkeeper.report import Report
from watchkeeper.report.build import Progress
from watchkeeper.stats import DriftConfig
from watchkeeper.tables import BATCH_ROWS, count_rows, iter_batches

__all__ = ["ENGINES", "Engine", "compare_datasets", "dataset_files", "read_file_batches"]

Engine = Literal["local", "dask", "spark"]
ENGINES: tuple[Engine, ...] = ("local", "dask", "spark")
_SUFFIXES = (".parquet", ".feather", ".csv")


def dataset_files(dataset: str | Path) -> list[Path]:
    """The data files of a dataset, sorted: the file itself, the data files of a
    directory (recursively), or the data files a glob matches.

    Raises
    ------
    InvalidBatchError
        Nothing matches, naming the argument.
    """
    path = Path(dataset)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in _SUFFIXES)
    else:
        found = sorted(
            Path(p) for p in glob.glob(str(dataset), recursive=True) if Path(p).is_file()
        )
    if not found:
        raise InvalidBatchError(
            f"dataset {str(dataset)!r}: no data file found; expected a file, a directory "
            f"of {', '.join(_SUFFIXES)} files or a glob matching some",
            field="path",
            value=str(dataset),
            expected="a data file, a directory or a glob",
        )
    return found


def _unreadable(path: Path, exc: Exception) -> InvalidBatchError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    fmt = path.suffix.lstrip(".").lower()
    return InvalidBatchError(
        f"file {str(path)!r}: not a readable {fmt} file ({reason})",
        field="path",
        value=str(path),
        expected=f"a {fmt} file with a header and rows",
    )


def read_file_batches(path: str | Path, rows: int = BATCH_ROWS) -> Generator[Any, None, None]:
    """The file's batches; a reading error becomes one line naming the file."""
    path = Path(path)
    try:
        reader = iter_batches(path, rows)
        while True:
            try:
                batch = next(reader, None)
            except WatchkeeperError:
                raise
            except (ValueError, OSError) as exc:  # pandas and pyarrow errors subclass these
                raise _unreadable(path, exc) from exc
            if batch is None:
                return
            yield batch
    except WatchkeeperError:
        raise
    except (ValueError, OSError) as exc:
        raise _unreadable(path, exc) from exc


def total_rows(files: Iterable[Path]) -> int | None:
    """Rows in all the files from their metadata, ``None`` when one is a csv."""
    total = 0
    for path in files:
        try:
            n = count_rows(path)
        except WatchkeeperError:
            raise
        except (ValueError, OSError) as exc:
            raise _unreadable(path, exc) from exc
        if n is None:
            return None
        total += n
    return total


def first_file_batch(files: Iterable[Path], rows: int = BATCH_ROWS) -> Any | None:
    """The first non-empty batch of the files in order, read in this process."""
    for path in files:
        for batch in read_file_batches(path, rows):
            if len(batch):
                return batch
    return None


def local_files(files: list[Path], *, name: str, rows: int = BATCH_ROWS) -> LocalPartitions:
    """The files as partitions profiled in this process, one after the other."""
    return LocalPartitions(
        lambda: [read_file_batches(path, rows) for path in files],
        name=name,
        n_rows=total_rows(files),
    )


def _partitions(dataset: str | Path, engine: Engine, session: Any, rows: int) -> Partitions:
    files = dataset_files(dataset)
    name = Path(dataset).name or str(dataset)
    if engine == "dask":
        from watchkeeper.integrations.dask import DaskFiles

        return DaskFiles(files, session, name=name, rows=rows)
    if engine == "spark":
        from watchkeeper.integrations.spark import SparkFiles

        return SparkFiles(files, session, name=name)
    return local_files(files, name=name, rows=rows)


def compare_datasets(
    reference: str | Path,
    current: str | Path,
    *,
    engine: Engine = "local",
    session: Any = None,
    config: DriftConfig | None = None,
    column_methods: dict[str, str] | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> Report:
    """Compare two datasets (files, directories or globs) profiled on ``engine``.

    Parameters
    ----------
    engine
        ``"local"`` (this process), ``"dask"`` or ``"spark"``.
    session
        A ``distributed.Client`` for Dask or a ``SparkSession`` for Spark; ``None``
        starts the default one for the call (:func:`watchkeeper.integrations.dask.default_client`,
        :func:`watchkeeper.integrations.spark.default_session`).

    Raises
    ------
    InvalidBatchError
        A dataset matches no file or a file cannot be read (naming it), or ``engine``
        is not one of :data:`ENGINES`.
    """
    if engine not in ENGINES:
        raise InvalidBatchError(
            f"engine: unknown engine {engine!r}; expected one of: {', '.join(ENGINES)}",
            field="engine",
            value=engine,
            expected=", ".join(ENGINES),
        )
    with ExitStack() as stack:
        if session is None and engine == "dask":
            from watchkeeper.integrations.dask import default_client

            session = stack.enter_context(default_client())
        elif session is None and engine == "spark":
            from watchkeeper.integrations.spark import default_session

            session = stack.enter_context(default_session())
        ref = _partitions(reference, engine, session, batch_rows)
        cur = _partitions(current, engine, session, batch_rows)
        return compare_partitions(
            ref, cur, config=config, column_methods=column_methods, progress=progress
        )
