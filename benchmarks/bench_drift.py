"""Drift benchmark: cost per compare, power beside SciPy, false alarms with the floor off.

Three parts, each printing a table (README, "How drift is judged" and "Numbers"):

``speed``
    25 columns (20 numeric of varied shapes, 5 categorical) against a 100,000-row
    reference: a fresh detector's fit and first compare at never-seen window sizes, a
    warm compare, and profile both + compare at 100k and 1M rows; beside SciPy's exact
    tests on the raw arrays (``ks_2samp`` x20 + ``chi2_contingency`` x5) in the same run.
``power``
    One column, 100,000-row reference, α = 0.01, effect floor off, no correction: the
    share of trials flagged by the default method from profiles, beside ``ks_2samp``
    (numeric, a shift of the mean) or ``chi2_contingency`` (categorical, a tilt of the
    shares) on the same raw arrays.
``calibration``
    25 columns of varied shapes (normal, lognormal, Student t2, bimodal, integer ties,
    zero-inflated, categories with rare values), no drift, effect floor off,
    Benjamini–Hochberg at α = 0.01: the share of trials in which any column is flagged,
    for current sizes 30 .. 1M and references 5k .. 1M, with a 95% interval.

Calibration works on counts, the profiles' own representation, so that a million-row
trial costs milliseconds: a continuous column's reference bins sit at its order
statistics, whose true probabilities are uniform order statistics (drawn as normalised
Gamma spacings), and the current's exact counts on those bins are multinomial with those
probabilities — the very law of the counts a profile of real rows would hold, for every
continuous shape, since the binned KS is rank-based. Integer and zero-inflated columns
and categories are drawn as value counts. The statistics, null laws and verdicts are the
library's own (:func:`watchkeeper.stats.verdict.judge`, as the detector calls it).

Run: ``python benchmarks/bench_drift.py [speed|power|calibration] [--quick]``.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

from watchkeeper.binning import bin_counts, quantile_edges
from watchkeeper.profile import profile_table
from watchkeeper.stats import DriftConfig, DriftDetector, get_method
from watchkeeper.stats.null_laws import BridgeNull, ChiSquareLaw, chi_square_law_applies
from watchkeeper.stats.null_model import NullModel
from watchkeeper.stats.verdict import Observation, judge

QUICK = "--quick" in sys.argv
ALPHA = 0.01


# --- data ---------------------------------------------------------------------------


def make_frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """20 numeric columns of varied shapes and 5 categorical ones (one with rare values)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for i in range(20):
        shape = i % 5
        if shape == 0:
            x = rng.normal(shift, 1.0, n)
        elif shape == 1:
            x = rng.lognormal(shift, 0.8, n)
        elif shape == 2:
            x = rng.standard_t(2, n) + shift
        elif shape == 3:
            x = rng.integers(0, 6, n).astype(np.float64) + (rng.random(n) < shift)
        else:
            x = np.where(rng.random(n) < 0.6, 0.0, rng.exponential(1.0, n) + shift)
        cols[f"num_{i}"] = x
    for j in range(5):
        k = 5 + 10 * j
        p = np.linspace(1.0, 3.0, k)
        p /= p.sum()
        values = np.array([f"v{v}" for v in range(k)], dtype=object)
        cols[f"cat_{j}"] = values[rng.choice(k, n, p=p)]
    return pd.DataFrame(cols)


