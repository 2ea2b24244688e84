"""Scale-out benchmark: ``report`` on a parquet dataset, in one process, on Dask, on Spark.

Data: a generated parquet dataset of ROWS x 25 columns (20 numeric, 5 categorical with
10-50 values) in FILES files of row groups of 100,000 rows, reference and current (3
columns shifted), written under ``--tmp`` (default ``/tmp``) and deleted at the end. Issue
18's figure is ``--rows 20000000`` (40 files). Each run is a separate process so its peak
memory is its own; each result line is printed as soon as it is measured:

- wall time of the whole comparison (reference read twice, current once), the engine's
  start (JVM, LocalCluster) apart, and rows/s per core (rows profiled, 3 x ROWS, over
  time x cores used);
- peak RSS of the driver, and of each worker (Dask worker processes; Spark's Python
  workers, and its JVM, which is the driver's too in ``local`` mode);
- the same at a quarter of the rows (the first quarter of the files of the same
  datasets), to show that the drivers' memory is flat in rows.

Baseline in the same run: plain NumPy/SciPy computing per column what the report needs
(histogram on the reference's deciles, mean, std, ``scipy.stats.ks_2samp`` and
``chi2_contingency``) on all the column's rows held in memory, one column at a time.

Run: ``python benchmarks/bench_scale.py [--rows N] [--files F] [--engines local,dask,spark]``
(on a shared machine: ``nice -n 15``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_NUMERIC = 20
N_CATEGORICAL = 5
ROW_GROUP = 100_000
CORES = os.cpu_count() or 1
BASELINE = "numpy/scipy (a column's rows in memory)"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hwm_mb(pid: int) -> float | None:
    """The process's peak RSS (VmHWM), or ``None`` once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next((int(x.split()[1]) / 1024 for x in status.splitlines() if "VmHWM" in x), None)


class _TreePeaks:
    """Samples the peak RSS of the grandchildren of ``pid`` named ``name`` (Spark's Python
    workers, forked by its daemon, may come and go): pid -> last VmHWM seen."""

    def __init__(self, pid: int, name: str) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.name = name
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def sample(self) -> None:
        try:
            # the root's own children are Spark's daemon; its forks are the workers
            daemons = {c.pid for c in self.root.children()}
            children = [c for c in self.root.children(recursive=True) if c.pid not in daemons]
        except Exception:  # the root is gone
            return
        for child in children:
            try:
                if self.name not in " ".join(child.cmdline()):
                    continue
            except Exception:
                continue
            peak = _hwm_mb(child.pid)
            if peak is not None:
                self.peaks[child.pid] = peak

    def stop(self) -> list[float]:
        self.sample()
        self._stop.set()
        self._thread.join()
        return sorted(self.peaks.values())


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
        pd.DataFrame(cols).to_parquet(
            folder / f"part-{f:04d}.parquet", index=False, row_group_size=ROW_GROUP
        )


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
            start = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = compare_datasets(ref, cur, engine="dask", session=client)
            elapsed = time.perf_counter() - t0
            workers = sorted(float(v) for v in client.run(_maxrss_mb).values())
    elif engine == "spark":
        from watchkeeper.integrations.spark import default_session

        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        with default_session() as spark:  # the session the CLI starts: local[*]
            spark.sparkContext.setLogLevel("ERROR")
            start = time.perf_counter() - t0
            pid = spark.sparkContext._gateway.proc.pid
            peaks = _TreePeaks(pid, "pyspark")
            t0 = time.perf_counter()
            report = compare_datasets(ref, cur, engine="spark", session=spark)
            elapsed = time.perf_counter() - t0
            workers = peaks.stop()
            jvm_mb = _hwm_mb(pid)
    else:
        start = 0.0
        report = compare_datasets(ref, cur, engine="local")
        elapsed = time.perf_counter() - t0
    return {
        "engine": engine,
        "seconds": elapsed,
        "start_seconds": start,
        "rows": [report.rows[0], report.rows[1]],
        "drifted": [c.name for c in report.columns if c.drifted],
        "driver_mb": _maxrss_mb(),
        "workers_mb": workers,
        "jvm_mb": jvm_mb,
    }


def _files(dataset: str) -> list[str]:
    import glob

    path = Path(dataset)
    return (
        sorted(str(p) for p in path.glob("*.parquet"))
        if path.is_dir()
        else sorted(glob.glob(dataset))
    )


