"""Profiles and reports on Dask: each partition profiled by a worker, bytes merged in a tree.

``pip install "watchkeeper[dask]"``. What runs where: the driver (the process holding
the ``distributed.Client``) infers the schema from the first batch and encodes a
template (schema, layout, ``k``); each worker profiles its partitions on that template
and returns the profile's bytes; workers merge those bytes ``fan_in`` at a time until
one profile is left, which the driver decodes. Rows never leave the workers, and the
driver holds a handful of profiles whatever the rows.

Examples
--------
A Dask DataFrame (any partitioning) profiled as a reference, then a current frame on it::

    from watchkeeper.integrations.dask import profile_dask, report_dask
    ref = profile_dask(reference_ddf)  # two passes: sketch, then count on its bins
    report = report_dask(reference_ddf, current_ddf)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from watchkeeper.integrations._core import (
    import_engine,
    merge_bytes,
    merge_profiles,
    profile_partition,
)
from watchkeeper.integrations._dataset import PartsDone, compare_partitions, profile_partitions
from watchkeeper.integrations._files import first_file_batch, read_file_batches, total_rows
from watchkeeper.profile import DatasetProfile
from watchkeeper.report import Report
from watchkeeper.report.build import Progress
from watchkeeper.schema import Schema
from watchkeeper.stats import DriftConfig
from watchkeeper.tables import BATCH_ROWS

__all__ = [
    "DaskFiles",
    "DaskFrame",
    "default_client",
    "profile_dask",
    "report_dask",
]

FAN_IN = 8
"""Profiles merged by one task of the tree reduce."""


def _distributed() -> Any:
    return import_engine("distributed", "the Dask engine needs dask and distributed", "dask")


@contextmanager
def default_client() -> Iterator[Any]:
    """The client of the running Dask context if there is one, else a ``LocalCluster``
    of worker processes on 127.0.0.1 (one per core), closed on exit."""
    distributed = _distributed()
    try:
        running = distributed.get_client()
    except ValueError:  # no client in this context
        running = None
    if running is not None:
        yield running
        return
    with (
        distributed.LocalCluster(
            processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _profile_file(template: bytes, path: str, rows: int) -> bytes:
    return profile_partition(template, read_file_batches(path, rows))


def _profile_frame(template: bytes, frame: Any) -> bytes:
    return profile_partition(template, [frame])


def _tree(client: Any, leaves: list[Any], template: bytes, done: PartsDone) -> DatasetProfile:
    """Wait for the leaves (telling progress), then merge them ``FAN_IN`` at a time on
    the workers; only the last profile's bytes come back to the driver."""
    distributed = _distributed()
    for i, _ in enumerate(distributed.as_completed(leaves)):
        done(i + 1, len(leaves))
    level = leaves
    while len(level) > 1:
        level = [
            client.submit(merge_bytes, level[i : i + FAN_IN], pure=False)
            for i in range(0, len(level), FAN_IN)
        ]
    return merge_profiles([f.result() for f in level], template=template)


class DaskFiles:
    """Data files as partitions of a Dask job: each worker reads and profiles whole files.

    Parameters
    ----------
    files
        The data files, one partition each.
    client
        A ``distributed.Client``.
    name
        Shown in the report.
    rows
        Rows per batch a worker reads at a time.

    Attributes
    ----------
    n_rows
        Rows in all the files, from their metadata (``None`` with csv files).
    """

    def __init__(
        self, files: Sequence[Path], client: Any, *, name: str, rows: int = BATCH_ROWS
    ) -> None:
        self.files = list(files)
        self.client = client
        self.rows = rows
        self.name = name
        self.n_rows = total_rows(self.files)

    def first_batch(self) -> Any | None:
        """The first non-empty batch, read on the driver as one process reads it."""
        return first_file_batch(self.files, self.rows)

    def profile(self, template: bytes, done: PartsDone) -> DatasetProfile:
        """One task per file, then the tree reduce."""
        leaves = [
            self.client.submit(_profile_file, template, str(p), self.rows, pure=False)
            for p in self.files
        ]
        return _tree(self.client, leaves, template, done)


class DaskFrame:
    """A Dask DataFrame's partitions (``to_delayed``), each profiled where it is computed."""

    def __init__(self, frame: Any, client: Any, *, name: str = "dask DataFrame") -> None:
        self.frame = frame
        self.client = client
        self.name = name
        self.n_rows: int | None = None  # not known without computing the frame

    def first_batch(self) -> Any | None:
        """The head of the first partition with rows (computed one partition at a time)."""
        for i in range(self.frame.npartitions):
            head = self.frame.get_partition(i).head(BATCH_ROWS, npartitions=1, compute=True)
            if len(head):
                return head
        return None

    def profile(self, template: bytes, done: PartsDone) -> DatasetProfile:
        """One task per partition, then the tree reduce."""
        from dask.delayed import delayed

        tasks = [delayed(_profile_frame)(template, part) for part in self.frame.to_delayed()]
        return _tree(self.client, list(self.client.compute(tasks)), template, done)


def profile_dask(
    frame: Any,
    *,
    reference: DatasetProfile | None = None,
    schema: Schema | None = None,
    client: Any = None,
) -> DatasetProfile:
    """Profile a Dask DataFrame: as a reference (two passes), or on ``reference``."""
    with default_client() if client is None else nullcontext(client) as session:
        return profile_partitions(DaskFrame(frame, session), reference=reference, schema=schema)


def report_dask(
    reference: Any,
    current: Any,
    *,
    config: DriftConfig | None = None,
    client: Any = None,
    progress: Progress | None = None,
) -> Report:
    """Compare two Dask DataFrames: profiles on the workers, drift judged on the driver."""
    with default_client() if client is None else nullcontext(client) as session:
        return compare_partitions(
            DaskFrame(reference, session, name="reference"),
            DaskFrame(current, session, name="current"),
            config=config,
            progress=progress,
        )
