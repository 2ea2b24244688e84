"""Drift methods: SciPy/NumPy oracles, path agreement, effect floors, and the contract.

Every statistic is checked against an independent computation on the same seeded data
(one oracle table), the three paths of each method (raw arrays, profile, vectorised
kernel) are checked against each other, and a contract suite runs over every registered
method as separate test ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

import watchkeeper.stats.drift as drift
from watchkeeper.binning import DEFAULT_BINS, bin_counts, quantile_edges
from watchkeeper.errors import ConfigError, IncompatibleProfilesError, InvalidBatchError
from watchkeeper.stats.drift import METHODS, CdfPair, DriftMethod, default_method, get_method
from watchkeeper.types import ColumnKind

COUNTS_METHODS = sorted(name for name, m in METHODS.items() if m.representation == "counts")
# counts methods that also compare categories (ks_binned needs ordered bins)
CATEGORY_METHODS = [name for name in COUNTS_METHODS if "categorical" in METHODS[name].kinds]
CDF_METHODS = sorted(name for name, m in METHODS.items() if m.representation == "cdf")

# Stated ranges of each statistic (module docstrings).
RANGES = {
    "chi2": (0.0, np.inf),
    "hellinger": (0.0, 1.0),
    "jensen_shannon": (0.0, 1.0),
    "ks": (0.0, 1.0),
    "ks_binned": (0.0, 1.0),
    "l1": (0.0, 2.0),
    "linf": (0.0, 1.0),
    "psi": (0.0, np.inf),
    "wasserstein": (0.0, np.inf),
}


def _numeric_datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20_240_611)
    return {
        "normal": (rng.normal(size=3_000), rng.normal(size=2_000)),
        "shifted": (rng.normal(size=3_000), rng.normal(0.3, 1.2, 1_500)),
        "heavy_tailed": (rng.standard_t(2, 4_000), rng.standard_t(2, 4_000) + 0.1),
        "integer_ties": (
            rng.integers(0, 6, 2_000).astype(np.float64),
            rng.integers(0, 7, 900).astype(np.float64),
        ),
        "small_n5": (rng.normal(size=5), rng.normal(0.5, 1, 5)),
        "unequal_sizes": (rng.normal(size=40), rng.normal(0.2, 1, 12_000)),
    }


def _categorical_datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20_240_612)
    cats = np.array(["a", "b", "c", "d", "e"])
    return {
        "categories": (
            rng.choice(cats, 3_000, p=[0.4, 0.3, 0.15, 0.1, 0.05]).astype(object),
            rng.choice(cats, 1_000, p=[0.35, 0.3, 0.2, 0.1, 0.05]).astype(object),
        ),
        "unseen_category": (
            rng.choice(cats[:4], 800).astype(str),
            rng.choice(cats, 600).astype(str),
        ),
    }


NUMERIC = _numeric_datasets()
CATEGORICAL = _categorical_datasets()


def _counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The oracles' own counting: reference quantile bins, or the union of categories."""
    if ref.dtype.kind == "f":
        edges = quantile_edges(ref)
        return bin_counts(ref, edges).astype(float), bin_counts(cur, edges).astype(float)
    cats = np.union1d(ref.astype(str), cur.astype(str))
    return (
        np.array([np.sum(ref == k) for k in cats], dtype=float),
        np.array([np.sum(cur == k) for k in cats], dtype=float),
    )


