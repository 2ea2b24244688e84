"""Profiles and reports on a real ``pyspark`` session (``local[2]``, UI off, on
127.0.0.1): the same profiles and verdicts as one process on the same rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cluster_cases import CUR, REF, assert_same_rows, write_parts

from watchkeeper.errors import InvalidBatchError
from watchkeeper.integrations import compare_datasets
from watchkeeper.profile import NumericProfile, profile_batches
from watchkeeper.report import build_report
from watchkeeper.report.files import compare_files

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # pyspark 4 warns that pandas 3 is not fully supported when the tests build frames
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


@pytest.mark.parametrize("cuts", [[100, 2_000, 2_000, 8_000]])
def test_spark_files_give_the_one_process_profiles_and_verdicts(
    spark: Any, tmp_path: Path, cuts: list[int]
) -> None:
    ref_dir = write_parts(REF, tmp_path / "ref", cuts)
    cur_dir = write_parts(CUR, tmp_path / "cur", [3_000])
    ours = compare_datasets(ref_dir, f"{cur_dir}/*.parquet", engine="spark", session=spark)
    ref_one = tmp_path / "ref.parquet"
    cur_one = tmp_path / "cur.parquet"
    REF.to_parquet(ref_one, index=False)
    CUR.to_parquet(cur_one, index=False)
    one = compare_files(ref_one, cur_one)
    assert {c.name: c.drifted for c in ours.columns} == {c.name: c.drifted for c in one.columns}
    assert ours.drift.drifted == one.drift.drifted
    assert {c.name: c.missing for c in ours.columns} == {c.name: c.missing for c in one.columns}


@pytest.mark.parametrize("partitions", [5])
def test_spark_frame_profile_equals_one_process(spark: Any, partitions: int) -> None:
    from watchkeeper.integrations import profile_reference
    from watchkeeper.integrations.spark import SparkFrame, profile_spark

    frame = spark.createDataFrame(REF).repartition(partitions)
    reference = profile_batches(lambda: [REF])
    # more partitions than the driver merges: merged on the executors in groups first
    ours = profile_reference(SparkFrame(frame, driver_merges=2))
    assert_same_rows(ours, reference)
    # one column per job (the wide-table path, joined back into one profile), and the
    # current data lacks "y": counted missing, as in one process, even in y's own job
    cur_rows = CUR.drop(columns="y")
    frame_cur = spark.createDataFrame(cur_rows).repartition(partitions)
    cur = profile_spark(frame_cur, reference=reference, columns_per_job=1)
    one = profile_batches(lambda: [cur_rows], reference=reference)
    assert_same_rows(cur, one)
    assert cur.columns["y"].missing == len(CUR)
    x, x_one = cur.columns["x"], one.columns["x"]
    assert isinstance(x, NumericProfile) and isinstance(x_one, NumericProfile)
    np.testing.assert_array_equal(x.bin_counts, x_one.bin_counts)


def test_spark_report_of_frames_judges_drift_as_one_process(spark: Any) -> None:
    from watchkeeper.integrations.spark import report_spark

    ours = report_spark(spark.createDataFrame(REF), spark.createDataFrame(CUR).repartition(4))
    ref = profile_batches(lambda: [REF])
    one = build_report(ref, profile_batches(lambda: [CUR], reference=ref))
    assert {c.name: c.drifted for c in ours.columns} == {c.name: c.drifted for c in one.columns}
    assert ours.drift.drifted == one.drift.drifted
    assert [c.name for c in ours.columns if c.drifted] == ["x"]


def test_empty_and_all_missing_files_as_in_one_process(spark: Any, tmp_path: Path) -> None:
    folder = tmp_path / "cur"
    folder.mkdir()
    CUR.iloc[0:0].to_parquet(folder / "a.parquet", index=False)
    CUR.to_parquet(folder / "b.parquet", index=False)
    missing = CUR.iloc[:30].copy()
    missing["x"] = np.nan
    missing.to_parquet(folder / "c.parquet", index=False)
    ref_path = tmp_path / "ref.parquet"
    REF.to_parquet(ref_path, index=False)
    ours = compare_datasets(ref_path, folder, engine="spark", session=spark)
    local = compare_datasets(ref_path, folder, engine="local")
    assert [c.missing for c in ours.columns] == [c.missing for c in local.columns]
    assert {c.name: c.drifted for c in ours.columns} == {c.name: c.drifted for c in local.columns}


def test_a_file_spark_cannot_merge_is_one_error_naming_the_dataset(
    spark: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "cur"
    folder.mkdir()
    CUR.to_parquet(folder / "a.parquet", index=False)
    wrong = CUR.iloc[:20].copy()
    wrong["x"] = ["forty-two"] * 20  # a string column where the other file has doubles
    wrong.to_parquet(folder / "b.parquet", index=False)
    ref_path = tmp_path / "ref.parquet"
    REF.to_parquet(ref_path, index=False)
    with pytest.raises(InvalidBatchError, match=r"^cur: .*b\.parquet.*column \[x\]") as info:
        compare_datasets(ref_path, folder, engine="spark", session=spark)
    assert "\n" not in str(info.value) and " at org.apache" not in str(info.value)


def test_cli_report_with_the_spark_engine_writes_the_one_process_verdicts(
    spark: Any, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from watchkeeper.cli import app

    ref_dir = write_parts(REF, tmp_path / "ref", [4_000])
    cur_dir = write_parts(CUR, tmp_path / "cur", [])
    out = tmp_path / "report.json"
    args = ["report", str(ref_dir), f"{cur_dir}/*.parquet", "-o", str(tmp_path / "r.html")]
    result = CliRunner().invoke(app, [*args, "--json", str(out), "--engine", "spark"])
    assert result.exit_code == 0, result.output
    verdicts = {c["name"]: c["drifted"] for c in json.loads(out.read_text())["columns"]}
    assert verdicts == {"x": True, "y": False, "city": False}
    assert spark.sparkContext._jsc is not None  # the test's session was joined, not stopped
