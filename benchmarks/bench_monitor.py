"""Monitor benchmark: log() cost, batched throughput, window analysis, and the store.

Data: 25 features (20 numeric, 5 categorical) plus a score output, as in bench_core.
Prints, each next to a plain Python/NumPy/SciPy/sqlite3 baseline in the same run:

- ``log()`` of one row: median and p99 cost in microseconds (buffer + amortised
  vectorised update), vs appending the same dict to a list;
- ``log()`` of one row with windows closing (1 ms of event time per call, 1-minute
  windows, the clock following event time): p50/p99/p99.9/max per call while buffered
  rows are folded and windows analysed on the analyser thread, vs appending the same row
  to a list;
- kept predictions: 2,000,000 predictions with ids in 1-minute windows of 100,000 rows
  into a SQLite file; RSS at the start, the peak and the end (flat: kept predictions are
  saved in bounded chunks as they come), vs a raw ``sqlite3.executemany`` of the same
  prediction rows;
- batched ``log()`` rows/s (10,000-row batches, no window closing during the run), vs a
  plain NumPy profile of the same batches (sort + histogram per numeric column,
  ``np.unique`` per categorical column);
- analysis of one closed window (25 features): first window at a new size (null models
  built) and steady state, vs exact ``scipy.stats`` tests on raw arrays;
- the SQLite store: 30 days of 1-minute windows (43,200 windows: the window's state and
  its metric points), the hourly rollups, and the query of a month of hourly drift for
  25 features; vs raw ``sqlite3.executemany`` of the same point rows.

Run: ``python benchmarks/bench_monitor.py`` (``--quick``: 2 days instead of 30 and fewer
rows); ``--only closing`` / ``--only kept`` runs one part; ``--rate N`` paces the calls of
the closing-windows part at N per second (default 20,000: 20 times the event rate; ``0``:
a tight loop, which outpaces the folding of buffered rows, so the callers fold the
backlog beyond 64 buffers themselves).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.monitor.analysis import Task, analyse_window
from watchkeeper.monitor.window import WindowState
from watchkeeper.profile import DatasetProfile, profile_table
from watchkeeper.stats import DriftDetector
from watchkeeper.store import WindowKey, labels_key
from watchkeeper.store.sql import SQLStore

sys.path.insert(0, os.path.dirname(__file__))
from bench_core import make_frame  # the same 25-column data


def reference_frame() -> pd.DataFrame:
    ref = make_frame(50_000, seed=1)
    ref["score"] = np.random.default_rng(1).random(50_000)
    return ref


def bench_single_rows(ref: DatasetProfile) -> None:
    frame = make_frame(200_000, seed=2)
    rows = frame.to_dict("records")
    scores = np.random.default_rng(2).random(len(rows)).tolist()
    clock = ManualClock(0.0)
    m = Monitor("one", reference=ref, store="memory://", clock=clock, window="1h", rollups=())
    costs = np.empty(len(rows))
    perf = time.perf_counter_ns
    for i, row in enumerate(rows):
        t0 = perf()
        m.log(row, {"score": scores[i]}, latency=0.012)
        costs[i] = perf() - t0
    m.flush()
    assert m.rejected_calls == 0, list(m.recent_issues)
    baseline = []
    t_base = np.empty(len(rows))
    for i, row in enumerate(rows):
        t0 = perf()
        baseline.append((row, {"score": scores[i]}, 0.012))
        t_base[i] = perf() - t0
    print(
        f"log() one row, 25 features: median {np.median(costs) / 1e3:.1f} us, "
        f"p99 {np.quantile(costs, 0.99) / 1e3:.1f} us, mean {costs.mean() / 1e3:.1f} us "
        f"(the mean carries the vectorised update every 1,024 rows) "
        f"| baseline list.append: median {np.median(t_base) / 1e3:.2f} us"
    )


def bench_batches(ref: DatasetProfile) -> None:
    n, batch = 1_000_000, 10_000
    frame = make_frame(n, seed=3)
    scores = np.random.default_rng(3).random(n)
    parts = [(frame.iloc[i : i + batch], scores[i : i + batch]) for i in range(0, n, batch)]
    m = Monitor("batch", reference=ref, store="memory://", clock=ManualClock(), window="1h",
                max_future_skew=None)  # fmt: skip
    ts = np.linspace(0, 3000, batch)
    t0 = time.perf_counter()
    for features, score in parts:
        m.log(features, {"score": score}, timestamps=ts, latency=0.01)
    t_ours = time.perf_counter() - t0
    m.flush()

    layout = ref.layout()
    t0 = time.perf_counter()
    for features, _ in parts:
        for name in features.columns:
            values = features[name].to_numpy()
            if name.startswith("num_"):
                np.sort(values)
                np.histogram(values, bins=layout[name]["edges"])
            else:
                np.unique(values.astype(str), return_counts=True)
    t_np = time.perf_counter() - t0
    print(
        f"log() batches of {batch:,} rows x 25 features: {n / t_ours:,.0f} rows/s "
        f"| baseline NumPy sort+histogram/unique: {n / t_np:,.0f} rows/s"
    )


def bench_analysis(ref: DatasetProfile) -> None:
    detector = DriftDetector().fit(ref)
    from watchkeeper.monitor.analysis import ReferenceContext

    ctx = ReferenceContext(1, ref, detector)
    task = Task("classification", None, "score")
    key = WindowKey("a", "1", 0.0, 60.0)
    timings = []
    for size in (1_000, 1_013, 10_000, 10_000):
        cur = make_frame(size, seed=size)
        state = WindowState(DatasetProfile(ref.schema, layout=ref.layout()), 1)
        state.profile.update(cur.assign(score=np.random.default_rng(size).random(size)))
        state.requests = size
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            points = analyse_window(state, key, ctx, task)
        timings.append((size, time.perf_counter() - t0, len(points)))
    stream = []
    sizes = np.random.default_rng(6).normal(2_000, 100, 40).round().astype(int)
    for i, size in enumerate(sizes):  # a stream whose window sizes wander by +-5%
        cur = make_frame(int(size), seed=1_000 + i)
        state = WindowState(DatasetProfile(ref.schema, layout=ref.layout()), 1)
        state.profile.update(cur.assign(score=np.random.default_rng(i).random(int(size))))
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            analyse_window(state, key, ctx, task)
        stream.append(time.perf_counter() - t0)
    raw_ref = reference_frame()
    cur = make_frame(10_000, seed=5)
    t0 = time.perf_counter()
    for name in cur.columns:
        if name.startswith("num_"):
            stats.ks_2samp(raw_ref[name], cur[name])
        else:
            a = raw_ref[name].value_counts()
            b = cur[name].value_counts().reindex(a.index, fill_value=0)
            stats.chi2_contingency(np.vstack([a.to_numpy(), b.to_numpy()]))
    t_scipy = time.perf_counter() - t0
    parts = ", ".join(f"{n:,} rows {t * 1e3:.0f} ms ({k} points)" for n, t, k in timings)
    print(
        f"window analysis, 25 features + output: {parts} "
        f"(a new size band simulates its null spreads; repeats are cached) "
        f"| baseline SciPy KS/chi2 on raw arrays, 10,000 rows: {t_scipy * 1e3:.0f} ms"
    )
    print(
        f"window analysis over a stream of 40 windows of 2,000 +- 100 rows: median "
        f"{np.median(stream) * 1e3:.0f} ms, mean {np.mean(stream) * 1e3:.0f} ms, "
        f"max {np.max(stream) * 1e3:.0f} ms"
    )


def bench_store(ref: DatasetProfile, days: int) -> None:
    windows = days * 1440
    tmp = tempfile.mkdtemp(prefix="wk-bench-")
    path = os.path.join(tmp, "wk.db")
    store = SQLStore(f"sqlite:///{path}")
    detector = DriftDetector().fit(ref)
    from watchkeeper.monitor.analysis import ReferenceContext

    ctx = ReferenceContext(1, ref, detector)
    task = Task("classification", None, "score")
    samples = []
    for s in range(8):  # distinct real windows of 1,000 rows, reused round-robin
        state = WindowState(DatasetProfile(ref.schema, layout=ref.layout()), 1)
        cur = make_frame(1_000, seed=100 + s)
        state.profile.update(cur.assign(score=np.random.default_rng(s).random(1_000)))
        state.requests = 1_000
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            points = analyse_window(state, WindowKey("m", "1", 0.0, 60.0), ctx, task)
        samples.append((state.to_bytes(), points))
    per_window = len(samples[0][1])

    t0 = time.perf_counter()
    for w in range(windows):
        blob, points = samples[w % len(samples)]
        start = w * 60.0
        store.save_window(WindowKey("m", "1", start, 60.0), "writer", blob, now=start)
        store.write_points(
            [p.__class__(**{**p.__dict__, "window_start": start}) for p in points], now=start
        )
        if w % 60 == 59:  # as the monitor does: base window states live 2 days
            store.purge_windows("m", 60.0, before=start - 2 * 86400)
    t_write = time.perf_counter() - t0
    hours = windows // 60
    for h in range(hours):
        _, points = samples[h % len(samples)]
        store.write_points(
            [
                p.__class__(**{**p.__dict__, "window_start": h * 3600.0, "window_seconds": 3600.0})
                for p in points
            ],
            now=0.0,
        )
    size_mb = os.path.getsize(path) / 1e6

    t0 = time.perf_counter()
    month = store.query_points("m", "feature_drift", window_seconds=3600.0)
    t_query = time.perf_counter() - t0
    t0 = time.perf_counter()
    day = store.query_points(
        "m", "feature_drift", window_seconds=60.0, since=0.0, until=86400.0,
        labels={"feature": "num_3"},
    )  # fmt: skip
    t_day = time.perf_counter() - t0
    t0 = time.perf_counter()
    partials = [store.window_partials(WindowKey("m", "1", w * 60.0, 60.0)) for w in range(1440)]
    t_read = time.perf_counter() - t0
    store.close()

    raw = sqlite3.connect(os.path.join(tmp, "raw.db"))
    raw.execute(
        "create table p (model text, name text, ws real, wstart real, version text, "
        "labels text, value real, primary key (model, name, ws, wstart, version, labels))"
    )
    rows = [
        ("m", p.name, 60.0, w * 60.0, "1", labels_key(p.labels), p.value)
        for w in range(min(windows, 1440))
        for p in samples[w % len(samples)][1]
    ]
    t0 = time.perf_counter()
    raw.executemany("insert into p values (?,?,?,?,?,?,?)", rows)
    raw.commit()
    t_raw = time.perf_counter() - t0
    raw.close()
    for name in os.listdir(tmp):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)
    print(
        f"store (SQLite file): {windows:,} one-minute windows with {per_window} points each "
        f"written in {t_write:.1f} s ({windows / t_write:,.0f} windows/s, "
        f"{windows * per_window / t_write:,.0f} points/s); window states kept 2 days; "
        f"file {size_mb:,.0f} MB"
    )
    print(
        f"store queries: a month of hourly drift for 25 features ({len(month):,} points) "
        f"{t_query * 1e3:.0f} ms; a day of one feature's minute drift ({len(day):,} points) "
        f"{t_day * 1e3:.0f} ms; reading the last day of window states ({len(partials):,}) "
        f"{t_read:.2f} s"
    )
    print(
        f"baseline raw sqlite3.executemany of the same point rows: "
        f"{len(rows) / t_raw:,.0f} points/s"
    )


def _quantiles(ns: np.ndarray) -> str:
    p50, p99, p999 = np.quantile(ns, [0.5, 0.99, 0.999]) / 1e3
    return f"p50 {p50:.1f} us, p99 {p99:.1f} us, p99.9 {p999:.1f} us, max {ns.max() / 1e3:,.0f} us"


def bench_log_closing_windows(ref: DatasetProfile, minutes: int, rate: float) -> None:
    calls = minutes * 60_000  # 1 ms of event time per call
    frame = make_frame(60_000, seed=7)
    rows = frame.to_dict("records")
    scores = np.random.default_rng(7).random(len(rows)).tolist()
    clock = ManualClock(0.0)
    m = Monitor("closing", reference=ref, store="memory://", clock=clock, window="1m",
                grace="1s", rollups=())  # fmt: skip
    closed: list[float] = []
    m.subscribe(lambda w: closed.append(w.start))
    costs = np.empty(calls, dtype=np.int64)
    perf = time.perf_counter_ns
    t_all = time.perf_counter()
    for i in range(calls):
        if rate and i % 256 == 0:  # paced as a service's request threads call it
            ahead = t_all + i / rate - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
        t = i / 1000.0
        clock.set(t)
        row, score = rows[i % len(rows)], scores[i % len(rows)]
        t0 = perf()
        m.log(row, {"score": score}, timestamps=t, latency=0.012)
        costs[i] = perf() - t0
    t_log = time.perf_counter() - t_all
    during = len(closed)
    t0 = time.perf_counter()
    m.flush()
    t_flush = time.perf_counter() - t0
    assert m.rejected_calls == 0 and m.analysis_errors == 0, list(m.recent_issues)
    m.close()
    base = []
    t_base = np.empty(calls, dtype=np.int64)
    for i in range(calls):
        row, score = rows[i % len(rows)], scores[i % len(rows)]
        t0 = perf()
        base.append((row, {"score": score}, i / 1000.0, 0.012))
        t_base[i] = perf() - t0
    slow = costs > 100_000
    update = np.arange(calls) % 1024 == 1023  # the calls that hand the buffered rows off
    print(
        f"log() one row with windows closing ({calls:,} calls, {minutes} one-minute windows, "
        f"25 features, {f'paced at {rate:,.0f} calls/s' if rate else 'unpaced'}): "
        f"{_quantiles(costs)}; {int(slow.sum())} calls over 100 us, of which "
        f"{int((slow & update).sum())} hand 1,024 buffered rows to the analyser thread "
        f"(median {np.median(costs[update]) / 1e6:.1f} ms, max {costs[update].max() / 1e6:.1f} "
        f"ms) and {int((slow & ~update).sum())} others (max {costs[~update].max() / 1e6:.1f} "
        f"ms: GIL hand-overs to the analyser thread folding rows or analysing, GC, the OS); "
        f"{during} windows analysed and published while logging ({t_log:.1f} s), the rest "
        f"by flush() ({t_flush:.1f} s) | baseline list.append: {_quantiles(t_base)}"
    )


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bench_kept_predictions(n: int) -> None:
    per_window, batch = 100_000, 5_000
    rng = np.random.default_rng(8)
    ref = {f"x{i}": rng.normal(size=5_000) for i in range(3)}
    ref["prediction"] = rng.random(5_000)
    tmp = tempfile.mkdtemp(prefix="wk-bench-kept-")
    clock = ManualClock(0.0)
    m = Monitor("kept", reference=ref, store=f"sqlite:///{tmp}/wk.db", clock=clock,
                window="1m", grace=0, rollups=())  # fmt: skip
    feats = {f"x{i}": rng.normal(size=batch) for i in range(3)}
    preds = rng.random(batch)
    offsets = np.sort(rng.uniform(0, batch / per_window * 60.0, batch))
    start = peak = _rss_mb()
    kept = 0  # the most predictions kept in memory and not saved yet, sampled per batch
    t0 = time.perf_counter()
    for k in range(n // batch):
        t = k * batch / per_window * 60.0
        clock.set(t + 60.0)
        ids = [f"{k}-{i}" for i in range(batch)]
        m.log(feats, preds, ids=ids, timestamps=t + offsets, seq=k + 1)
        kept = max(kept, len(m._parts.predictions))
        if k % 20 == 0:
            peak = max(peak, _rss_mb())
            if k == 20:
                start = _rss_mb()  # after warm-up: first window closed, pools filled
    m.flush()
    t_ours = time.perf_counter() - t0
    end = _rss_mb()
    saved = m.store.count_predictions("kept", "1", 0.0, 1e12)
    m.close()
    raw = sqlite3.connect(os.path.join(tmp, "raw.db"))
    raw.execute("create table p (model text, id text, ts real, pred text, score real, "
                "primary key (model, id))")  # fmt: skip
    t0 = time.perf_counter()
    for k in range(n // batch):
        rows = [("kept", f"{k}-{i}", float(k + offsets[i]), str(preds[i]), None)
                for i in range(batch)]  # fmt: skip
        raw.executemany("insert into p values (?,?,?,?,?)", rows)
        raw.commit()
    t_raw = time.perf_counter() - t0
    raw.close()
    for name in os.listdir(tmp):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)
    print(
        f"kept predictions: {n:,} predictions with ids, 1-minute windows of {per_window:,} "
        f"rows, {batch:,}-row batches, SQLite file: {saved:,} saved, {n / t_ours:,.0f} rows/s "
        f"(profiled, windows analysed, predictions saved); at most {kept:,} kept unsaved; "
        f"RSS after warm-up {start:,.0f} MB, peak {peak:,.0f} MB, end {end:,.0f} MB "
        f"| baseline raw sqlite3.executemany of the "
        f"same prediction rows: {n / t_raw:,.0f} rows/s"
    )


def main() -> None:
    quick = "--quick" in sys.argv
    days = 2 if quick else 30
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    ref = profile_table(reference_frame())
    rate = float(sys.argv[sys.argv.index("--rate") + 1]) if "--rate" in sys.argv else 20_000.0
    if only in (None, "closing"):
        bench_log_closing_windows(ref, 3 if quick else 10, rate)
    if only in (None, "kept"):
        bench_kept_predictions(500_000 if quick else 2_000_000)
    if only is None:
        bench_single_rows(ref)
        bench_batches(ref)
        bench_analysis(ref)
        bench_store(ref, days)


if __name__ == "__main__":
    main()
