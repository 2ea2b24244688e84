"""report and check with --multivariate: the section, the JSON and the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from watchkeeper.cli import app
from watchkeeper.errors import ConfigError
from watchkeeper.report import CheckPolicy, compare_frames, run_check

runner = CliRunner()
PAIR = {"income", "spend"}


def _write(tmp_path: Path, name: str, rho: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    n = 4_000
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": x,
            "spend": rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n),
            "city": rng.choice(["Oslo", "Rome"], n),
        }
    )
    path = tmp_path / name
    frame.to_parquet(path)
    return path


def test_check_multivariate_fails_on_a_correlation_flip_only(tmp_path: Path) -> None:
    ref = _write(tmp_path, "ref.parquet", 0.8, 1)
    same = _write(tmp_path, "same.parquet", 0.8, 2)
    flipped = _write(tmp_path, "flipped.parquet", -0.8, 3)

    plain = runner.invoke(app, ["check", str(ref), str(flipped)])
    assert plain.exit_code == 0, plain.output  # no column drifted on its own

    failed = runner.invoke(app, ["check", str(ref), str(flipped), "--multivariate"])
    assert failed.exit_code == 1, failed.output
    lines = failed.output.strip().splitlines()
    assert lines[0].startswith("FAIL multivariate: pca: mean PCA reconstruction error")
    assert "top features: " in lines[0]
    top = lines[0].split("top features: ")[1].split(", ")
    assert set(top[:2]) == PAIR

    passed = runner.invoke(app, ["check", str(ref), str(same), "--multivariate"])
    assert passed.exit_code == 0, passed.output


def test_report_multivariate_writes_the_section_and_the_json(tmp_path: Path) -> None:
    ref = _write(tmp_path, "ref.parquet", 0.8, 1)
    flipped = _write(tmp_path, "flipped.parquet", -0.8, 3)
    html, out = tmp_path / "r.html", tmp_path / "r.json"
    result = runner.invoke(
        app,
        ["report", str(ref), str(flipped), "--multivariate", "-o", str(html), "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())["multivariate"]
    assert doc["drifted"] is True
    assert [v["method"] for v in doc["verdicts"]] == ["pca", "domain_classifier"]
    assert {c["feature"] for c in doc["root_causes"][:2]} == PAIR
    assert all(c["drifted"] is False for c in doc["root_causes"] if c["feature"] in PAIR)
    page = html.read_text()
    assert "Why did it change?" in page and 'id="root-cause-table"' in page

    without = tmp_path / "plain.json"
    runner.invoke(app, ["report", str(ref), str(flipped), "-o", str(html), "--json", str(without)])
    assert json.loads(without.read_text())["multivariate"] is None


def test_a_multivariate_check_needs_a_multivariate_report() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=100), "y": rng.normal(size=100)})
    with pytest.raises(ConfigError, match="multivariate: the report has no multivariate part"):
        run_check(compare_frames(frame, frame), CheckPolicy(multivariate=True))


def test_a_dataset_directory_is_refused_with_one_line(tmp_path: Path) -> None:
    ref = _write(tmp_path, "ref.parquet", 0.8, 1)
    (tmp_path / "parts").mkdir()
    _write(tmp_path / "parts", "a.parquet", 0.8, 2)
    result = runner.invoke(app, ["check", str(ref), str(tmp_path / "parts"), "--multivariate"])
    assert result.exit_code == 2, result.output
    assert "is a dataset of several files; expected one data file per side" in result.output