def best_of(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def scipy_exact(ref: pd.DataFrame, cur: pd.DataFrame) -> None:
    for name in ref.columns:
        if name.startswith("num_"):
            stats.ks_2samp(ref[name].to_numpy(), cur[name].to_numpy())
        else:
            r = ref[name].value_counts()
            c = cur[name].value_counts().reindex(r.index, fill_value=0)
            stats.chi2_contingency(np.vstack([r.to_numpy(), c.to_numpy()]), correction=False)


# --- speed --------------------------------------------------------------------------


def speed() -> None:
    print("== speed: 25 columns (20 numeric, 5 categorical), reference 100,000 rows ==")
    ref_df = make_frame(100_000, seed=1)
    ref = profile_table(ref_df)
    c0 = time.process_time()
    t0 = time.perf_counter()
    DriftDetector().fit(ref)
    t_cold, c_cold = time.perf_counter() - t0, time.process_time() - c0
    t_fit = best_of(lambda: DriftDetector().fit(ref))
    print(
        f"fit, first in the process (simulates the bridge laws): {1e3 * t_cold:.1f} ms "
        f"(CPU {1e3 * c_cold:.1f} ms); a fresh detector after that: {1e3 * t_fit:.1f} ms"
    )
    warm = DriftDetector().fit(ref)
    sizes = [800, 801, 802, 803, 5_000, 100_000]
    print("n_cur    first compare, fresh detector (CPU)   warm compare   SciPy exact on raw arrays")
    for n in sizes:
        cur_df = make_frame(n, seed=n)
        cur = profile_table(cur_df, reference=ref)
        fresh = DriftDetector().fit(ref)
        c0 = time.process_time()
        t0 = time.perf_counter()
        fresh.compare(cur)
        t_first, c_first = time.perf_counter() - t0, time.process_time() - c0
        warm.compare(cur)
        t_warm = best_of(lambda cur=cur: warm.compare(cur))
        t_sp = best_of(lambda cur_df=cur_df: scipy_exact(ref_df, cur_df), repeat=1)
        print(f"{n:>7,}  {1e3 * t_first:>10.1f} ms ({1e3 * c_first:.1f} ms){'':14}"
              f"{1e3 * t_warm:>6.1f} ms  {t_sp:>8.3f} s")  # fmt: skip
    for name in ("jensen_shannon", "psi"):  # named methods: their null grid is made at fit
        config = DriftConfig(method=name)
        c0 = time.process_time()
        named = DriftDetector(config).fit(ref)
        c_fit = time.process_time() - c0
        c0 = time.process_time()
        DriftDetector(config).fit(ref)
        c_again = time.process_time() - c0
        firsts = []
        for n in (800, 801, 1_013, 5_000, 100_000):
            cur = profile_table(make_frame(n, seed=n), reference=ref)
            c0 = time.process_time()
            named.compare(cur)
            firsts.append(f"{n:,}: {1e3 * (time.process_time() - c0):.1f} ms")
        print(f"{name}: fit, first in the process (simulates the null grids) CPU "
              f"{c_fit:.2f} s, a fresh detector after that {1e3 * c_again:.0f} ms; first "
              f"compare at never-seen sizes (CPU) {', '.join(firsts)}")  # fmt: skip
    for n in [100_000] if QUICK else [100_000, 1_000_000]:
        a, b = make_frame(n, seed=11), make_frame(n, seed=12, shift=0.02)

        def ours(a: pd.DataFrame = a, b: pd.DataFrame = b) -> None:
            r = profile_table(a)
            DriftDetector().fit(r).compare(profile_table(b, reference=r))

        c0 = time.process_time()
        t_ours = best_of(ours, repeat=1)
        c_ours = time.process_time() - c0
        c0 = time.process_time()
        t_sp = best_of(lambda a=a, b=b: scipy_exact(a, b), repeat=1)
        c_sp = time.process_time() - c0
        print(f"{n:,} x 25 vs {n:,} x 25, profile both + compare: {t_ours:.2f} s "
              f"(CPU {c_ours:.2f} s); SciPy exact tests on the raw arrays: {t_sp:.2f} s "
              f"(CPU {c_sp:.2f} s)")  # fmt: skip


# --- power --------------------------------------------------------------------------


def power() -> None:
    trials = 60 if QUICK else 200
    n_ref = 100_000
    rng = np.random.default_rng(7)
    config = DriftConfig(effect_floor=0.0, correction="none", false_alarm_rate=ALPHA)
    print(
        f"== power: one column, reference {n_ref:,}, α = {ALPHA}, floor off, "
        f"{trials} trials per cell =="
    )
    print("numeric (normal, mean shift in sd)   n_cur   shift   ks_binned (ours)   ks_2samp")
    ref_x = rng.normal(size=n_ref)
    ref = profile_table({"x": ref_x})
    detector = DriftDetector(config).fit(ref)
    cells = [
        (300, 0.2),
        (300, 0.3),
        (1_000, 0.1),
        (1_000, 0.15),
        (10_000, 0.03),
        (10_000, 0.05),
        (100_000, 0.01),
        (100_000, 0.015),
    ]
    for n, shift in cells:
        ours = theirs = 0
        for _ in range(trials):
            x = rng.normal(shift, 1.0, n)
            ours += detector.compare(profile_table({"x": x}, reference=ref)).columns[0].drifted
            theirs += stats.ks_2samp(ref_x, x).pvalue < ALPHA
        print(
            f"{'':37}{n:>7,}  {shift:>5}   {100 * ours / trials:>10.1f}%   "
            f"{100 * theirs / trials:>8.1f}%"
        )
    print("categorical (5 values, tilted shares)  n_cur  tilt   chi2 (ours)   chi2_contingency")
    p = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    cats = np.array(list("abcde"), dtype=object)
    ref_c = cats[rng.choice(5, n_ref, p=p)]
    ref = profile_table({"c": ref_c})
    detector = DriftDetector(config).fit(ref)
    r_counts = np.array([np.sum(ref_c == c) for c in cats])
    for n, tilt in [(300, 0.25), (1_000, 0.12), (10_000, 0.04), (100_000, 0.012)]:
        q = p * np.linspace(1 - tilt, 1 + tilt, 5)
        q /= q.sum()
        ours = theirs = 0
        for _ in range(trials):
            c = cats[rng.choice(5, n, p=q)]
            ours += detector.compare(profile_table({"c": c}, reference=ref)).columns[0].drifted
            c_counts = np.array([np.sum(c == v) for v in cats])
            table = np.vstack([r_counts, c_counts])
            theirs += stats.chi2_contingency(table, correction=False).pvalue < ALPHA
        print(
            f"{'':37}{n:>7,}  {tilt:>5}   {100 * ours / trials:>8.1f}%   "
            f"{100 * theirs / trials:>10.1f}%"
        )


# --- calibration ----------------------------------------------------------------------

_KS = get_method("ks_binned")
_CHI2 = get_method("chi2")


def _continuous(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current counts on the reference's 20 quantile bins, continuous data."""
    ranks = np.ceil(np.linspace(0, 1, 21) * n).astype(int)
    ranks[0] = 1  # inverted_cdf: edge j is the ceil(j n / 20)-th order statistic
    steps = np.diff(ranks)
    # under, bins [e_(j-1), e_j) and the closed last bin [e_19, e_20], over
    ref = np.concatenate([[0], steps[:-1], [steps[-1] + 1], [0]]).astype(np.int64)
    gaps = np.diff(np.concatenate([[0], ranks, [n + 1]]))
    spacing = rng.gamma(gaps.astype(np.float64))
    true_p = spacing / spacing.sum()  # mass below e_0, between the edges, above e_20
    cur = rng.multinomial(m, true_p)
    return ref, cur


def _valued(
    rng: np.random.Generator, values: np.ndarray, p: np.ndarray, n: int, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """Counts on the reference's bins for a discrete column, drawn as value counts."""
    r_vc, c_vc = rng.multinomial(n, p), rng.multinomial(m, p)
    sample = np.repeat(values, r_vc)
    edges = quantile_edges(sample)
    return bin_counts(sample, edges, assume_sorted=True), bin_counts(
        np.repeat(values, c_vc), edges, assume_sorted=True
    )


def _zero_inflated(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """60% zeros, the rest exponential: real values (a mixture has no shortcut here)."""

    def draw(k: int) -> np.ndarray:
        zeros = rng.binomial(k, 0.6)
        return np.sort(np.concatenate([np.zeros(zeros), rng.exponential(1.0, k - zeros)]))

    r, c = draw(n), draw(m)
    edges = quantile_edges(r)
    return bin_counts(r, edges, assume_sorted=True), bin_counts(c, edges, assume_sorted=True)


def _categories(
    rng: np.random.Generator, p: np.ndarray, n: int, m: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Category counts on the reference's categories + "other", and the unseen mass."""
    r_all, c_all = rng.multinomial(n, p), rng.multinomial(m, p)
    seen = r_all > 0
    ref = np.append(r_all[seen], 0)
    cur = np.append(c_all[seen], c_all[~seen].sum())
    unseen = max(1.0 / (n + 1), float(np.sum(r_all == 1)) / n)
    return ref, cur, unseen


def _observation(
    name: str,
    ref: np.ndarray,
    cur: np.ndarray,
    unseen: dict[int, float],
    categorical: bool,
    seed: int,
) -> Observation:
    n, m = int(ref.sum()), int(cur.sum())
    if categorical:
        result = _CHI2.from_counts(ref, cur)
        if chi_square_law_applies(ref, cur):
            dof = int(np.count_nonzero((ref + cur) > 0)) - 1
            null: object = ChiSquareLaw(_CHI2, dof=max(dof, 0))
        else:
            null = NullModel(_CHI2, seed=seed).fit_counts(ref, unseen=unseen)
        return Observation(name, "categorical", _CHI2, result, n, m, null)  # type: ignore[arg-type]
    result = _KS.from_counts(ref, cur)
    bridge = BridgeNull(_KS, seed=seed).fit_counts(ref, unseen=unseen)
    return Observation(name, "numeric", _KS, result, n, m, bridge)


def _trial(
    rng: np.random.Generator, n: int, m: int, cat_p: list[np.ndarray], config: DriftConfig
) -> bool:
    obs = []
    edge = {0: 1.0 / (n + 1)}
    for i in range(14):
        ref, cur = _continuous(rng, n, m)
        obs.append(_observation(f"c{i}", ref, cur, {**edge, ref.size - 1: 1 / (n + 1)}, False, 0))
    for i, (vals, p) in enumerate(
        [
            (np.arange(6.0), np.full(6, 1 / 6)),
            (np.arange(3.0), np.array([0.9, 0.09, 0.01])),
            (np.arange(30.0), np.full(30, 1 / 30)),
        ]
    ):
        ref, cur = _valued(rng, vals, p, n, m)
        obs.append(_observation(f"t{i}", ref, cur, {**edge, ref.size - 1: 1 / (n + 1)}, False, 0))
    for i in range(3):
        ref, cur = _zero_inflated(rng, n, m)
        obs.append(_observation(f"z{i}", ref, cur, {**edge, ref.size - 1: 1 / (n + 1)}, False, 0))
    for i, p in enumerate(cat_p):
        ref, cur, unseen = _categories(rng, p, n, m)
        obs.append(_observation(f"k{i}", ref, cur, {ref.size - 1: unseen}, True, 0))
    return judge(obs, config).n_drifted > 0


def _categories_p() -> list[np.ndarray]:
    rare = np.array([0.5, 0.3, 0.15] + [0.05 / 50] * 50)  # 50 rare categories
    return [
        np.full(5, 0.2),
        np.array([0.6, 0.3, 0.07, 0.02, 0.01]),
        rare,
        np.full(40, 1 / 40),
        np.array([0.97, 0.03]),
    ]


def calibration_cells(cells: list[tuple[int, ...]]) -> None:
    """``--cells n_ref:n_cur:trials,...``: single cells with more trials."""
    config = DriftConfig(effect_floor=0.0, false_alarm_rate=ALPHA)
    for n, m, trials in cells:
        rng = np.random.default_rng([n, m, trials])
        hits = sum(_trial(rng, n, m, _categories_p(), config) for _ in range(trials))
        rate = hits / trials
        half = 1.96 * math.sqrt(max(rate * (1 - rate), 1e-4) / trials)
        print(f"n_ref {n:,}, n_cur {m:,}: any-column false alarms {100 * rate:.2f}% "
              f"± {100 * half:.2f} ({trials} trials)", flush=True)  # fmt: skip


def calibration() -> None:
    config = DriftConfig(effect_floor=0.0, false_alarm_rate=ALPHA)
    cat_p = _categories_p()
    refs = [5_000, 100_000] if QUICK else [5_000, 100_000, 1_000_000]
    curs = [30, 1_000, 100_000] if QUICK else [30, 1_000, 100_000, 1_000_000]
    print(f"== false alarms: 25 columns, no drift, floor off, BH at α = {ALPHA} ==")
    print("share of trials with any column flagged (95% interval)")
    print("n_ref \\ n_cur " + "".join(f"{m:>22,}" for m in curs))
    for n in refs:
        row = f"{n:>13,} "
        for m in curs:
            # 400 trials: a 95% interval of +-0.98 points at the nominal 1%
            trials = (50 if max(n, m) >= 1_000_000 else 100) if QUICK else 400
            rng = np.random.default_rng([n, m])
            hits = sum(_trial(rng, n, m, cat_p, config) for _ in range(trials))
            rate = hits / trials
            half = 1.96 * math.sqrt(max(rate * (1 - rate), 1e-4) / trials)
            row += f"{100 * rate:.2f}% ±{100 * half:.2f} ({trials})".rjust(22)
        print(row, flush=True)


if __name__ == "__main__":
    parts = [a for a in sys.argv[1:] if not a.startswith("--")] or ["speed", "power", "calibration"]
    if "--cells" in sys.argv:
        spec = sys.argv[sys.argv.index("--cells") + 1]
        calibration_cells([tuple(int(v) for v in c.split(":")) for c in spec.split(",")])
        sys.exit(0)
    for part in parts:
        {"speed": speed, "power": power, "calibration": calibration}[part]()
