"""Scale-out benchmark: ``report`` on a parquet dataset, in one process, on Dask, on Spark.

Data: a generated parquet dataset of ROWS x 25 columns (20 numeric, 5 categorical with
10-50 values) in FILES files, reference and current (3 columns shifted). Issue 18 asks
for 20M rows in 40 files; ``--rows`` sets the size this machine can do now. Each run is a
separate process so its peak memory is its own; it prints, per engine:

- wall time of the whole comparison (reference read twice, current once) and rows/s
  per core (rows profiled, 3 x ROWS, over time x cores used);
- peak RSS of the driver, and of each worker (Dask worker processes; Spark's Python
  workers and its JVM);
- the driver's peak at ROWS/4 too, to show it is flat in rows.

Baseline in the same run: plain NumPy/SciPy reading every file whole into memory and
computing per column what the report needs (histogram on the reference's deciles, mean,
std, scipy.stats.ks_2samp / chi2_contingency), peak RSS included.

Run: ``python benchmarks/bench_scale.py [--rows N] [--files F] [--engines local,dask,spark]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_NUMERIC = 20
N_CATEGORICAL = 5
CORES = os.cpu_count() or 1


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_dataset(folder: Path, rows: int, files: int, seed: int, shift: float) -> None:
    folder.mkdir(parents=True)
    per_file = rows // files
    for f in range(files):
        rng = np.random.default_rng(seed * 1_000 + f)
        cols: dict[str, Any] = {
            f"num_{i}": rng.normal(i + (shift if i < 3 else 0.0), 1.0 + i / 10, per_file)
            for i in range(N_NUMERIC)
        }
        for j in range(N_CATEGORICAL):
            k = 10 + 10 * j
            values = np.array([f"v{v}" for v in range(k)], dtype=object)
            cols[f"cat_{j}"] = values[rng.integers(0, k, per_file)]
        pd.DataFrame(cols).to_parquet(folder / f"part-{f:04d}.parquet", index=False)


# -- one run per process --------------------------------------------------------------


def _run_engine(engine: str, ref: str, cur: str) -> dict[str, Any]:
    from watchkeeper.integrations import compare_datasets

    workers: list[float] = []
    jvm_mb: float | None = None
    t0 = time.perf_counter()
    if engine == "dask":
        import distributed

        with (
            distributed.LocalCluster(
                n_workers=CORES, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            t0 = time.perf_counter()
            report = compare_datasets(ref, cur, engine="dask", session=client)
            elapsed = time.perf_counter() - t0
            peaks = client.run(_maxrss_mb)
            workers = [float(v) for v in peaks.values()]
    elif engine == "spark":
        from pyspark.sql import SparkSession

        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = (
            SparkSession.builder.master(f"local[{CORES}]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        t0 = time.perf_counter()
        report = compare_datasets(ref, cur, engine="spark", session=spark)
        elapsed = time.perf_counter() - t0
        # Python workers are reused between tasks: ask each for its peak
        rdd = spark.sparkContext.parallelize(range(4 * CORES), 4 * CORES)
        workers = sorted(set(rdd.map(lambda _: _maxrss_mb()).collect()))
        pid = spark.sparkContext._gateway.proc.pid  # type: ignore[union-attr]
        status = Path(f"/proc/{pid}/status").read_text()
        jvm_mb = next(int(x.split()[1]) / 1024 for x in status.splitlines() if "VmHWM" in x)
        spark.stop()
    else:
        report = compare_datasets(ref, cur, engine="local")
        elapsed = time.perf_counter() - t0
    return {
        "engine": engine,
        "seconds": elapsed,
        "rows": report.rows,
        "drifted": [c.name for c in report.columns if c.drifted],
        "driver_mb": _maxrss_mb(),
        "workers_mb": workers,
        "jvm_mb": jvm_mb,
    }


def _run_baseline(ref: str, cur: str) -> dict[str, Any]:
    from scipy import stats

    t0 = time.perf_counter()
    a = pd.concat([pd.read_parquet(p) for p in sorted(Path(ref).glob("*.parquet"))])
    b = pd.concat([pd.read_parquet(p) for p in sorted(Path(cur).glob("*.parquet"))])
    drifted = []
    for name in a.columns:
        if name.startswith("num_"):
            x, y = a[name].to_numpy(), b[name].to_numpy()
            edges = np.quantile(x, np.linspace(0, 1, 11))
            np.histogram(x, edges), np.histogram(y, edges), x.mean(), x.std(), y.std()
            p = stats.ks_2samp(x, y).pvalue
        else:
            counts = pd.crosstab(np.r_[np.zeros(len(a)), np.ones(len(b))], np.r_[a[name], b[name]])
            p = stats.chi2_contingency(counts.to_numpy())[1]
        if p < 0.01 / len(a.columns):
            drifted.append(name)
    return {
        "engine": "numpy/scipy (all rows in memory)",
        "seconds": time.perf_counter() - t0,
        "rows": (len(a), len(b)),
        "drifted": drifted,
        "driver_mb": _maxrss_mb(),
        "workers_mb": [],
        "jvm_mb": None,
    }


def _child(engine: str, ref: Path, cur: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(ref), str(cur)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _print(r: dict[str, Any], cores: int) -> None:
    rows = (
        2 * r["rows"][0] + r["rows"][1]
        if r["engine"] != "numpy/scipy (all rows in memory)"
        else sum(r["rows"])
    )
    workers = ", ".join(f"{w:.0f}" for w in r["workers_mb"]) or "-"
    jvm = f"; JVM {r['jvm_mb']:.0f} MB" if r["jvm_mb"] else ""
    rate = rows / r["seconds"] / cores
    print(
        f"  {r['engine']:<34} {r['seconds']:7.1f} s  {rate:>10,.0f} rows/s/core"
        f"  driver {r['driver_mb']:6.0f} MB  workers [{workers}] MB{jvm}"
        f"  drifted: {','.join(r['drifted'])}"
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--engines", default="local,dask,spark")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        engine, ref, cur = args.child
        result = _run_baseline(ref, cur) if engine == "baseline" else _run_engine(engine, ref, cur)
        print(json.dumps(result))
        return
    engines = args.engines.split(",")
    with tempfile.TemporaryDirectory(prefix="wk-bench-scale-") as tmp:
        root = Path(tmp)
        for rows, tag in ((args.rows // 4, "quarter"), (args.rows, "full")):
            t0 = time.perf_counter()
            write_dataset(root / tag / "ref", rows, args.files, seed=1, shift=0.0)
            write_dataset(root / tag / "cur", rows, args.files, seed=2, shift=0.3)
            print(
                f"data ({tag}): {rows:,} rows x {N_NUMERIC + N_CATEGORICAL} columns in "
                f"{args.files} parquet files, reference and current; written in "
                f"{time.perf_counter() - t0:.1f} s; {CORES} cores"
            )
            for engine in [*engines, "baseline"]:
                r = _child(engine, root / tag / "ref", root / tag / "cur")
                _print(r, 1 if engine in ("local", "baseline") else CORES)


if __name__ == "__main__":
    main()
