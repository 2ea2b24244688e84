"""Profiles and reports on Spark: ``mapInPandas`` per partition, bytes merged in a tree.

``pip install "watchkeeper[spark]"`` (pyspark, and a Java runtime). What runs where: the
driver infers the schema from the first batch and encodes a template (schema, layout,
``k``); each executor's Python worker receives the template inside the function
``mapInPandas`` ships, profiles its partition's Arrow batches (Spark always moves
``mapInPandas`` data as Arrow, ``spark.sql.execution.arrow.maxRecordsPerBatch`` rows at a
time) and emits one row holding the profile's bytes. Up to ``driver_merges`` (32) such
rows are collected and merged on the driver; more are first merged on the executors in
``ceil(sqrt(n))`` groups (a ``repartition`` and a second ``mapInPandas``: the two levels
of ``treeReduce(depth=2)``, with one kind of Python worker and no pickled RDD rows), so
the driver receives at most about ``sqrt(n)`` profiles. Wide tables are profiled
``columns_per_job`` columns at a time, one job each, so an executor holds the profiles of
a bounded number of columns whatever the width (whylogs' answer to the same problem).

Examples
--------
::

    from watchkeeper.integrations.spark import profile_spark, report_spark
    ref = profile_spark(spark.read.parquet("s3://bucket/train/"))
    Path("train.wkprof").write_bytes(ref.to_bytes())  # a reference for the collector
    report = report_spark(spark.read.parquet(ref_path), spark.read.parquet(cur_path))
"""

from __future__ import annotations

import itertools
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from watchkeeper.errors import InvalidBatchError
from watchkeeper.integrations._core import (
    import_engine,
    join_columns,
    merge_bytes,
    merge_profiles,
    profile_partition,
    subset_template,
)
from watchkeeper.integrations._dataset import PartsDone, compare_partitions, profile_partitions
from watchkeeper.integrations._files import first_file_batch, total_rows
from watchkeeper.profile import DatasetProfile
from watchkeeper.report import Report
from watchkeeper.report.build import Progress
from watchkeeper.schema import Schema
from watchkeeper.stats import DriftConfig
from watchkeeper.tables import BATCH_ROWS

__all__ = [
    "COLUMNS_PER_JOB",
    "DRIVER_MERGES",
    "SparkFiles",
    "SparkFrame",
    "default_session",
    "profile_spark",
    "report_spark",
]

COLUMNS_PER_JOB = 32
"""Columns profiled by one Spark job; wider tables take several jobs over the same rows."""

DRIVER_MERGES = 32
"""Partition profiles merged on the driver at most; more are merged on the executors first."""

_BYTES = "profile binary"


def _pyspark() -> Any:
    return import_engine("pyspark.sql", "the Spark engine needs pyspark", "spark")


@contextmanager
def default_session() -> Iterator[Any]:
    """The active ``SparkSession`` if there is one, else a local one (``local[*]``, UI
    off, session time zone UTC so timestamps reach pandas as they are stored, Arrow
    batches of :data:`~watchkeeper.tables.BATCH_ROWS` rows, this Python on the
    executors), stopped on exit."""
    sql = _pyspark()
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    # the executors' Python is this one, where watchkeeper is installed (the config key
    # alone is not read by local workers: the variable is)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        sql.SparkSession.builder.master("local[*]")
        .appName("watchkeeper")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # the CLI tells its own progress
        .config("spark.sql.session.timeZone", "UTC")
        # Arrow batches of the rows the other engines read at a time (default 10,000)
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS))
        .getOrCreate()
    )
    try:
        yield spark
    finally:
        spark.stop()


def _profiler(template: bytes) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The function ``mapInPandas`` ships to the executors: only ``template`` (bytes) is
    captured, and one row of profile bytes comes back per partition."""

    def run(frames: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        yield pd.DataFrame({"profile": [profile_partition(template, frames)]})

    return run


@contextmanager
def _pandas3_tolerated() -> Iterator[None]:
    """PySpark 4 warns on every pandas call that pandas 3 is not fully supported; the
    profiles only exchange float, string and binary columns, checked against one process
    in the tests, so that warning is not the caller's concern."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield


def _merge_group(frames: Iterator[Any]) -> Iterator[Any]:
    """The executors' level of the tree: this task's profiles merged into one row."""
    import pandas as pd

    blobs = (bytes(blob) for frame in frames for blob in frame["profile"])
    first = next(blobs, None)
    if first is not None:  # a round-robin group may be empty
        yield pd.DataFrame({"profile": [merge_bytes(itertools.chain([first], blobs))]})


def _spark_error(exc: Exception, name: str) -> InvalidBatchError:
    """Spark's error as one line: its innermost ``[ERROR_CLASS] message``, which names
    the file and the column, without the Java stack."""
    text = " ".join(str(exc).split())
    classed = re.findall(r"\[[A-Z_.]+\] (.*?)(?: SQLSTATE: \w+|$)", text)
    reason = classed[-1] if classed else text[:300] or type(exc).__name__
    return InvalidBatchError(
        f"{name}: Spark could not read or profile it ({reason})",
        field="path",
        value=name,
        expected="a dataset Spark can read",
    )


