"""Multivariate drift benchmark: the domain-classifier verdict, the PCA statistic per
window, the row reservoir per logged row, and the memory of a window's sample.

Data: 25 columns (20 numeric, 5 categorical with 10-50 values). Prints our figures next
to a plain scikit-learn / NumPy baseline on the same data in the same run:

- domain-classifier verdict on 2 x 10,000 rows x 25 columns (first call: with its
  permutation null; second call at the same sizes: the null is kept), vs one plain
  ``cross_val_score(HistGradientBoostingClassifier(), X, y, cv=2, scoring="roc_auc")``
  on all 20,000 rows (no null, no importances);
- the PCA statistic and verdict of one window of 2,000 rows, vs scikit-learn's
  ``PCA.transform`` + ``inverse_transform`` and the mean error in NumPy;
- the reservoir's cost per row (batches of 1,024 rows, full reservoir of 2,000), and the
  Monitor's ``log`` cost per row with and without a reservoir; baseline: one NumPy
  uniform per row;
- memory of a full 2,000-row reservoir (traced) and its stored bytes.

Run: ``python benchmarks/bench_multivariate.py`` (``--quick``: fewer repeats).
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.profile.reservoir import Reservoir
from watchkeeper.stats.multivariate import DomainClassifier, MultivariateConfig, PCAReconstruction

N_NUMERIC, N_CATEGORICAL = 20, 5


def columns(rng: np.random.Generator, n: int, rho: float = 0.8) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {f"num_{i}": rng.normal(i, 1.0, n) for i in range(N_NUMERIC)}
    x = rng.normal(size=n)
    cols["num_0"], cols["num_1"] = x, rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    for j in range(N_CATEGORICAL):
        values = np.array([f"v{v}" for v in range(10 + 10 * j)], dtype=object)
        cols[f"cat_{j}"] = values[rng.integers(0, len(values), n)]
    return cols


def best(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def domain_classifier(rng: np.random.Generator) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score
    from threadpoolctl import threadpool_limits

    ref, cur = columns(rng, 10_000), columns(rng, 10_000, rho=-0.8)
    t = time.perf_counter()
    clf = DomainClassifier(MultivariateConfig()).fit(ref)
    first = clf.test(cur)
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    clf.test(cur)
    t_again = time.perf_counter() - t
    x = np.vstack(
        [
            np.column_stack([ref[f"num_{i}"] for i in range(N_NUMERIC)]),
            np.column_stack([cur[f"num_{i}"] for i in range(N_NUMERIC)]),
        ]
    )
    y = np.r_[np.zeros(10_000), np.ones(10_000)]
    with threadpool_limits(1):
        t = time.perf_counter()
        auc = cross_val_score(HistGradientBoostingClassifier(), x, y, cv=2, scoring="roc_auc")
        t_base = time.perf_counter() - t
    v = first.verdict
    print("domain classifier, 2 x 10,000 rows x 25 columns (1,000 rows a side trained on):")
    print(
        f"  ours, first verdict (with the 19-permutation null, importances): {t_first:7.2f} s"
        f"  AUC {v.statistic:.3f} vs threshold {v.threshold:.3f}, drifted={v.drifted}"
    )
    print(f"  ours, next verdict at the same sizes (null kept):                {t_again:7.2f} s")
    print(
        f"  sklearn cross_val_score(HGB, cv=2) on all 20,000 rows, numeric:  {t_base:7.2f} s"
        f"  AUC {auc.mean():.3f} (no threshold, no ranking)"
    )


def pca(rng: np.random.Generator, repeats: int) -> None:
    from sklearn.decomposition import PCA

    ref = {k: v for k, v in columns(rng, 10_000).items() if k.startswith("num")}
    window = {k: v for k, v in columns(rng, 2_000, rho=-0.8).items() if k.startswith("num")}
    ours = PCAReconstruction().fit(ref)
    t_ours = best(lambda: ours.test(window), repeats)
    x_ref = np.column_stack(list(ref.values()))
    x_win = np.column_stack(list(window.values()))
    mean, std = x_ref.mean(axis=0), x_ref.std(axis=0)
    model = PCA(n_components=len(ours.components_)).fit((x_ref - mean) / std)

    def plain() -> float:
        z = (x_win - mean) / std
        back = model.inverse_transform(model.transform(z))
        return float(np.linalg.norm(z - back, axis=1).mean())

    t_plain = best(plain, repeats)
    print("PCA reconstruction error, one window of 2,000 rows x 20 numeric columns:")
    print(f"  ours (statistic, threshold, verdict):        {1e3 * t_ours:7.2f} ms")
    print(f"  sklearn PCA transform + inverse, NumPy mean: {1e3 * t_plain:7.2f} ms")


def reservoir(rng: np.random.Generator, repeats: int) -> None:
    batch = 1_024
    data = columns(rng, batch)
    full = Reservoir(2_000, 0)
    for _ in range(50):
        full.add(data, batch)
    n_batches = 200

    def feed() -> None:
        for _ in range(n_batches):
            full.add(data, batch)

    t_res = best(feed, repeats) / (n_batches * batch)
    gen = np.random.default_rng(0)
    t_base = best(lambda: [gen.random(batch) < 0.5 for _ in range(n_batches)], repeats) / (
        n_batches * batch
    )
    print("reservoir (2,000 rows kept, batches of 1,024 rows x 25 columns, after filling):")
    print(f"  ours Reservoir.add:             {1e9 * t_res:7.1f} ns per row")
    print(f"  NumPy: one uniform + compare:   {1e9 * t_base:7.1f} ns per row")

    ref = columns(rng, 5_000)
    logs = [columns(rng, batch) for _ in range(20)]

    def run(size: int) -> float:
        clock = ManualClock(0.0)
        m = Monitor("b", reference=ref, store="memory://", clock=clock, window="1h",
                    rollups=(), reservoir_size=size, max_future_skew=None)  # fmt: skip
        t = time.perf_counter()
        for i, b in enumerate(logs * 5):
            m.log(b, timestamps=np.full(batch, float(i)))
        elapsed = time.perf_counter() - t
        m.close()
        return elapsed / (100 * batch)

    off, on = min(run(0) for _ in range(repeats)), min(run(2_000) for _ in range(repeats))
    print("Monitor.log, batches of 1,024 rows x 25 columns, one open window:")
    print(f"  without a reservoir: {1e6 * off:6.2f} us per row")
    print(f"  with 2,000 rows:     {1e6 * on:6.2f} us per row (+{1e9 * (on - off):.0f} ns)")

    tracemalloc.start()
    sample = Reservoir(2_000, 1)
    for _ in range(10):
        sample.add(data, batch)
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print("memory of one window's sample (2,000 rows x 20 numeric + 5 categorical columns):")
    print(
        f"  traced: {current / 1e3:7.0f} kB; stored: {len(sample.to_bytes()) / 1e3:7.0f} kB"
        f"  (bound: 2,000 x (8 bytes per numeric column + a str per categorical) + keys)"
    )


def main() -> None:
    quick = "--quick" in sys.argv
    repeats = 2 if quick else 5
    rng = np.random.default_rng(0)
    domain_classifier(rng)
    pca(rng, repeats)
    reservoir(rng, repeats)


if __name__ == "__main__":
    main()
