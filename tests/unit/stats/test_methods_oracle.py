"""Exact-path statistics against SciPy/NumPy on the same data (one oracle table)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from watchkeeper.binning import bin_counts, quantile_edges
from watchkeeper.errors import ConfigError, IncompatibleProfilesError, InvalidBatchError
from watchkeeper.stats.drift import METHODS, CdfPair, default_method, get_method

_rng = np.random.default_rng(21)
DATASETS = {
    "normal": (_rng.normal(size=3_000), _rng.normal(size=2_000)),
    "shifted": (_rng.normal(size=3_000), _rng.normal(0.3, 1.2, 1_500)),
    "heavy_tailed": (_rng.standard_t(2, 4_000), _rng.standard_t(2, 4_000) + 0.1),
    "integer_ties": (_rng.integers(0, 6, 2_000).astype(float), _rng.integers(0, 7, 900) * 1.0),
    "tiny": (_rng.normal(size=5), _rng.normal(size=7)),
}


def _props(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = quantile_edges(ref)
    r, c = bin_counts(ref, edges).astype(float), bin_counts(cur, edges).astype(float)
    return r, c


def _scipy_chi2(ref: np.ndarray, cur: np.ndarray) -> float:
    r, c = _props(ref, cur)
    keep = (r + c) > 0
    return float(stats.chi2_contingency(np.vstack([r[keep], c[keep]]), correction=False)[0])


def _np_psi(ref: np.ndarray, cur: np.ndarray) -> float:
    r, c = _props(ref, cur)
    p, q = np.maximum(r / r.sum(), 1e-4), np.maximum(c / c.sum(), 1e-4)
    return float(np.sum((q - p) * np.log(q / p)))


def _np_hellinger(ref: np.ndarray, cur: np.ndarray) -> float:
    r, c = _props(ref, cur)
    return float(np.linalg.norm(np.sqrt(r / r.sum()) - np.sqrt(c / c.sum())) / np.sqrt(2))


ORACLES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "ks": lambda r, c: float(stats.ks_2samp(r, c).statistic),
    "wasserstein": lambda r, c: float(stats.wasserstein_distance(r, c) / r.std()),
    "jensen_shannon": lambda r, c: float(
        jensenshannon(*(x / x.sum() for x in _props(r, c)), base=2)
    ),
    "chi2": _scipy_chi2,
    "psi": _np_psi,
    "hellinger": _np_hellinger,
    "l1": lambda r, c: float(np.abs(np.subtract(*(x / x.sum() for x in _props(r, c)))).sum()),
    "linf": lambda r, c: float(np.abs(np.subtract(*(x / x.sum() for x in _props(r, c)))).max()),
}


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("method", sorted(ORACLES))
def test_exact_path_equals_the_oracle(method: str, data: str) -> None:
    ref, cur = DATASETS[data]
    got = get_method(method).exact(ref, cur).statistic
    assert got == pytest.approx(ORACLES[method](ref, cur), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("data", DATASETS)
def test_ks_p_value_and_chi2_p_value_equal_scipy(data: str) -> None:
    ref, cur = DATASETS[data]
    assert get_method("ks").exact(ref, cur).p_value == pytest.approx(
        stats.ks_2samp(ref, cur).pvalue, rel=1e-9, abs=1e-300
    )
    r, c = _props(ref, cur)
    keep = (r + c) > 0
    expected = stats.chi2_contingency(np.vstack([r[keep], c[keep]]), correction=False)[1]
    assert get_method("chi2").exact(ref, cur).p_value == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("method", ["ks", "wasserstein"])
def test_cdf_path_on_the_union_grid_equals_the_exact_path(method: str, data: str) -> None:
    ref, cur = DATASETS[data]
    grid = np.unique(np.concatenate([ref, cur]))
    pair = CdfPair(
        grid=grid,
        cdf_ref=np.searchsorted(np.sort(ref), grid, side="right") / ref.size,
        cdf_cur=np.searchsorted(np.sort(cur), grid, side="right") / cur.size,
        n_ref=ref.size,
        n_cur=cur.size,
        ref_scale=float(ref.std()),
    )
    m = get_method(method)
    assert m.from_cdfs is not None
    assert m.from_cdfs(pair).statistic == pytest.approx(m.exact(ref, cur).statistic, rel=1e-9)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_kernel_on_a_batch_equals_the_single_pair_path(method: str) -> None:
    m = get_method(method)
    rng = np.random.default_rng(22)
    if m.representation == "counts":
        assert m.counts_statistic is not None and m.from_counts is not None
        ref = rng.integers(1, 100, (50, 12))
        cur = rng.integers(0, 100, (50, 12))
        batch = m.counts_statistic(ref, cur)
        single = [m.from_counts(ref[i], cur[i]).statistic for i in range(50)]
    else:
        assert m.cdfs_statistic is not None and m.from_cdfs is not None
        grid = np.sort(rng.normal(size=30))
        ref = np.sort(rng.uniform(size=(50, 30)), axis=1)
        cur = np.sort(rng.uniform(size=(50, 30)), axis=1)
        ref[:, -1] = cur[:, -1] = 1.0
        batch = m.cdfs_statistic(grid, ref, cur, 1.5)
        single = [
            m.from_cdfs(CdfPair(grid, ref[i], cur[i], 100, 100, 1.5)).statistic for i in range(50)
        ]
    assert np.allclose(batch, single, rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_01_sd_shift_is_above_every_floor_and_a_001_sd_shift_below(method: str) -> None:
    rng = np.random.default_rng(23)
    ref = rng.normal(size=200_000)
    m = get_method(method)
    big = m.exact(ref, rng.normal(0.1, 1, 200_000))
    small = m.exact(ref, rng.normal(0.01, 1, 200_000))
    assert big.effect > m.effect_floor > small.effect


@pytest.mark.parametrize("method", sorted(METHODS))
def test_identical_inputs_give_zero_and_empty_sides_are_named(method: str) -> None:
    m = get_method(method)
    x = np.random.default_rng(24).normal(size=500)
    same = m.exact(x, x)
    assert same.statistic == pytest.approx(0.0, abs=1e-12)
    if same.p_value is not None:
        assert same.p_value == pytest.approx(1.0)
    with pytest.raises(InvalidBatchError, match="current"):
        m.exact(x, np.array([np.nan, np.inf]))
    with pytest.raises(InvalidBatchError, match="reference"):
        m.exact(np.array([], dtype=float), x)


@pytest.mark.parametrize("method", ["chi2", "psi", "jensen_shannon", "hellinger", "l1", "linf"])
def test_unseen_categories_give_finite_statistics(method: str) -> None:
    ref = np.array(["a", "b"] * 50, dtype=object)
    cur = np.array(["a", "b", "new"] * 30, dtype=object)
    result = get_method(method).exact(ref, cur)
    assert np.isfinite(result.statistic) and result.statistic > 0


def test_mismatched_count_vectors_are_incompatible() -> None:
    with pytest.raises(IncompatibleProfilesError, match="3 slots and current 4"):
        get_method("psi").from_counts(np.ones(3), np.ones(4))


def test_unknown_method_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="expected one of: chi2, hellinger, jensen_shannon"):
        get_method("kl")


def test_default_method_table() -> None:
    assert [default_method("numeric", n) for n in (10, 999, 1000)] == ["ks_binned"] * 3
    assert default_method("boolean", 10) == "chi2"
    assert default_method("text", 5_000) == "ks_binned"
    with pytest.raises(ConfigError, match="unknown column kind"):
        default_method("image", 10)  # type: ignore[arg-type]
