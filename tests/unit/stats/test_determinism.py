"""Same inputs and config -> the same statistics, thresholds and verdicts in every run.

``watchkeeper report`` runs twice, each in a fresh process, on the same two parquet
files, and the two JSON reports must be equal but for the time they were written. The
files are larger than a KLL sketch holds exactly and than the seeded sample of the
reference's bins (65,536 values), so every source of run-to-run noise is exercised:
the sketches' coin flips, the sampled bins, the null laws' draws.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from watchkeeper.profile import profile_batches
from watchkeeper.stats import DriftDetector

ROOT = Path(__file__).resolve().parents[3]


def _frame(n: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1, n),
            "heavy": rng.standard_t(2, n),
            "ties": rng.integers(0, 5, n).astype(np.float64),
            "zero_inflated": np.where(rng.random(n) < 0.6, 0.0, rng.exponential(1, n)),
            "c": rng.choice(["a", "b", "c", "d", "rare"], n, p=[0.4, 0.3, 0.2, 0.095, 0.005]),
        }
    )


def _report(tmp: Path, ref: Path, cur: Path, tag: str) -> dict[str, Any]:
    out = tmp / f"{tag}.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["report", str(ref), str(cur), "-o", str(tmp / f"{tag}.html"), "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "watchkeeper.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(out.read_text())
    report.pop("generated_at", None)  # the wall clock, not a result
    return report


@pytest.mark.slow
def test_report_twice_in_fresh_processes_gives_the_same_json(tmp_path: Path) -> None:
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    _frame(120_000, 0.0, seed=1).to_parquet(ref)
    _frame(90_000, 0.02, seed=2).to_parquet(cur)
    first = _report(tmp_path, ref, cur, "first")
    second = _report(tmp_path, ref, cur, "second")
    assert first == second
    assert "drift" in json.dumps(first)  # the report holds the verdicts compared


def test_streamed_reference_bins_and_verdicts_repeat_in_process() -> None:
    frame = _frame(150_000, 0.0, seed=3)
    parts = [frame.iloc[i : i + 40_000] for i in range(0, len(frame), 40_000)]
    current = _frame(5_000, 0.1, seed=4)
    runs = []
    for _ in range(2):
        ref = profile_batches(lambda: parts)
        cur = profile_batches(lambda: [current], reference=ref)
        runs.append((ref.layout(), DriftDetector().fit(ref).compare(cur).to_dict()))
    (layout_a, drift_a), (layout_b, drift_b) = runs
    for name in ("x", "heavy", "ties", "zero_inflated"):
        assert np.array_equal(layout_a[name]["edges"], layout_b[name]["edges"]), name
    assert drift_a == drift_b