class SparkFrame:
    """A Spark DataFrame's partitions, profiled by ``mapInPandas`` jobs.

    Parameters
    ----------
    frame
        The DataFrame.
    name
        Shown in the report.
    columns_per_job
        Columns profiled by one job (:data:`COLUMNS_PER_JOB`).
    driver_merges
        Partition profiles merged on the driver at most (:data:`DRIVER_MERGES`).
    """

    def __init__(
        self,
        frame: Any,
        *,
        name: str = "spark DataFrame",
        columns_per_job: int = COLUMNS_PER_JOB,
        driver_merges: int = DRIVER_MERGES,
    ) -> None:
        self.frame = frame
        self.columns_per_job = max(1, columns_per_job)
        self.driver_merges = max(1, driver_merges)
        self.name = name
        self.n_rows: int | None = None  # not known without a job

    def first_batch(self) -> Any | None:
        """The first rows in the frame's order (``limit``), as Arrow converted to pandas by
        pyarrow, the conversion one process applies to the files it reads."""
        with _pandas3_tolerated():
            head = self.frame.limit(BATCH_ROWS).toArrow().to_pandas()
        return head if len(head) else None

    def profile(self, template: bytes, done: PartsDone) -> DatasetProfile:
        """One ``mapInPandas`` job per group of columns, its profiles merged in a tree."""
        names = list(DatasetProfile.from_bytes(template).schema.names)
        present = set(self.frame.columns)
        groups = [
            names[i : i + self.columns_per_job] for i in range(0, len(names), self.columns_per_job)
        ]
        profiles = []
        for i, group in enumerate(groups):
            sub = subset_template(template, group) if len(groups) > 1 else template
            # absent columns stay in the template: they are counted missing, as in one process
            cols = [self.frame[c] for c in group if c in present]
            if not cols and self.frame.columns:  # an extra column keeps the rows counted
                cols = [self.frame[self.frame.columns[0]]]
            profiles.append(self._profile_columns(self.frame.select(*cols), sub))
            done(i + 1, len(groups))
        return profiles[0] if len(groups) == 1 else join_columns(template, profiles)

    def _profile_columns(self, frame: Any, template: bytes) -> DatasetProfile:
        """One job: a profile per partition, merged on the executors in ``ceil(sqrt(n))``
        groups when there are more than :attr:`driver_merges`, then on the driver."""
        with _pandas3_tolerated():
            try:
                parts = frame.mapInPandas(_profiler(template), _BYTES)
                n = parts.rdd.getNumPartitions()
                if n > self.driver_merges:
                    parts = parts.repartition(math.isqrt(n - 1) + 1).mapInPandas(
                        _merge_group, _BYTES
                    )
                blobs = [bytes(row[0]) for row in parts.collect()]
            except Exception as exc:  # py4j and pyspark errors share no base class
                raise _spark_error(exc, self.name) from exc
        # no partitions at all give the template: nothing was profiled
        return merge_profiles(blobs, template=template)


class SparkFiles(SparkFrame):
    """Parquet files read by Spark (``spark.read.parquet``); the schema is inferred on
    the driver from the first file's first batch, as one process does."""

    def __init__(self, files: Sequence[Path], spark: Any, *, name: str) -> None:
        self.files = list(files)
        wrong = [p for p in self.files if p.suffix.lower() != ".parquet"]
        if wrong:
            raise InvalidBatchError(
                f"file {str(wrong[0])!r}: the Spark engine reads parquet; expected a .parquet file",
                field="path",
                value=str(wrong[0]),
                expected="a .parquet file",
            )
        rows = total_rows(self.files)
        try:
            frame = spark.read.parquet(*[str(p) for p in self.files])
        except Exception as exc:  # Spark's analysis errors name no common base class here
            raise _spark_error(exc, name) from exc
        super().__init__(frame, name=name)
        self.n_rows = rows  # from the files' metadata

    def first_batch(self) -> Any | None:
        """The first non-empty batch, read on the driver as one process reads it."""
        return first_file_batch(self.files)


def profile_spark(
    frame: Any,
    *,
    reference: DatasetProfile | None = None,
    schema: Schema | None = None,
    columns_per_job: int = COLUMNS_PER_JOB,
) -> DatasetProfile:
    """Profile a Spark DataFrame: as a reference (two passes), or on ``reference``."""
    data = SparkFrame(frame, columns_per_job=columns_per_job)
    return profile_partitions(data, reference=reference, schema=schema)


def report_spark(
    reference: Any,
    current: Any,
    *,
    config: DriftConfig | None = None,
    progress: Progress | None = None,
) -> Report:
    """Compare two Spark DataFrames: profiles on the executors, drift judged on the driver."""
    return compare_partitions(
        SparkFrame(reference, name="reference"),
        SparkFrame(current, name="current"),
        config=config,
        progress=progress,
    )