def _props(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r, c = _counts(ref, cur)
    return r / r.sum(), c / c.sum()


def _contingency(ref: np.ndarray, cur: np.ndarray) -> Any:
    r, c = _counts(ref, cur)
    keep = (r + c) > 0
    return stats.chi2_contingency(np.vstack([r[keep], c[keep]]), correction=False)


def _psi(ref: np.ndarray, cur: np.ndarray) -> float:
    p, q = _props(ref, cur)
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    return float(np.sum((q - p) * np.log(q / p)))


def _hellinger(ref: np.ndarray, cur: np.ndarray) -> float:
    p, q = _props(ref, cur)
    return float(np.sqrt(max(1.0 - np.sum(np.sqrt(p * q)), 0.0)))


def _ks_binned(ref: np.ndarray, cur: np.ndarray) -> float:
    """D at the bin boundaries: shares below each edge, and at or below the last."""
    edges = quantile_edges(ref)

    def shares(x: np.ndarray) -> np.ndarray:
        return np.array([*(np.mean(x < e) for e in edges[:-1]), np.mean(x <= edges[-1])])

    return float(np.max(np.abs(shares(ref) - shares(cur))))


def _ks_binned_p(ref: np.ndarray, cur: np.ndarray) -> float:
    n, m = ref.size, cur.size
    return float(stats.kstwobign.sf(_ks_binned(ref, cur) * np.sqrt(n * m / (n + m))))


def _chi2_effect(ref: np.ndarray, cur: np.ndarray) -> float:
    r, c = _counts(ref, cur)
    return float(np.sqrt(_contingency(ref, cur).statistic * (1 / r.sum() + 1 / c.sum())))


Oracle = Callable[[np.ndarray, np.ndarray], float]

# (method, quantity) -> the independent computation; "statistic" unless stated.
ORACLES: dict[tuple[str, str], Oracle] = {
    ("ks", "statistic"): lambda r, c: float(stats.ks_2samp(r, c).statistic),
    ("ks", "p_value"): lambda r, c: float(stats.ks_2samp(r, c).pvalue),
    ("ks_binned", "statistic"): _ks_binned,
    ("ks_binned", "p_value"): _ks_binned_p,
    ("chi2", "statistic"): lambda r, c: float(_contingency(r, c).statistic),
    ("chi2", "p_value"): lambda r, c: float(_contingency(r, c).pvalue),
    ("chi2", "effect"): _chi2_effect,
    ("wasserstein", "statistic×sd"): lambda r, c: float(stats.wasserstein_distance(r, c)),
    ("jensen_shannon", "statistic"): lambda r, c: float(jensenshannon(*_props(r, c), base=2)),
    ("psi", "statistic"): _psi,
    ("hellinger", "statistic"): _hellinger,
    ("l1", "statistic"): lambda r, c: float(np.sum(np.abs(np.subtract(*_props(r, c))))),
    ("linf", "statistic"): lambda r, c: float(np.max(np.abs(np.subtract(*_props(r, c))))),
}


def _ours(method: str, quantity: str, ref: np.ndarray, cur: np.ndarray) -> float:
    result = get_method(method).exact(ref, cur)
    if quantity == "statistic×sd":
        return result.statistic * float(ref.std())
    value = getattr(result, quantity)
    assert value is not None
    return float(value)


ORACLE_CASES = [
    pytest.param(method, quantity, data, id=f"{method}-{quantity}-{data}")
    for (method, quantity) in ORACLES
    for data in [*NUMERIC, *(CATEGORICAL if method in CATEGORY_METHODS else ())]
]


def _dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    return NUMERIC[name] if name in NUMERIC else CATEGORICAL[name]


@pytest.mark.parametrize(("method", "quantity", "data"), ORACLE_CASES)
def test_exact_path_equals_the_scipy_or_numpy_oracle(method: str, quantity: str, data: str) -> None:
    ref, cur = _dataset(data)
    expected = ORACLES[method, quantity](ref, cur)
    assert _ours(method, quantity, ref, cur) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_every_method_has_an_oracle() -> None:
    assert {method for method, _ in ORACLES} == set(METHODS)


# --- agreement between the paths ---------------------------------------------------------


def _random_counts(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    counts = rng.integers(0, 60, shape).astype(np.float64)
    counts[..., 0] += 1.0  # no empty side; empty bins elsewhere are kept on purpose
    counts[..., 3] = 0.0
    return counts


@pytest.mark.parametrize("method", COUNTS_METHODS)
def test_counts_kernel_on_a_batch_equals_from_counts_row_by_row(method: str) -> None:
    m = get_method(method)
    assert m.counts_statistic is not None and m.from_counts is not None
    rng = np.random.default_rng(1)
    ref, cur = _random_counts(rng, (50, 12)), _random_counts(rng, (50, 12))
    cur[:5, 7:] = 0.0  # categories present on one side only
    batch = m.counts_statistic(ref, cur)
    single = np.array([m.from_counts(ref[i], cur[i]).statistic for i in range(50)])
    assert batch.shape == (50,)
    np.testing.assert_array_equal(batch, single)


@pytest.mark.parametrize("method", COUNTS_METHODS)
def test_counts_kernel_accepts_non_integer_counts_and_any_leading_shape(method: str) -> None:
    m = get_method(method)
    assert m.counts_statistic is not None and m.from_counts is not None
    rng = np.random.default_rng(2)
    ref, cur = rng.gamma(2.0, 10.0, (4, 5, 9)), rng.gamma(2.0, 10.0, (4, 5, 9))
    batch = m.counts_statistic(ref, cur)
    assert batch.shape == (4, 5)
    flat = m.counts_statistic(ref.reshape(20, 9), cur.reshape(20, 9))
    np.testing.assert_array_equal(batch.ravel(), flat)
    assert batch[1, 2] == m.from_counts(ref[1, 2], cur[1, 2]).statistic


@pytest.mark.parametrize("method", COUNTS_METHODS)
def test_counts_kernel_runs_on_a_resampler_sized_batch(method: str) -> None:
    kernel = get_method(method).counts_statistic
    assert kernel is not None
    rng = np.random.default_rng(3)
    p = np.full(21, 1 / 21)
    out = kernel(rng.multinomial(1_000, p, 50_000), rng.multinomial(500, p, 50_000))
    assert out.shape == (50_000,) and np.isfinite(out).all()


@pytest.mark.parametrize("method", CDF_METHODS)
def test_cdf_kernel_on_a_batch_equals_from_cdfs_row_by_row(method: str) -> None:
    m = get_method(method)
    assert m.cdfs_statistic is not None and m.from_cdfs is not None
    rng = np.random.default_rng(4)
    grid = np.sort(rng.normal(size=30))
    ref = np.sort(rng.uniform(size=(50, 30)), axis=1)
    cur = np.sort(rng.uniform(size=(50, 30)), axis=1)
    ref[:, -1] = cur[:, -1] = 1.0
    batch = m.cdfs_statistic(grid, ref, cur, 1.5)
    single = [m.from_cdfs(CdfPair(grid, ref[i], cur[i], 100, 80, 1.5)).statistic for i in range(50)]
    assert batch.shape == (50,)
    np.testing.assert_array_equal(batch, single)


@pytest.mark.parametrize(
    ("method", "data"),
    [
        *((method, data) for method in COUNTS_METHODS for data in NUMERIC),
        *((method, data) for method in CATEGORY_METHODS for data in CATEGORICAL),
    ],
)
def test_exact_path_equals_from_counts_on_the_same_bins(method: str, data: str) -> None:
    m = get_method(method)
    assert m.from_counts is not None
    ref, cur = _dataset(data)
    r, c = _counts(ref, cur)
    assert m.exact(ref, cur) == m.from_counts(r.astype(np.int64), c.astype(np.int64))


def _empirical_pair(ref: np.ndarray, cur: np.ndarray) -> CdfPair:
    grid = np.unique(np.concatenate([ref, cur]))
    return CdfPair(
        grid=grid,
        cdf_ref=np.searchsorted(np.sort(ref), grid, side="right") / ref.size,
        cdf_cur=np.searchsorted(np.sort(cur), grid, side="right") / cur.size,
        n_ref=ref.size,
        n_cur=cur.size,
        ref_scale=float(ref.std()),
    )


@pytest.mark.parametrize("data", NUMERIC)
@pytest.mark.parametrize("method", CDF_METHODS)
def test_from_cdfs_on_the_union_grid_equals_the_exact_path(method: str, data: str) -> None:
    m = get_method(method)
    assert m.from_cdfs is not None
    ref, cur = NUMERIC[data]
    got = m.from_cdfs(_empirical_pair(ref, cur)).statistic
    assert got == pytest.approx(m.exact(ref, cur).statistic, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("data", NUMERIC)
def test_wasserstein_step_integral_on_the_union_grid_equals_scipy(data: str) -> None:
    ref, cur = NUMERIC[data]
    pair = _empirical_pair(ref, cur)
    kernel = get_method("wasserstein").cdfs_statistic
    assert kernel is not None
    got = float(kernel(pair.grid, pair.cdf_ref, pair.cdf_cur, 0.0))  # scale 0 -> raw
    assert got == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-12)


@pytest.mark.parametrize("data", NUMERIC)
def test_ks_from_cdfs_p_value_is_the_asymptotic_kolmogorov_one(data: str) -> None:
    ref, cur = NUMERIC[data]
    ks = get_method("ks")
    assert ks.from_cdfs is not None
    result = ks.from_cdfs(_empirical_pair(ref, cur))
    en = np.sqrt(ref.size * cur.size / (ref.size + cur.size))
    assert result.p_value == pytest.approx(stats.kstwobign.sf(result.statistic * en), rel=1e-12)


# --- effect floors ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shifted_normals() -> dict[float, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(5)
    ref = rng.normal(size=200_000)
    return {shift: (ref, rng.normal(shift, 1.0, 200_000)) for shift in (0.1, 0.01)}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_01_sd_shift_is_above_the_floor_and_a_001_sd_shift_below(
    method: str, shifted_normals: dict[float, tuple[np.ndarray, np.ndarray]]
) -> None:
    assert DEFAULT_BINS == 20  # binned methods' exact path uses 20 quantile bins
    m = get_method(method)
    big = m.exact(*shifted_normals[0.1]).effect
    small = m.exact(*shifted_normals[0.01]).effect
    assert big > m.effect_floor > small


# --- contract suite over every registered method ---------------------------------------


def _same_data(method: DriftMethod) -> list[np.ndarray]:
    rng = np.random.default_rng(6)
    data = [rng.normal(size=500), rng.integers(0, 4, 300).astype(np.float64)]
    if "categorical" in method.kinds:
        data.append(rng.choice(["x", "y", "z"], 300).astype(object))
    return data


@pytest.mark.parametrize("method", sorted(METHODS))
def test_registered_method_is_consistent(method: str) -> None:
    m = METHODS[method]
    assert m.name == method and m.display_name and m.kinds
    assert set(m.kinds) <= set(get_args(ColumnKind))
    assert m.effect_floor > 0
    if m.representation == "counts":
        assert m.from_counts is not None and m.counts_statistic is not None
        assert m.from_cdfs is None and m.cdfs_statistic is None
    else:
        assert m.from_cdfs is not None and m.cdfs_statistic is not None
        assert m.from_counts is None and m.counts_statistic is None


@pytest.mark.parametrize("method", sorted(METHODS))
def test_identical_inputs_give_statistic_zero_and_p_value_one(method: str) -> None:
    m = get_method(method)
    for x in _same_data(m):
        same = m.exact(x, x.copy())
        assert same.statistic == pytest.approx(0.0, abs=1e-12)
        assert same.effect == pytest.approx(0.0, abs=1e-6)
        assert (same.p_value is not None) is m.has_p_value
        if same.p_value is not None:
            assert same.p_value == pytest.approx(1.0)


@pytest.mark.parametrize("side", ["reference", "current"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_an_empty_side_raises_invalid_batch_naming_it(method: str, side: str) -> None:
    m = get_method(method)
    x = np.random.default_rng(7).normal(size=100)
    empty = np.array([], dtype=np.float64)
    args = (empty, x) if side == "reference" else (x, empty)
    with pytest.raises(InvalidBatchError, match=side) as info:
        m.exact(*args)
    assert info.value.field == side
    if m.from_counts is not None:
        zero, ones = np.zeros(3, np.int64), np.ones(3, np.int64)
        r, c = (zero, ones) if side == "reference" else (ones, zero)
        with pytest.raises(InvalidBatchError, match=side):
            m.from_counts(r, c)
    if m.from_cdfs is not None:
        n_ref, n_cur = (0, 10) if side == "reference" else (10, 0)
        grid = np.array([0.0, 1.0])
        with pytest.raises(InvalidBatchError, match=side):
            m.from_cdfs(CdfPair(grid, np.ones(2), np.ones(2), n_ref, n_cur, 1.0))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_nan_and_inf_are_ignored_on_numeric_input(method: str) -> None:
    m = get_method(method)
    rng = np.random.default_rng(8)
    ref, cur = rng.normal(size=300), rng.normal(0.2, 1, 200)
    dirty_ref = np.concatenate([ref[:100], [np.nan, np.inf], ref[100:], [-np.inf]])
    dirty_cur = np.concatenate([[np.nan], cur, [np.nan, np.inf]])
    assert m.exact(dirty_ref, dirty_cur) == m.exact(ref, cur)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_side_with_only_nan_and_inf_raises_invalid_batch(method: str) -> None:
    m = get_method(method)
    x = np.random.default_rng(9).normal(size=50)
    with pytest.raises(InvalidBatchError, match="current: no finite values"):
        m.exact(x, np.array([np.nan, np.inf, -np.inf]))


@pytest.mark.parametrize("method", CATEGORY_METHODS)
def test_unseen_categories_in_current_give_finite_statistics(method: str) -> None:
    m = get_method(method)
    ref = np.array(["a", "b"] * 50, dtype=object)
    cur = np.array(["a", "b", "new"] * 30, dtype=object)
    result = m.exact(ref, cur)
    assert np.isfinite(result.statistic) and result.statistic > 0
    assert np.isfinite(result.effect)
    if result.p_value is not None:
        assert 0.0 <= result.p_value < 1e-6


@pytest.mark.parametrize("method", COUNTS_METHODS)
def test_kernel_returns_zero_for_rows_with_an_empty_side(method: str) -> None:
    kernel = get_method(method).counts_statistic
    assert kernel is not None
    ref = np.array([[0, 0, 0], [5, 3, 0], [0, 0, 0], [4, 4, 2]], dtype=np.float64)
    cur = np.array([[2, 1, 1], [0, 0, 0], [0, 0, 0], [1, 4, 5]], dtype=np.float64)
    out = kernel(ref, cur)  # warnings are errors in this run: none may be emitted
    assert out[:3].tolist() == [0.0, 0.0, 0.0] and out[3] > 0


@pytest.mark.parametrize("method", sorted(METHODS))
def test_statistics_stay_in_the_stated_range(method: str) -> None:
    m = get_method(method)
    low, high = RANGES[method]
    rng = np.random.default_rng(10)
    for ref, cur in [
        (rng.normal(size=200), rng.normal(3, 0.5, 100)),
        (rng.normal(size=100), rng.normal(50, 1, 100)),  # disjoint supports
        (rng.exponential(size=300), rng.exponential(2, 300)),
    ]:
        assert low <= m.exact(ref, cur).statistic <= high
    if m.counts_statistic is not None:
        out = m.counts_statistic(_random_counts(rng, (200, 6)), _random_counts(rng, (200, 6)))
        assert ((low <= out) & (out <= high)).all()
        disjoint = m.counts_statistic(np.array([10.0, 0.0]), np.array([0.0, 10.0]))
        assert np.isfinite(disjoint) and disjoint <= high


@pytest.mark.parametrize("method", COUNTS_METHODS)
def test_mismatched_count_vectors_raise_naming_both_lengths(method: str) -> None:
    m = get_method(method)
    assert m.from_counts is not None
    with pytest.raises(IncompatibleProfilesError, match="3 slots and current 4"):
        m.from_counts(np.ones(3, np.int64), np.ones(4, np.int64))


@pytest.mark.parametrize("method", CDF_METHODS)
def test_mismatched_grid_and_cdfs_raise_naming_the_shapes(method: str) -> None:
    m = get_method(method)
    assert m.from_cdfs is not None
    pair = CdfPair(np.arange(3.0), np.ones(3), np.ones(4), 10, 10, 1.0)
    with pytest.raises(IncompatibleProfilesError, match=r"grid has shape \(3,\).*\(4,\)"):
        m.from_cdfs(pair)


@pytest.mark.parametrize("method", [*CDF_METHODS, "ks_binned"])
def test_non_numeric_input_to_a_cdf_method_raises_invalid_batch(method: str) -> None:
    with pytest.raises(InvalidBatchError, match="reference: expected numeric values"):
        get_method(method).exact(np.array(["a", "b"]), np.array([1.0, 2.0]))


# --- method-specific behaviour ----------------------------------------------------------


def test_chi2_drops_categories_empty_on_both_sides() -> None:
    chi2 = get_method("chi2")
    assert chi2.from_counts is not None
    padded = chi2.from_counts(np.array([5, 0, 7, 0]), np.array([3, 0, 9, 0]))
    assert padded == chi2.from_counts(np.array([5, 7]), np.array([3, 9]))


def test_chi2_with_one_category_gives_zero_statistic_p_one_and_zero_effect() -> None:
    chi2 = get_method("chi2")
    assert chi2.from_counts is not None
    result = chi2.from_counts(np.array([30, 0]), np.array([20, 0]))
    assert (result.statistic, result.p_value, result.effect) == (0.0, 1.0, 0.0)


def test_chi2_effect_does_not_depend_on_sample_size() -> None:
    chi2 = get_method("chi2")
    assert chi2.from_counts is not None
    ref, cur = np.array([50, 30, 20]), np.array([40, 35, 25])
    small = chi2.from_counts(ref, cur)
    large = chi2.from_counts(ref * 100, cur * 30)
    assert large.statistic > 20 * small.statistic
    assert large.effect == pytest.approx(small.effect, rel=0.02)


def test_psi_raises_empty_proportions_to_epsilon() -> None:
    psi = get_method("psi")
    assert psi.from_counts is not None
    p, q = np.array([0.5, 0.5, 1e-4]), np.array([0.5, 0.4, 0.1])
    expected = float(np.sum((q - p) * np.log(q / p)))
    got = psi.from_counts(np.array([50, 50, 0]), np.array([50, 40, 10])).statistic
    assert got == pytest.approx(expected, rel=1e-12)


def test_wasserstein_of_a_constant_reference_is_the_raw_distance() -> None:
    ref, cur = np.full(100, 3.0), np.array([3.0, 4.0, 5.0, 7.0])
    got = get_method("wasserstein").exact(ref, cur).statistic
    assert got == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-12)


def test_wasserstein_reads_as_a_shift_in_reference_sd() -> None:
    rng = np.random.default_rng(11)
    ref = rng.normal(10.0, 4.0, 50_000)
    got = get_method("wasserstein").exact(ref, ref + 2.0).statistic
    assert got == pytest.approx(2.0 / ref.std(), rel=1e-9)


# --- registry ---------------------------------------------------------------------------


def test_unknown_method_name_lists_the_registered_names_sorted() -> None:
    with pytest.raises(ConfigError) as info:
        get_method("kl")
    names = ", ".join(sorted(METHODS))
    assert str(info.value) == f"unknown drift method 'kl'; expected one of: {names}"
    assert (info.value.field, info.value.value, info.value.expected) == ("method", "kl", names)


@pytest.mark.parametrize(
    ("kind", "n_current", "expected"),
    [
        ("numeric", 10, "ks_binned"),
        ("numeric", 999, "ks_binned"),
        ("numeric", 1_000, "ks_binned"),
        ("datetime", 500, "ks_binned"),
        ("datetime", 5_000, "ks_binned"),
        ("text", 0, "ks_binned"),
        ("text", 1_000_000, "ks_binned"),
        ("categorical", 999, "chi2"),
        ("categorical", 1_000, "chi2"),
        ("boolean", 10, "chi2"),
        ("boolean", 20_000, "chi2"),
    ],
)
def test_default_method_by_kind_and_sample_size(
    kind: ColumnKind, n_current: int, expected: str
) -> None:
    name = default_method(kind, n_current)
    assert name == expected
    assert kind in get_method(name).kinds


def test_default_method_for_an_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(ConfigError, match="unknown column kind 'image'; expected one of: numeric"):
        default_method("image", 10)  # type: ignore[arg-type]


def test_package_exports_exactly_the_documented_names() -> None:
    assert sorted(drift.__all__) == sorted(
        ["METHODS", "CdfPair", "DriftMethod", "MethodResult", "default_method", "get_method"]
    )
    assert all(hasattr(drift, name) for name in drift.__all__)
