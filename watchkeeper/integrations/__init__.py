"""Profiles and reports on clusters: Spark and Dask, for data that outgrows one machine.

Profiles merge, so a cluster only has to profile its partitions and merge bytes; the
drift verdict runs on the merged profiles on the driver. The engine-neutral core
profiles a partition on a template (schema, reference layout) into bytes
(:func:`profile_partition`) and merges bytes in a tree (:func:`merge_profiles`); a
reference is profiled in two passes, the layout read off the first
(:func:`profile_reference`), exactly as one process does for files larger than memory.
:func:`compare_datasets` runs ``watchkeeper report/check --engine local|dask|spark``.
The engines live in :mod:`watchkeeper.integrations.dask` and
:mod:`watchkeeper.integrations.spark`, imported only when used.
"""

from __future__ import annotations

from watchkeeper.integrations._core import (
    join_columns,
    merge_bytes,
    merge_profiles,
    profile_partition,
    profile_template,
    raise_if_error,
    subset_template,
)
from watchkeeper.integrations._dataset import (
    LocalPartitions,
    Partitions,
    compare_partitions,
    profile_current,
    profile_reference,
)
from watchkeeper.integrations._files import ENGINES, Engine, compare_datasets, dataset_files

__all__ = [
    "ENGINES",
    "Engine",
    "LocalPartitions",
    "Partitions",
    "compare_datasets",
    "compare_partitions",
    "dataset_files",
    "join_columns",
    "merge_bytes",
    "merge_profiles",
    "profile_current",
    "profile_partition",
    "profile_reference",
    "profile_template",
    "raise_if_error",
    "subset_template",
]
