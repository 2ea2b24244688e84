"""Offline report benchmark: ``watchkeeper report`` on 1,000,000 x 25 reference vs current.

Writes two parquet files (20 numeric, 5 categorical columns with 10-50 values, the
current side shifted in 3 columns), then runs the real command line in a child process
and prints its wall time and peak resident memory, the size of the HTML and JSON it
wrote, and the stages in-process (read, profile both sides, judge, render). Baseline in
the same run: SciPy's exact tests on the raw arrays (ks_2samp on each numeric column,
chi2_contingency on each categorical one), after the same parquet read.

Run: ``python benchmarks/bench_report.py`` (``--quick`` for 200,000 rows).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from watchkeeper.io import read_table
from watchkeeper.report import compare_frames, render_html, report_to_json

N_NUMERIC = 20
N_CATEGORICAL = 5


def make_frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {
        f"num_{i}": rng.normal(i + (shift if i < 3 else 0.0), 1.0 + i / 10, n)
        for i in range(N_NUMERIC)
    }
    for j in range(N_CATEGORICAL):
        k = 10 + 10 * j
        values = np.array([f"v{v}" for v in range(k)], dtype=object)
        cols[f"cat_{j}"] = pd.Series(values[rng.integers(0, k, n)], dtype=object)
    return pd.DataFrame(cols)


def main() -> None:
    n = 200_000 if "--quick" in sys.argv else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        make_frame(n, 1).to_parquet(d / "reference.parquet")
        make_frame(n, 2, shift=0.05).to_parquet(d / "current.parquet")
        size = sum((d / f).stat().st_size for f in ("reference.parquet", "current.parquet"))
        columns = N_NUMERIC + N_CATEGORICAL
        print(f"data: {n:,} rows x {columns} columns per side; parquet {size / 1e6:.0f} MB")

        cmd = [sys.executable, "-m", "watchkeeper.cli", "report", "reference.parquet",
               "current.parquet", "-o", "report.html", "--json", "report.json"]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=d, check=True, capture_output=True)
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        html = (d / "report.html").stat().st_size / 1e6
        js = (d / "report.json").stat().st_size / 1e3
        print(f"watchkeeper report (CLI, end to end): {wall:.1f} s, peak RSS {peak:.0f} MB; "
              f"HTML {html:.1f} MB (4.8 MB of it Plotly), JSON {js:.0f} kB")  # fmt: skip

        t = time.perf_counter()
        ref_df, cur_df = read_table(d / "reference.parquet"), read_table(d / "current.parquet")
        t_read = time.perf_counter() - t
        steps: dict[str, float] = {}
        last = [time.perf_counter(), ""]

        def step(name: str) -> None:
            now = time.perf_counter()
            if last[1]:
                steps[str(last[1])] = now - float(last[0])
            last[:] = [now, name]

        report = compare_frames(ref_df, cur_df, progress=step)
        step("")
        t = time.perf_counter()
        render_html(report), report_to_json(report)
        t_render = time.perf_counter() - t
        stages = "; ".join(f"{k} {v:.2f} s" for k, v in steps.items())
        print(f"  read both files {t_read:.2f} s; {stages}; render HTML+JSON {t_render:.2f} s")
        print(f"  drifted: {', '.join(report.drifted_columns) or 'none'} "
              f"(shifted: num_0, num_1, num_2 by 0.05 of their sd or less)")  # fmt: skip

        t = time.perf_counter()
        for i in range(N_NUMERIC):
            stats.ks_2samp(ref_df[f"num_{i}"].to_numpy(), cur_df[f"num_{i}"].to_numpy())
        for j in range(N_CATEGORICAL):
            a, b = ref_df[f"cat_{j}"].value_counts(), cur_df[f"cat_{j}"].value_counts()
            stats.chi2_contingency(
                np.vstack([a.to_numpy(), b.reindex(a.index).fillna(0).to_numpy()])
            )
        t_scipy = time.perf_counter() - t
        tests = f"ks_2samp x{N_NUMERIC} + chi2_contingency x{N_CATEGORICAL}"
        print(f"baseline: SciPy {tests} on the raw arrays (after the same read): {t_scipy:.1f} s")


if __name__ == "__main__":
    main()
