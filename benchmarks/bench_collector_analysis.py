"""Collector analysis benchmark: 50 models x 25 features, 1-minute windows of 200-5,000 rows.

A real :class:`~watchkeeper.service.Service` (write-ahead log, SQLite file store, the
default alert rules of ``watchkeeper init``'s example: none), driven in-process by a
``ManualClock`` that follows event time. Each simulated minute, every model gets one
Arrow IPC batch of 200-5,000 rows (uniform, a different size each time) x 25 features
(20 numeric, 5 categorical) + a score, event times inside the minute, through
``Service.write_predictions`` (what the HTTP route calls: checked, logged in the WAL,
applied, acknowledged); then the clock moves past the window's end + grace and
``Service.tick()`` closes the 50 windows and returns once they are analysed (drift of 26
columns, data quality, outputs; points saved; alert rules evaluated).

Printed: the process's CPU time (``resource.getrusage``, all threads) per simulated
minute, split into ingestion (WAL + apply + profile) and the closing + analysis of the
windows, as a share of one core over the minute, after a warm-up minute (the first
window of each model). The figure of issue 14 is analysis keeping up with <= 20% of one
core. Baseline in the same run: SciPy's exact tests on the same windows' raw arrays
(``ks_2samp`` x 20 + ``chi2_contingency`` x 5 per window against the model's reference).

Run: ``python benchmarks/bench_collector_analysis.py`` (``--minutes N``, default 5;
``--models N``, default 50).
"""

from __future__ import annotations

import io
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

from watchkeeper import wire
from watchkeeper.monitor import ManualClock
from watchkeeper.service import Service, parse_config

sys.path.insert(0, os.path.dirname(__file__))
from bench_core import make_frame  # the same 25-column data

REFERENCE_ROWS = 10_000
GRACE_SECONDS = 5.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def arrow_body(frame: pd.DataFrame, score: np.ndarray, ts: np.ndarray) -> bytes:
    table = pa.Table.from_pandas(
        frame.assign(**{"output.prediction": score, "_timestamp": ts}), preserve_index=False
    )
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def scipy_baseline(ref: pd.DataFrame, cur: pd.DataFrame) -> None:
    for name in cur.columns:
        if name.startswith("num_"):
            stats.ks_2samp(ref[name].to_numpy(), cur[name].to_numpy())
        else:
            a = ref[name].value_counts()
            b = cur[name].value_counts().reindex(a.index, fill_value=0)
            stats.chi2_contingency(np.vstack([a.to_numpy(), b.to_numpy()]))


def main() -> None:
    minutes = int(sys.argv[sys.argv.index("--minutes") + 1]) if "--minutes" in sys.argv else 5
    models = int(sys.argv[sys.argv.index("--models") + 1]) if "--models" in sys.argv else 50
    work = Path(tempfile.mkdtemp(prefix="wk-bench-analysis-"))
    refs = {}
    for m in range(models):
        ref = make_frame(REFERENCE_ROWS, seed=1_000 + m)
        ref["prediction"] = np.random.default_rng(m).random(REFERENCE_ROWS)
        ref.to_parquet(work / f"ref{m}.parquet")
        refs[f"m{m}"] = ref
    doc = {
        "store": f"sqlite:///{work / 'wk.db'}",
        "wal_dir": str(work / "wal"),
        "fsync": False,
        "tick_seconds": 3600,  # this script ticks, after each simulated minute
        "models": {
            f"m{m}": {
                "reference": str(work / f"ref{m}.parquet"),
                "window": "1m",
                "grace": f"{GRACE_SECONDS:g}s",
            }
            for m in range(models)
        },
    }
    clock = ManualClock(0.0)
    t0, c0 = time.perf_counter(), cpu_seconds()
    service = Service(parse_config(doc), clock=clock)
    startup_wall, startup_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    rng = np.random.default_rng(14)
    ingest_cpu, analysis_cpu, analysis_wall, rows, sizes = [], [], [], 0, []
    baseline_cpu = 0.0
    try:
        for minute in range(minutes):
            start = minute * 60.0
            batches = []
            for m in range(models):
                n = int(rng.integers(200, 5_001))
                frame = make_frame(n, seed=minute * 1_000 + m)
                ts = np.sort(rng.uniform(start, start + 60.0, n))
                body = arrow_body(frame, rng.random(n), ts)
                batches.append((f"m{m}", body, frame))
                sizes.append(n)
            clock.set(start + 30.0)
            c0 = cpu_seconds()
            for name, body, _ in batches:
                service.write_predictions(name, body, wire.ARROW_STREAM, None)
            ingest_cpu.append(cpu_seconds() - c0)
            clock.set(start + 60.0 + GRACE_SECONDS + 0.5)
            t0, c0 = time.perf_counter(), cpu_seconds()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                service.tick()
            analysis_cpu.append(cpu_seconds() - c0)
            analysis_wall.append(time.perf_counter() - t0)
            rows += sum(len(f) for _, _, f in batches)
            if minute == minutes - 1:  # the baseline on the last minute's windows
                c0 = cpu_seconds()
                for name, _, frame in batches:
                    scipy_baseline(refs[name], frame)
                baseline_cpu = cpu_seconds() - c0
        analysed = sum(len(service.monitor(f"m{m}").metrics("requests")) for m in range(models))
        errors = sum(service.monitor(f"m{m}").analysis_errors for m in range(models))
    finally:
        service.close()
    steady = slice(1, None) if minutes > 1 else slice(None)
    a = np.array(analysis_cpu[steady])
    i = np.array(ingest_cpu[steady])
    print(
        f"collector analysis: {models} models x 25 features + score, {minutes} one-minute "
        f"windows each of {min(sizes):,}-{max(sizes):,} rows ({rows:,} rows; {analysed} "
        f"windows analysed, {errors} failed); startup (references read, detectors fitted) "
        f"{startup_cpu:.1f} s CPU ({startup_wall:.1f} s wall)"
    )
    print(
        f"  per simulated minute after the first: closing + analysing the {models} windows "
        f"{a.mean():.2f} s CPU (max {a.max():.2f} s; wall {np.mean(analysis_wall[steady]):.2f}"
        f" s) = {a.mean() / 60 * 100:.1f}% of one core (first minute {analysis_cpu[0]:.2f} s); "
        f"ingesting the batches {i.mean():.2f} s CPU = {i.mean() / 60 * 100:.1f}% of one core"
    )
    print(
        f"  baseline: SciPy ks_2samp x20 + chi2_contingency x5 on the raw arrays of the last "
        f"minute's {models} windows: {baseline_cpu:.2f} s CPU = "
        f"{baseline_cpu / 60 * 100:.1f}% of one core"
    )


if __name__ == "__main__":
    main()
