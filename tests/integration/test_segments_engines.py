"""Per-segment profiles on a real Spark session (``local[2]``) and a real Dask
``LocalCluster`` (2 worker processes), equal to the one-process segment set of the same
rows: rows, counts, missing values and bins exactly, moments to 1e-9 relative."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from watchkeeper.profile import CategoricalProfile, NumericProfile, profile_table
from watchkeeper.profile.segments import SegmentSet

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

COLUMNS = ["region", "channel"]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(10.0, 3.0, n)
    x[rng.random(n) < 0.05] = np.nan
    region = rng.choice([f"r{i}" for i in range(8)], n).astype(object)
    region[rng.random(n) < 0.02] = None  # missing: counted in "other"
    return pd.DataFrame(
        {
            "x": x,
            "region": region,
            "channel": rng.choice(["web", "app", "phone"], n),
            "kind": rng.choice(["a", "b"], n),
        }
    )


REF = _frame(6_000, seed=1)
CUR = _frame(5_000, seed=2)
REFERENCE = profile_table(REF)


def _one_process(columns: list[str]) -> SegmentSet:
    # top 5 of 8 regions tracked: the other three and the missing values are "other"
    return SegmentSet.for_reference(columns, REFERENCE, top_k=5).update_table(CUR)


def _assert_same(ours: SegmentSet, one: SegmentSet) -> None:
    assert list(ours.parts) == list(one.parts)
    for column in one.parts:
        assert ours[column].values == one[column].values
        assert ours[column].counts() == one[column].counts()
        for segment, profile in one[column].profiles.items():
            mine = ours[column].profiles[segment]
            for name, col in profile.columns.items():
                other = mine.columns[name]
                if isinstance(col, NumericProfile):
                    assert isinstance(other, NumericProfile)
                    assert (other.count, other.missing, other.min, other.max) == (
                        col.count, col.missing, col.min, col.max
                    )  # fmt: skip
                    assert other.mean == pytest.approx(col.mean, rel=1e-9)
                    assert list(other.bin_counts) == list(col.bin_counts)
                else:
                    assert isinstance(col, CategoricalProfile)
                    assert isinstance(other, CategoricalProfile)
                    assert (other.counts, other.other, other.missing) == (
                        col.counts, col.other, col.missing
                    )  # fmt: skip


def test_dask_segment_profiles_equal_one_process(dask_client: Any) -> None:
    import dask.dataframe as dd

    from watchkeeper.integrations.segments import segment_profiles_dask

    frame = dd.from_pandas(CUR, npartitions=5)
    ours = segment_profiles_dask(frame, REFERENCE, COLUMNS, top_k=5, client=dask_client)
    _assert_same(ours, _one_process(COLUMNS))


def test_spark_segment_profiles_equal_one_process(spark: Any) -> None:
    from watchkeeper.integrations.segments import segment_profiles_spark

    frame = spark.createDataFrame(CUR).repartition(3)
    # one segment column: each is one job of the same code (a JVM job costs seconds)
    ours = segment_profiles_spark(frame, REFERENCE, ["region"], top_k=5)
    _assert_same(ours, _one_process(["region"]))