def _run_baseline(ref: str, cur: str) -> dict[str, Any]:
    import pyarrow.dataset as ds
    from scipy import stats

    t0 = time.perf_counter()
    a, b = ds.dataset(_files(ref)), ds.dataset(_files(cur))
    names = a.schema.names
    drifted = []
    for name in names:
        x = a.to_table(columns=[name]).column(name).to_pandas()
        y = b.to_table(columns=[name]).column(name).to_pandas()
        if name.startswith("num_"):
            xs, ys = x.to_numpy(), y.to_numpy()
            edges = np.quantile(xs, np.linspace(0, 1, 11))
            np.histogram(xs, edges), np.histogram(ys, edges), xs.mean(), xs.std(), ys.std()
            p = stats.ks_2samp(xs, ys).pvalue
        else:
            table = pd.concat([x.value_counts(), y.value_counts()], axis=1).fillna(0)
            p = stats.chi2_contingency(table.to_numpy().T)[1]
        if p < 0.01 / len(names):
            drifted.append(name)
        rows = (len(x), len(y))
    return {
        "engine": BASELINE,
        "seconds": time.perf_counter() - t0,
        "start_seconds": 0.0,
        "rows": list(rows),
        "drifted": drifted,
        "driver_mb": _maxrss_mb(),
        "workers_mb": [],
        "jvm_mb": None,
    }


def _child(engine: str, ref: str, cur: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, ref, cur],
        check=False,
        capture_output=True,
        text=True,
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        tail = " | ".join(out.stderr.strip().splitlines()[-3:])
        return {"engine": engine, "error": f"exit {out.returncode}: {tail}"}
    return dict(json.loads(lines[-1]))


def _print(r: dict[str, Any], tag: str) -> None:
    if "error" in r:
        print(f"  {tag:<8} {r['engine']:<40} FAILED {r['error']}", flush=True)
        return
    baseline = r["engine"] == BASELINE
    cores = 1 if r["engine"] == "local" or baseline else CORES
    rows = sum(r["rows"]) if baseline else 2 * r["rows"][0] + r["rows"][1]
    workers = ", ".join(f"{w:.0f}" for w in r["workers_mb"]) or "-"
    jvm = f"; JVM {r['jvm_mb']:.0f} MB" if r["jvm_mb"] else ""
    start = f" (+{r['start_seconds']:.1f} s start)" if r["start_seconds"] else ""
    print(
        f"  {tag:<8} {r['engine']:<40} {r['seconds']:7.1f} s{start}"
        f"  {rows / r['seconds'] / cores:>10,.0f} rows/s/core"
        f"  driver {r['driver_mb']:6.0f} MB  workers [{workers}] MB{jvm}"
        f"  drifted: {','.join(r['drifted'])}  (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--engines", default="dask,spark,local")
    parser.add_argument("--tmp", default="/tmp", help="where the datasets are written")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        engine, ref, cur = args.child
        result = _run_baseline(ref, cur) if engine == "baseline" else _run_engine(engine, ref, cur)
        print(json.dumps(result))
        return
    print(f"started {time.strftime('%H:%M:%S')}; load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="wk-bench-scale-", dir=args.tmp) as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        write_dataset(root / "ref", args.rows, args.files, seed=1, shift=0.0)
        write_dataset(root / "cur", args.rows, args.files, seed=2, shift=0.3)
        quarter = max(1, args.files // 4)
        print(
            f"data: {args.rows:,} rows x {N_NUMERIC + N_CATEGORICAL} columns in {args.files} "
            f"parquet files a side (quarter: the first {quarter} files); written in "
            f"{time.perf_counter() - t0:.1f} s; {CORES} cores",
            flush=True,
        )
        # the quarter: links to the first files of the same datasets
        qdir = root / "quarter"
        for side in ("ref", "cur"):
            (qdir / side).mkdir(parents=True)
            for f in range(quarter):
                name = f"part-{f:04d}.parquet"
                (qdir / side / name).symlink_to(root / side / name)
        sizes = {
            "full": (str(root / "ref"), str(root / "cur")),
            "quarter": (str(qdir / "ref"), str(qdir / "cur")),
        }
        for engine in [*args.engines.split(","), "baseline"]:
            for tag, (ref, cur) in sizes.items():
                _print(_child(engine, ref, cur), tag)
        print(f"done {time.strftime('%H:%M:%S')}; load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
