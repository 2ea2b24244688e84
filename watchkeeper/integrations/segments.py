"""Per-segment profiles on Spark and Dask: one profile per segment, merged from bytes.

The same :class:`~watchkeeper.profile.segments.SegmentSet` one process builds with
``SegmentSet.for_reference(columns, reference).update_table(rows)``, computed where the
rows lie. What runs where:

1. the driver fixes each segment column's tracked values (the reference's ``top_k``
   most frequent; the rest are ``"other"``) and encodes one template: an empty profile
   on the reference's schema and layout (:func:`~watchkeeper.integrations._core.profile_template`);
2. **Spark**: a column naming each row's segment is added, then
   ``groupBy(segment, spark_partition_id()).applyInPandas`` profiles each group with the
   partition profiler of :mod:`watchkeeper.integrations._core` and returns
   ``(segment, profile bytes)``. Grouping by the partition too keeps a group no larger
   than one partition: a group of a whole segment would load all of that segment's rows
   into one executor's memory (Spark's documented limit of ``applyInPandas``);
   **Dask**: each partition is grouped by segment with pandas (``groupby``) and each
   group profiled by the same partition profiler, in one task per partition;
3. the driver merges the bytes of each segment in a tree
   (:func:`~watchkeeper.integrations._core.merge_profiles`); only bytes cross processes.

The result equals the one-process segment set of the same rows: counts, missing values,
categories and bin counts exactly, moments within float rounding, quantiles within the
sketches' error, whatever the partitioning. Values are compared as text: a segment
column should be a string column (Spark casts other types its own way).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from watchkeeper.errors import ColumnNotFoundError, MissingExtraError
from watchkeeper.integrations._core import merge_profiles, profile_partition, profile_template
from watchkeeper.profile import DatasetProfile
from watchkeeper.profile.segments import DEFAULT_TOP_K, OTHER_SEGMENT, SEGMENT_K, SegmentSet

__all__ = ["SEGMENT_FIELD", "segment_profiles_dask", "segment_profiles_spark"]

SEGMENT_FIELD = "__watchkeeper_segment"
"""The helper column naming each row's segment (dropped before profiling)."""
_PART_FIELD = "__watchkeeper_partition"


def _plan(
    columns: Sequence[str], reference: DatasetProfile, top_k: int
) -> tuple[SegmentSet, bytes]:
    """The empty segment set (tracked values) and the per-segment profile template."""
    for column in columns:
        if column not in reference.schema:
            raise ColumnNotFoundError(
                f"segments: column {column!r} is not in the reference; expected one of: "
                f"{', '.join(reference.schema.names)}",
                field="segments",
                value=column,
                expected=", ".join(reference.schema.names),
            )
    empty = SegmentSet.for_reference(columns, reference, top_k=top_k)
    template = profile_template(reference.schema, reference.layout(), k=SEGMENT_K)
    return empty, template


def _assemble(
    empty: SegmentSet, template: bytes, parts: dict[str, dict[str, list[bytes]]]
) -> SegmentSet:
    """Merge each segment's bytes (tree) into the segment set's profiles."""
    out = empty.empty_like()
    for column, segments in parts.items():
        out[column].profiles = {
            segment: merge_profiles(blobs, template=template) for segment, blobs in segments.items()
        }
    return out


def _bucket(values: Any, tracked: Sequence[str]) -> Any:
    """Each value's segment (pandas): tracked values as text, the rest ``other``."""
    text = values.astype("string")
    return text.where(text.isin(list(tracked)), OTHER_SEGMENT).astype(object)


def _profile_groups(template: bytes, frame: Any, column: str, tracked: Sequence[str]) -> Any:
    """One partition grouped by segment (pandas), each group profiled: a frame of
    ``(segment, profile)`` rows."""
    import pandas as pd

    keys = _bucket(frame[column], tracked)
    rows = [
        (str(segment), profile_partition(template, [group]))
        for segment, group in frame.groupby(keys, sort=True, dropna=False)
    ]
    return pd.DataFrame(rows, columns=["segment", "profile"])


def segment_profiles_dask(
    frame: Any,
    reference: DatasetProfile,
    columns: Sequence[str],
    *,
    top_k: int = DEFAULT_TOP_K,
    client: Any = None,
) -> SegmentSet:
    """Per-segment profiles of a Dask DataFrame (see the module docstring).

    Raises
    ------
    ColumnNotFoundError
        A segment column is not in the reference.
    MissingExtraError
        Dask is not installed.
    """
    from watchkeeper.integrations.dask import default_client

    empty, template = _plan(columns, reference, top_k)
    parts: dict[str, dict[str, list[bytes]]] = {}
    with default_client() if client is None else _given(client) as session:
        from dask.delayed import delayed

        for part in empty:
            tasks = [
                delayed(_profile_groups)(template, chunk, part.column, part.values)
                for chunk in frame.to_delayed()
            ]
            for result in session.gather(session.compute(tasks)):
                for segment, blob in zip(result["segment"], result["profile"], strict=True):
                    parts.setdefault(part.column, {}).setdefault(str(segment), []).append(blob)
    return _assemble(empty, template, parts)


def _spark_profiler(template: bytes) -> Any:
    def run(group: Any) -> Any:
        import pandas as pd

        segment = str(group[SEGMENT_FIELD].iloc[0])
        rows = group.drop(columns=[SEGMENT_FIELD, _PART_FIELD])
        return pd.DataFrame(
            {"segment": [segment], "profile": [profile_partition(template, [rows])]}
        )

    return run


def segment_profiles_spark(
    frame: Any,
    reference: DatasetProfile,
    columns: Sequence[str],
    *,
    top_k: int = DEFAULT_TOP_K,
) -> SegmentSet:
    """Per-segment profiles of a Spark DataFrame (see the module docstring).

    Raises
    ------
    ColumnNotFoundError
        A segment column is not in the reference.
    MissingExtraError
        pyspark is not installed.
    """
    import warnings

    try:
        from pyspark.sql import functions
    except ImportError as exc:
        raise MissingExtraError.needs(
            "the Spark engine needs pyspark", "spark", field="engine"
        ) from exc
    empty, template = _plan(columns, reference, top_k)
    parts: dict[str, dict[str, list[bytes]]] = {}
    for part in empty:
        col = functions.col(part.column)
        tracked = (
            col.cast("string").isin(list(part.values)) if part.values else functions.lit(False)
        )
        keyed = frame.withColumn(
            SEGMENT_FIELD,
            functions.when(tracked, col.cast("string")).otherwise(functions.lit(OTHER_SEGMENT)),
        ).withColumn(_PART_FIELD, functions.spark_partition_id())
        grouped = keyed.groupBy(SEGMENT_FIELD, _PART_FIELD).applyInPandas(
            _spark_profiler(template), schema="segment string, profile binary"
        )
        with warnings.catch_warnings():
            # pyspark 4 warns that pandas 3 is not fully supported; only strings and
            # bytes cross here, checked against one process in the tests
            warnings.filterwarnings(
                "ignore",
                message="PySpark does not yet fully support pandas",
                category=FutureWarning,
            )
            for row in grouped.toLocalIterator():
                parts.setdefault(part.column, {}).setdefault(row["segment"], []).append(
                    bytes(row["profile"])
                )
    return _assemble(empty, template, parts)


class _given:
    """A client the caller owns, used as it is (not closed)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        return None
