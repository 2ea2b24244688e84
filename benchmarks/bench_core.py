"""Core benchmark: profiling throughput, memory, profile size, and drift from profiles.

Data: 1,000,000 rows x 25 columns (20 numeric, 5 categorical with 10-50 values), as in
issue 2. Prints figures next to a plain NumPy/SciPy baseline on the same data:

- profiling the whole frame, and in batches of 10,000 rows (rows/s);
- peak traced memory while profiling, and profile size in bytes at 100k, 1M and 5M rows;
- drift of all 25 columns from two profiles vs exact SciPy tests on the raw arrays.

Run: ``python benchmarks/bench_core.py`` (``--quick`` for a smaller run).
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import datasketches
import numpy as np
import pandas as pd
from scipy import stats

from watchkeeper import DatasetProfile, DriftDetector, profile_table

N_NUMERIC = 20
N_CATEGORICAL = 5


def make_frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {
        f"num_{i}": rng.normal(i + shift, 1.0 + i / 10, n) for i in range(N_NUMERIC)
    }
    for j in range(N_CATEGORICAL):
        k = 10 + 10 * j
        values = np.array([f"v{v}" for v in range(k)], dtype=object)
        cols[f"cat_{j}"] = pd.Series(values[rng.integers(0, k, n)], dtype=object)
    return pd.DataFrame(cols)


def timed(fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    quick = "--quick" in sys.argv
    n = 200_000 if quick else 1_000_000
    ref_df = make_frame(n, seed=1)
    cur_df = make_frame(n, seed=2, shift=0.02)
    print(f"data: {n:,} rows x {N_NUMERIC + N_CATEGORICAL} columns")

    t_ref, ref = timed(lambda: profile_table(ref_df), repeat=1)
    print(f"reference profile (schema inference + exact bins + profile): {t_ref:.2f} s")

    t_whole, cur = timed(lambda: profile_table(cur_df, reference=ref))
    print(f"profile whole frame: {t_whole:.3f} s = {n / t_whole:,.0f} rows/s")

    def batched() -> DatasetProfile:
        p = DatasetProfile(ref.schema, layout=ref.layout())
        for start in range(0, n, 10_000):
            p.update(cur_df.iloc[start : start + 10_000])
        return p

    t_batched, _ = timed(batched, repeat=1)
    print(f"profile in batches of 10,000: {t_batched:.3f} s = {n / t_batched:,.0f} rows/s")

    num = cur_df[[f"num_{i}" for i in range(N_NUMERIC)]].to_numpy()

    def numpy_baseline() -> None:
        # the least a profiler does: moments, extremes, and a sort for quantiles
        num.mean(axis=0), num.std(axis=0), num.min(axis=0), num.max(axis=0)
        np.sort(num, axis=0)
        for j in range(N_CATEGORICAL):
            cur_df[f"cat_{j}"].value_counts()

    t_np, _ = timed(numpy_baseline)
    print(f"baseline numpy (moments, min/max, sort, value_counts): {t_np:.3f} s")

    cols = [cur_df[f"num_{j}"].to_numpy(dtype=np.float64, copy=True) for j in range(N_NUMERIC)]

    def kll_floor() -> None:
        # the quantile sketch alone, fed the 20 numeric columns as they come (unsorted)
        for j in range(N_NUMERIC):
            datasketches.kll_doubles_sketch(400).update(cols[j])

    t_kll, _ = timed(kll_floor)
    print(f"datasketches KLL update alone on the 20 numeric columns, unsorted: {t_kll:.3f} s")

    # memory and size do not grow with rows
    for rows in (100_000, 1_000_000, 5_000_000) if not quick else (100_000, 200_000):
        chunk = make_frame(100_000, seed=3)
        tracemalloc.start()
        p = DatasetProfile(ref.schema, layout=ref.layout())
        for _ in range(rows // 100_000):
            p.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = len(p.to_bytes())
        print(
            f"rows {rows:>9,}: profile size {size / 1024:7.1f} kB, "
            f"peak traced memory while profiling {peak / 2**20:6.1f} MB"
        )

    detector = DriftDetector()
    t_fit, _ = timed(lambda: detector.fit(ref), repeat=1)
    t_first, result = timed(lambda: detector.compare(cur), repeat=1)
    t_cached, result = timed(lambda: detector.compare(cur))
    print(
        f"drift of 25 columns from two profiles: fit {t_fit * 1e3:.1f} ms, first compare "
        f"(simulates null spreads) {t_first * 1e3:.0f} ms, later compares {t_cached * 1e3:.1f} ms"
    )
    print(f"  verdict: {result.explanation}")

    def scipy_exact() -> None:
        for i in range(N_NUMERIC):
            stats.ks_2samp(ref_df[f"num_{i}"].to_numpy(), cur_df[f"num_{i}"].to_numpy())
        for j in range(N_CATEGORICAL):
            a = ref_df[f"cat_{j}"].value_counts()
            b = cur_df[f"cat_{j}"].value_counts().reindex(a.index, fill_value=0)
            stats.chi2_contingency(np.vstack([a.to_numpy(), b.to_numpy()]))

    t_scipy, _ = timed(scipy_exact, repeat=1)
    print(f"baseline SciPy exact tests on raw arrays (ks_2samp x20, chi2 x5): {t_scipy:.2f} s")


if __name__ == "__main__":
    main()
