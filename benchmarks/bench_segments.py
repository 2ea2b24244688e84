"""Segments benchmark: what ``segments=[...]`` adds per row, per window and in memory.

Data: the 25 columns of bench_core (20 numeric, 5 categorical) plus ``region`` (50
values, skewed: the top 20 are tracked, the rest are "other"), ``channel`` (3 values),
and a ``prediction`` / ``score`` output. Prints, next to a plain NumPy baseline in the
same run:

- the Monitor's batched ``log()`` (no window closing during the run) with no segment
  column, with ``region``, and with ``region`` + ``channel``: rows/s, and the added cost
  in microseconds per row per segment column, at 1,024-row batches (the single-row
  buffer's size) and 10,000-row batches; baseline: one NumPy ``bincount`` per column of
  (segment, reference bin) — the least any per-segment histogram can cost;
- :meth:`SegmentSet.update` alone on validated batches (the part the Monitor adds);
- memory: bytes of one per-segment profile (empty and after 100,000 rows), of a
  window state with and without segments, and the peak Python allocation
  (tracemalloc) of a segment set over 200,000 rows;
- the analysis of one closed window with segments (drift per segment, Bonferroni over
  segments) vs without.

Run: ``python benchmarks/bench_segments.py`` (``--quick``: fewer rows).
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.monitor.window import WindowState
from watchkeeper.profile import DatasetProfile, profile_table
from watchkeeper.profile.segments import SEGMENT_K, SegmentSet
from watchkeeper.schema import validate
from watchkeeper.store import WindowKey

sys.path.insert(0, os.path.dirname(__file__))
from bench_core import make_frame  # the same 25-column data

REGIONS = np.array([f"r{i:02d}" for i in range(50)], dtype=object)
WEIGHTS = 1.0 / np.arange(1, 51) ** 1.1


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = make_frame(n, seed)
    df["region"] = REGIONS[rng.choice(50, n, p=WEIGHTS / WEIGHTS.sum())]
    df["channel"] = rng.choice(np.array(["web", "app", "phone"], dtype=object), n)
    df["score"] = rng.random(n)
    df["prediction"] = np.where(df["score"] > 0.5, "yes", "no")
    return df


def monitor_rows_per_second(
    ref: pd.DataFrame, cur: pd.DataFrame, segments: list[str], batch: int
) -> float:
    m = Monitor("bench", reference=ref, store="memory://", clock=ManualClock(0.0), window="1h",
                grace="1h", rollups=(), segments=segments, max_future_skew=None)  # fmt: skip
    features = cur.drop(columns=["prediction", "score"])
    outputs = cur[["prediction", "score"]]
    ts = np.full(len(cur), 10.0)
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        for lo in range(0, len(cur), batch):
            hi = lo + batch
            m.log(features.iloc[lo:hi], outputs.iloc[lo:hi], timestamps=ts[lo:hi])
        # rows still buffered for the segments are folded in too (as saving would)
        for state in m._parts.windows._open.values():
            for part in state.segments or ():
                part.flush()
        best = min(best, time.perf_counter() - t0)
    m._parts.background.close()  # no flush: only the logging is measured
    return len(cur) / best


def numpy_baseline_seconds(ref: pd.DataFrame, cur: pd.DataFrame, batch: int) -> float:
    """One bincount of (segment, bin) per numeric column and of (segment, code) per
    categorical column, per batch: the least a per-segment histogram costs."""
    edges = {
        c: np.quantile(ref[c], np.linspace(0, 1, 11)[1:-1]) for c in ref if c.startswith("num_")
    }
    t0 = time.perf_counter()
    for lo in range(0, len(cur), batch):
        part = cur.iloc[lo : lo + batch]
        seg, _ = pd.factorize(part["region"])
        for c, e in edges.items():
            np.bincount(seg * 12 + np.searchsorted(e, part[c].to_numpy()), minlength=12 * 51)
        for c in (c for c in part if c.startswith("cat_")):
            codes, uniq = pd.factorize(part[c])
            np.bincount(seg * len(uniq) + codes, minlength=len(uniq) * 51)
    return time.perf_counter() - t0


def main() -> None:
    quick = "--quick" in sys.argv
    n = 50_000 if quick else 200_000
    ref = frame(50_000, seed=1)
    cur = frame(n, seed=2)
    print(
        f"segments benchmark: {n:,} rows x {cur.shape[1]} columns; "
        "region 50 values (top 20 tracked)"
    )
    print("\n1. Monitor.log() of batches, no window closing (best of 2)")
    for batch in (1_024, 10_000):
        base = monitor_rows_per_second(ref, cur, [], batch)
        one = monitor_rows_per_second(ref, cur, ["region"], batch)
        two = monitor_rows_per_second(ref, cur, ["region", "channel"], batch)
        added = (1 / one - 1 / base) * 1e6
        added2 = (1 / two - 1 / base) * 1e6 / 2
        numpy_s = numpy_baseline_seconds(ref, cur, batch)
        print(
            f"  batches of {batch:>6,}: no segments {base:>10,.0f} rows/s | "
            f"region {one:>10,.0f} rows/s"
            f" | region+channel {two:>10,.0f} rows/s"
        )
        print(
            f"     added per row per segment column: {added:.2f} us (region), {added2:.2f} us "
            f"(mean of two); NumPy bincount baseline {numpy_s / n * 1e6:.2f} us per row"
        )
    ref_profile = profile_table(ref)
    schema = ref_profile.schema
    batch = validate(cur, schema, strict=False, allow_extra=True)
    print("\n2. SegmentSet.update alone on one validated batch of all rows")
    for cols in (["region"], ["channel"], ["region", "channel"]):
        seg = SegmentSet.for_reference(cols, ref_profile, top_k=20)
        t0 = time.perf_counter()
        seg.update(batch)
        dt = time.perf_counter() - t0
        print(
            f"  {'+'.join(cols):<15} {dt / n * 1e6 / len(cols):.3f} us per row per segment column"
            f" ({len(seg[cols[0]].profiles)} profiles for {cols[0]})"
        )
    print("\n3. Memory")
    seg = SegmentSet.for_reference(["region"], ref_profile, top_k=20)
    empty = len(seg.to_bytes())
    sub = validate(cur.iloc[:100_000], schema, strict=False, allow_extra=True)
    seg.update(sub)
    part = seg["region"]
    sizes = sorted(len(p.to_bytes()) for p in part.profiles.values())
    blank = DatasetProfile(schema, layout=ref_profile.layout(), k=SEGMENT_K)
    print(
        f"  one per-segment profile ({len(schema)} columns): empty {len(blank.to_bytes()):,} B;"
        f" after 100,000 rows in 21 segments: median {sizes[len(sizes) // 2]:,} B, "
        f"max {sizes[-1]:,} B"
    )
    print(
        f"  segment set of region: empty {empty:,} B, full {len(seg.to_bytes()):,} B "
        "(bound: 21 profiles)"
    )
    state = WindowState(profile_table(cur.iloc[:100_000], reference=ref_profile), 1)
    plain = len(state.to_bytes())
    state.segments = seg
    print(
        f"  window state bytes: without segments {plain:,} B, "
        f"with region {len(state.to_bytes()):,} B"
    )
    tracemalloc.start()
    big = SegmentSet.for_reference(["region"], ref_profile, top_k=20)
    for lo in range(0, n, 10_000):
        big.update(validate(cur.iloc[lo : lo + 10_000], schema, strict=False, allow_extra=True))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  peak Python allocation of a region segment set over {n:,} rows "
        f"(10,000-row batches): {peak / 1e6:.1f} MB"
    )
    print("\n4. Analysis of one closed window (10,000 rows)")
    for segments in ([], ["region"], ["region", "channel"]):
        m = Monitor("bench", reference=ref, store="memory://", clock=ManualClock(0.0), window="1m",
                    grace=0, rollups=(), segments=segments, max_future_skew=None)  # fmt: skip
        feats = cur.iloc[:10_000].drop(columns=["prediction", "score"])
        outs = cur.iloc[:10_000][["prediction", "score"]]
        m.log(feats, outs, timestamps=np.full(10_000, 5.0))
        t0 = time.perf_counter()
        m.flush()  # closes, saves and analyses the window (per-segment detectors fitted)
        first = time.perf_counter() - t0
        key = WindowKey("bench", "1", 0.0, 60.0)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            m._parts.analyser.analyse(key)
            times.append(time.perf_counter() - t0)
        print(
            f"  segments {segments!s:<22} close + first analysis {first * 1e3:8.1f} ms, "
            f"analysis again {min(times) * 1e3:8.1f} ms"
        )
        m.close()


if __name__ == "__main__":
    main()
