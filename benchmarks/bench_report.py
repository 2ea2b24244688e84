"""Offline report benchmark: ``watchkeeper report`` on 1,000,000 x 25 reference vs current.

Writes two parquet files (20 numeric, 5 categorical columns with 10-50 values, the
current side shifted in 3 columns), then runs the real command line in a child process
and prints its wall time and peak resident memory, the size of the HTML and JSON it
wrote, and the stages in-process (the reference's two passes, the current side, the
verdict, rendering). Baseline in the same run: reading both files whole with pandas, and
SciPy's exact tests on the raw arrays (ks_2samp on each numeric column, chi2_contingency
on each categorical one). ``--rows N`` sets the rows per side; peak memory should not
grow with it. ``--single-row-group`` writes each file as one row group (as pandas does
by default), the case where a reader cannot stream smaller batches out of the file.

Run: ``python benchmarks/bench_report.py`` (``--quick`` for 200,000 rows).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from watchkeeper.report import render_html, report_to_json
from watchkeeper.report.files import compare_files
from watchkeeper.tables import read_table

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


def write(d: Path, n: int, single: bool = False) -> None:
    # row groups of 100,000 rows, as a writer of large files sets them: batches are read
    # from one row group at a time; or one row group per file
    group = n if single else 100_000
    make_frame(n, 1).to_parquet(d / "reference.parquet", row_group_size=group)
    make_frame(n, 2, shift=0.05).to_parquet(d / "current.parquet", row_group_size=group)


def main() -> None:
    if "--write" in sys.argv:
        at = sys.argv.index("--write")
        write(Path(sys.argv[at + 1]), int(sys.argv[at + 2]), "--single-row-group" in sys.argv)
        return
    n = 200_000 if "--quick" in sys.argv else 1_000_000
    if "--rows" in sys.argv:
        n = int(sys.argv[sys.argv.index("--rows") + 1])
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        # written by a child: a fork copies this process's memory, and a child's peak
        # RSS counts it, so this process must stay small until the CLI has run
        single = ["--single-row-group"] if "--single-row-group" in sys.argv else []
        subprocess.run([sys.executable, __file__, "--write", str(d), str(n), *single], check=True)
        size = sum((d / f).stat().st_size for f in ("reference.parquet", "current.parquet"))
        columns = N_NUMERIC + N_CATEGORICAL
        groups = "one row group" if single else "row groups of 100,000"
        print(f"data: {n:,} rows x {columns} columns per side ({groups}); "
              f"parquet {size / 1e6:.0f} MB")  # fmt: skip

        # the CLI in a child that prints its own peak RSS when it ends (a fork's copy of
        # this process counts too, so the figure is an upper bound)
        run = (
            "import resource, runpy, sys\n"
            "sys.argv = ['watchkeeper', 'report', 'reference.parquet', 'current.parquet',"
            " '-o', 'report.html', '--json', 'report.json']\n"
            "try:\n    runpy.run_module('watchkeeper.cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "u = resource.getrusage(resource.RUSAGE_SELF)\n"
            "print(u.ru_maxrss, u.ru_utime + u.ru_stime, file=sys.stderr)\n"
        )
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", run], cwd=d, check=True, capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        last = done.stderr.strip().splitlines()[-1].split()
        peak, cpu = int(last[0]) / 1024, float(last[1])
        html = (d / "report.html").stat().st_size / 1e6
        js = (d / "report.json").stat().st_size / 1e3
        print(f"watchkeeper report (CLI, end to end): {wall:.1f} s ({cpu:.1f} s CPU), "
              f"peak RSS {peak:.0f} MB; "
              f"HTML {html:.1f} MB (4.8 MB of it Plotly), JSON {js:.0f} kB")  # fmt: skip

        stages: dict[str, float] = {}
        t = time.perf_counter()

        def tell(stage: str, _done: int, _total: int | None) -> None:
            stages[stage] = time.perf_counter() - t

        report = compare_files(d / "reference.parquet", d / "current.parquet", progress=tell)
        t_total = time.perf_counter() - t
        t = time.perf_counter()
        render_html(report), report_to_json(report)
        t_render = time.perf_counter() - t
        marks = "; ".join(f"{k} done at {v:.2f} s" for k, v in stages.items())
        print(f"  in-process: {marks}; compared at {t_total:.2f} s; HTML+JSON {t_render:.2f} s")
        print(f"  drifted: {', '.join(report.drifted_columns) or 'none'} "
              f"(shifted: num_0, num_1, num_2 by 0.05 of their sd or less)")  # fmt: skip

        t = time.perf_counter()
        ref_df, cur_df = read_table(d / "reference.parquet"), read_table(d / "current.parquet")
        t_read = time.perf_counter() - t
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
        print(f"baseline: reading both files whole with pandas {t_read:.2f} s, then SciPy {tests} "
              f"on the raw arrays {t_scipy:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
