"""A dataset as an engine sees it, and the two passes that profile it as a reference.

An engine (in-process, Dask, Spark) only has to say how to read the first batch (to
infer the schema, as one process does from its first batch) and how to profile every
partition on a template and merge the bytes (:class:`Partitions`). The driver logic is
the same for all of them and the same as :func:`~watchkeeper.profile.profile_batches`:
a first pass without a layout, :func:`~watchkeeper.profile.sketched_layout` on its
merged profile, then a second pass counting the reference on those bins and categories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from watchkeeper.binning import DEFAULT_BINS
from watchkeeper.errors import SchemaError
from watchkeeper.integrations._core import merge_profiles, profile_partition, profile_template
from watchkeeper.profile import DatasetProfile, sketched_layout
from watchkeeper.profile.numeric import DEFAULT_K
from watchkeeper.report import Report, build_report
from watchkeeper.report.build import Progress
from watchkeeper.schema import Schema, infer_schema
from watchkeeper.stats import DriftConfig

__all__ = [
    "LocalPartitions",
    "Partitions",
    "PartsDone",
    "compare_partitions",
    "profile_current",
    "profile_partitions",
    "profile_reference",
]

PartsDone = Callable[[int, int], None]
"""Called with ``(partitions done, partitions in all)`` as an engine's job progresses."""


class Partitions(Protocol):
    """A dataset split in partitions, as one engine profiles it."""

    @property
    def name(self) -> str:
        """Shown in the report (a path, a pattern, "spark DataFrame")."""

    @property
    def n_rows(self) -> int | None:
        """Rows in all, when known without reading them (for progress only)."""

    def first_batch(self) -> Any | None:
        """The first non-empty batch of rows in order, or ``None`` when there are none."""

    def profile(self, template: bytes, done: PartsDone) -> DatasetProfile:
        """Profile every partition on ``template`` and merge the bytes."""


class LocalPartitions:
    """Partitions profiled one after the other in this process (the ``local`` engine).

    Parameters
    ----------
    partitions
        Returns a fresh iterable of partitions each time it is called (a reference is
        read twice); a partition is an iterable of batches (frames or column mappings).
    name
        Shown in the report.

    Examples
    --------
    >>> import numpy as np
    >>> parts = [[{"x": np.arange(10.0)}], [], [{"x": np.arange(10.0, 30.0)}]]
    >>> ref = profile_reference(LocalPartitions(lambda: parts))
    >>> ref.n_rows, ref.columns["x"].mean
    (30, 14.5)
    """

    def __init__(
        self,
        partitions: Callable[[], Iterable[Iterable[Any]]],
        *,
        name: str = "data",
        n_rows: int | None = None,
    ) -> None:
        self._partitions = partitions
        self._name = name
        self._n_rows = n_rows

    @property
    def name(self) -> str:
        """Shown in the report."""
        return self._name

    @property
    def n_rows(self) -> int | None:
        """Rows in all, when given."""
        return self._n_rows

    def first_batch(self) -> Any | None:
        """The first batch with rows."""
        for partition in self._partitions():
            for batch in partition:
                if _rows(batch):
                    return batch
        return None

    def profile(self, template: bytes, done: PartsDone) -> DatasetProfile:
        """Profile the partitions in order and merge them in a tree."""
        parts = list(self._partitions())
        total = len(parts)

        def each() -> Iterable[bytes]:
            for i, partition in enumerate(parts):
                yield profile_partition(template, partition)
                done(i + 1, total)

        return merge_profiles(each(), template=template)


def _rows(batch: Any) -> int:
    if isinstance(batch, Mapping):
        return max((len(v) for v in batch.values()), default=0)
    return len(batch)


def _stage(progress: Progress | None, stage: str, data: Partitions) -> PartsDone:
    if progress is None:
        return lambda _done, _total: None
    rows = data.n_rows

    def done(parts: int, total: int) -> None:
        if rows is None:
            progress(stage, parts, total)
        else:
            progress(stage, rows * parts // max(total, 1), rows)

    return done


def profile_reference(
    data: Partitions,
    schema: Schema | None = None,
    *,
    n_bins: int = DEFAULT_BINS,
    k: int = DEFAULT_K,
    progress: Progress | None = None,
) -> DatasetProfile:
    """Profile ``data`` as a reference, in two passes over its partitions.

    The schema is inferred from the first batch unless given, the layout from the
    merged first pass (:func:`~watchkeeper.profile.sketched_layout`).

    Raises
    ------
    SchemaError
        There are no rows to infer the schema from.
    """
    if schema is None:
        first = data.first_batch()
        if first is None:
            raise SchemaError(
                f"{data.name}: expected at least one row to infer the schema from, got none",
                field="batches",
                value=None,
                expected="one or more rows",
            )
        schema = infer_schema(first)
    scan = data.profile(profile_template(schema, k=k), _stage(progress, "scan", data))
    template = profile_template(schema, sketched_layout(scan, n_bins), k=k)
    return data.profile(template, _stage(progress, "count", data))


def profile_current(
    data: Partitions,
    reference: DatasetProfile,
    *,
    k: int = DEFAULT_K,
    progress: Progress | None = None,
) -> DatasetProfile:
    """Profile ``data`` on the reference's schema and layout, in one pass."""
    template = profile_template(reference.schema, reference.layout(), k=k)
    return data.profile(template, _stage(progress, "current", data))


def profile_partitions(
    data: Partitions,
    *,
    reference: DatasetProfile | None = None,
    schema: Schema | None = None,
) -> DatasetProfile:
    """``data`` profiled as a reference (two passes, ``schema`` inferred unless given), or
    on ``reference``'s schema and layout (one pass): what ``profile_dask`` and
    ``profile_spark`` do with a frame.

    Examples
    --------
    >>> import numpy as np
    >>> data = LocalPartitions(lambda: [[{"x": np.arange(10.0)}], [{"x": np.arange(5.0)}]])
    >>> ref = profile_partitions(data)
    >>> cur = profile_partitions(data, reference=ref)
    >>> ref.n_rows, cur.n_rows, round(cur.columns["x"].mean, 3)
    (15, 15, 3.667)
    """
    if reference is not None:
        return profile_current(data, reference)
    return profile_reference(data, schema)


_STAGES = {
    "scan": "scanning the reference",
    "count": "profiling the reference",
    "current": "profiling the current data",
}


def compare_partitions(
    reference: Partitions,
    current: Partitions,
    *,
    config: DriftConfig | None = None,
    column_methods: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Profile both datasets on one engine and compare them (drift judged on the driver).

    The same report as :func:`~watchkeeper.report.files.compare_files` gives in one
    process: the reference's schema from its first batch, its columns the current data
    lacks reported absent, the current's extra columns read off its first batch.
    """
    tell = progress or (lambda _stage, _done, _total: None)

    def staged(stage: str, done: int, total: int | None) -> None:
        tell(_STAGES[stage], done, total)

    ref = profile_reference(reference, progress=staged)
    first = current.first_batch()
    names: Sequence[str] = [str(c) for c in _columns(first)] if first is not None else []
    cur = profile_current(current, ref, progress=staged)
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


def _columns(batch: Any) -> Iterable[Any]:
    return batch.keys() if isinstance(batch, Mapping) else batch.columns
