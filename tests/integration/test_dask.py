"""Profiles and reports on a real ``dask.distributed.LocalCluster`` (2 worker processes on
127.0.0.1): the same profiles and verdicts as one process on the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cluster_cases import CUR, REF, assert_same_rows, write_parts

from watchkeeper.errors import InvalidBatchError
from watchkeeper.integrations import compare_datasets
from watchkeeper.profile import NumericProfile, profile_batches
from watchkeeper.report.files import compare_files

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("cuts", [[], [4_500], [100, 2_000, 2_000, 8_000]])
def test_dask_files_give_the_one_process_profiles_and_verdicts(
    dask_client: object, tmp_path: Path, cuts: list[int]
) -> None:
    ref_dir = write_parts(REF, tmp_path / "ref", cuts)
    cur_dir = write_parts(CUR, tmp_path / "cur", [3_000])
    ours = compare_datasets(ref_dir, f"{cur_dir}/*.parquet", engine="dask", session=dask_client)
    ref_one = tmp_path / "ref.parquet"
    cur_one = tmp_path / "cur.parquet"
    REF.to_parquet(ref_one, index=False)
    CUR.to_parquet(cur_one, index=False)
    one = compare_files(ref_one, cur_one)
    assert {c.name: c.drifted for c in ours.columns} == {c.name: c.drifted for c in one.columns}
    assert ours.drift.drifted == one.drift.drifted
    assert {c.name: c.missing for c in ours.columns} == {c.name: c.missing for c in one.columns}


def test_dask_frame_profile_equals_one_process(dask_client: object) -> None:
    import dask.dataframe as dd

    from watchkeeper.integrations.dask import profile_dask

    frame = dd.from_pandas(REF, npartitions=5)
    ours = profile_dask(frame, client=dask_client)
    assert_same_rows(ours, profile_batches(lambda: [REF]))
    reference = profile_batches(lambda: [REF])
    cur = profile_dask(dd.from_pandas(CUR, npartitions=3), reference=reference, client=dask_client)
    one = profile_batches(lambda: [CUR], reference=reference)
    assert_same_rows(cur, one)
    x, x_one = cur.columns["x"], one.columns["x"]
    assert isinstance(x, NumericProfile) and isinstance(x_one, NumericProfile)
    np.testing.assert_array_equal(x.bin_counts, x_one.bin_counts)


def test_an_empty_all_missing_and_wrongly_typed_file_as_in_one_process(
    dask_client: object, tmp_path: Path
) -> None:
    folder = tmp_path / "cur"
    folder.mkdir()
    CUR.iloc[0:0].to_parquet(folder / "a.parquet", index=False)
    CUR.to_parquet(folder / "b.parquet", index=False)
    missing = CUR.iloc[:30].copy()
    missing["x"] = np.nan
    missing.to_parquet(folder / "c.parquet", index=False)
    wrong = CUR.iloc[:20].copy()
    wrong["x"] = ["forty-two"] * 20
    wrong.to_parquet(folder / "d.parquet", index=False)
    ref_path = tmp_path / "ref.parquet"
    REF.to_parquet(ref_path, index=False)
    ours = compare_datasets(ref_path, folder, engine="dask", session=dask_client)
    local = compare_datasets(ref_path, folder, engine="local")
    assert [c.missing for c in ours.columns] == [c.missing for c in local.columns]
    assert {c.name: c.drifted for c in ours.columns} == {c.name: c.drifted for c in local.columns}


def test_an_unreadable_file_is_one_error_naming_it(dask_client: object, tmp_path: Path) -> None:
    folder = tmp_path / "cur"
    folder.mkdir()
    CUR.to_parquet(folder / "a.parquet", index=False)
    (folder / "b.parquet").write_bytes(b"not parquet at all")
    ref_path = tmp_path / "ref.parquet"
    REF.to_parquet(ref_path, index=False)
    with pytest.raises(InvalidBatchError, match=r"b\.parquet"):
        compare_datasets(ref_path, folder, engine="dask", session=dask_client)


def test_cli_check_with_the_dask_engine_fails_on_the_shifted_column(
    dask_client: object, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from watchkeeper.cli import app

    ref_dir = write_parts(REF, tmp_path / "ref", [3_000, 6_000])
    cur_dir = write_parts(CUR, tmp_path / "cur", [3_500])
    out = tmp_path / "check.json"
    args = ["check", str(ref_dir), str(cur_dir), "--column", "x", "--json", str(out)]
    result = CliRunner().invoke(app, [*args, "--engine", "dask"])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output
    assert {c["name"]: c["drifted"] for c in json.loads(out.read_text())["columns"]}["x"]
