"""The report's and check's segments section (``--segment COL``): known answers checked
against pandas and scikit-learn, the CLI's exit codes and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score
from typer.testing import CliRunner

from watchkeeper.cli import app
from watchkeeper.report.segments import compare_segment_frames, segment_failures

REGIONS = ["north", "east", "west", "south"]
runner = CliRunner()


def _frame(rng: np.random.Generator, n: int, *, south: float = 0.9, shift: float = 0.0):
    region = rng.choice(REGIONS, n, p=[0.4, 0.25, 0.25, 0.1])
    label = rng.choice(["yes", "no"], n)
    right = rng.random(n) < np.where(region == "south", south, 0.9)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n) + np.where(region == "west", shift, 0.0),
            "region": region,
            "label": label,
            "prediction": np.where(right, label, np.where(label == "yes", "no", "yes")),
        }
    )


def test_section_ranks_south_and_flags_the_shifted_segment_with_pandas_counts() -> None:
    rng = np.random.default_rng(1)
    ref, cur = _frame(rng, 8000), _frame(rng, 5000, south=0.6, shift=8.0)
    section = compare_segment_frames(ref, cur, ["region"])
    assert section.metric == "accuracy"
    first = section.segments[0]
    assert first.segment == "south" and first.performance is not None
    assert first.performance.flagged and first.performance.baseline == "reference"
    drifted = {row.segment for row in section.segments if row.drifted}
    assert drifted == {"west"}
    for row in section.segments:
        ref_rows, cur_rows = ref[ref["region"] == row.segment], cur[cur["region"] == row.segment]
        assert row.rows == (len(ref_rows), len(cur_rows))
        assert row.performance is not None
        assert row.performance.current == pytest.approx(
            accuracy_score(cur_rows["label"], cur_rows["prediction"])
        )
        assert row.performance.baseline_value == pytest.approx(
            accuracy_score(ref_rows["label"], ref_rows["prediction"])
        )
    lines = segment_failures(section)
    assert any(line.startswith("segment region=south: accuracy") for line in lines)
    assert any(line.startswith("segment region=west: drifted") for line in lines)
    doc = section.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["segments"][0]["performance"]["segment"] == "south"


def test_without_labels_the_section_judges_drift_only() -> None:
    rng = np.random.default_rng(2)
    ref = _frame(rng, 4000).drop(columns=["label"])
    cur = _frame(rng, 2000).drop(columns=["label"])
    section = compare_segment_frames(ref, cur, ["region"])
    assert section.metric is None
    assert all(row.performance is None for row in section.segments)
    assert not any(row.drifted for row in section.segments)


def _files(tmp_path: Path, **options: float) -> tuple[str, str]:
    rng = np.random.default_rng(3)
    _frame(rng, 6000).to_parquet(tmp_path / "ref.parquet")
    _frame(rng, 3000, **options).to_parquet(tmp_path / "cur.parquet")
    return str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet")


def test_check_fails_on_a_weaker_segment_and_passes_without_one(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path, south=0.5)
    out = tmp_path / "check.json"
    result = runner.invoke(app, ["check", ref, cur, "--segment", "region", "--json", str(out)])
    assert result.exit_code == 1, result.output
    assert "FAIL segment region=south: accuracy" in result.output
    doc = json.loads(out.read_text())
    assert doc["check"]["passed"] is False and doc["check"]["segment_failures"]
    assert doc["segments"]["segments"][0]["segment"] == "south"
    same_ref, same_cur = _files(tmp_path)
    again = runner.invoke(app, ["check", same_ref, same_cur, "--segment", "region"])
    assert again.exit_code == 0, again.output


def test_an_unknown_segment_column_is_one_line_and_exit_2(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path)
    result = runner.invoke(app, ["report", ref, cur, "-o", str(tmp_path / "r.html"),
                                 "--segment", "planet"])  # fmt: skip
    assert result.exit_code == 2
    assert "--segment 'planet': not a column of the reference" in result.output
    assert "Traceback" not in result.output
