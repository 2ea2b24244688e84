"""``watchkeeper report/check --engine``: datasets (directories, globs) profiled on an
engine give the report one process gives on the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from watchkeeper.cli import app

runner = CliRunner()


def _frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(shift, 1.0, n), "c": rng.choice(["a", "b", "c"], n)})


@pytest.fixture
def datasets(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    ref, cur = _frame(3_000, 1), _frame(2_000, 2, shift=1.0)
    ref_dir, cur_dir = tmp_path / "ref", tmp_path / "cur"
    ref_dir.mkdir()
    cur_dir.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(ref)), 3)):
        ref.iloc[part].to_parquet(ref_dir / f"p{i}.parquet", index=False)
    for i, part in enumerate(np.array_split(np.arange(len(cur)), 2)):
        cur.iloc[part].to_parquet(cur_dir / f"p{i}.parquet", index=False)
    ref.to_parquet(tmp_path / "ref.parquet", index=False)
    cur.to_parquet(tmp_path / "cur.parquet", index=False)
    return ref_dir, cur_dir, tmp_path / "ref.parquet", tmp_path / "cur.parquet"


def _verdicts(path: Path) -> dict[str, bool]:
    doc = json.loads(path.read_text())
    return {c["name"]: c["drifted"] for c in doc["columns"]}


def test_report_on_directories_judges_as_one_process_on_the_whole_files(
    datasets: tuple[Path, Path, Path, Path], tmp_path: Path
) -> None:
    ref_dir, cur_dir, ref_file, cur_file = datasets
    out = ["-o", str(tmp_path / "r.html")]
    args = [str(ref_dir), f"{cur_dir}/*.parquet", *out, "--json", str(tmp_path / "a.json")]
    engine = runner.invoke(app, ["report", *args, "--engine", "local"])
    assert engine.exit_code == 0, engine.output
    one = runner.invoke(app, ["report", str(ref_file), str(cur_file), *out, "--json",
                              str(tmp_path / "b.json")])  # fmt: skip
    assert one.exit_code == 0, one.output
    assert (
        _verdicts(tmp_path / "a.json")
        == _verdicts(tmp_path / "b.json")
        == {
            "x": True,
            "c": False,
        }
    )


def test_check_on_directories_fails_on_the_drifted_column(
    datasets: tuple[Path, Path, Path, Path],
) -> None:
    ref_dir, cur_dir, _, _ = datasets
    result = runner.invoke(app, ["check", str(ref_dir), str(cur_dir), "--column", "x"])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--engine", "ray"], "engine: unknown engine 'ray'; expected one of: local, dask, spark"),
        (["--engine", "local", "--json", "x.json"], "no data file found"),
    ],
)
def test_bad_engine_or_empty_dataset_is_one_line_and_exit_2(
    datasets: tuple[Path, Path, Path, Path], tmp_path: Path, args: list[str], expected: str
) -> None:
    ref_dir, cur_dir, _, _ = datasets
    cur = str(cur_dir) if "ray" in args else str(tmp_path / "nothing-*.parquet")
    result = runner.invoke(app, ["report", str(ref_dir), cur, *args])
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output
