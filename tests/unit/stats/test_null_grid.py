"""The resampled null on a grid of sizes: interpolated, conservative, shared, at fit."""

from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.profile import profile_table
from watchkeeper.stats import DriftConfig, DriftDetector, NullModel, get_method, null_grid
from watchkeeper.stats.null_grid import GridNull, grid_sizes
from watchkeeper.stats.null_model import critical_value


def _model(method: str, seed: int = 0) -> NullModel:
    counts = np.random.default_rng(seed).multinomial(20_000, np.full(20, 0.05))
    return NullModel(get_method(method), seed=seed).fit_counts(counts)


@pytest.mark.parametrize("method", ["jensen_shannon", "psi", "hellinger", "l1"])
def test_the_interpolated_spread_is_at_or_just_above_the_simulated_one(method: str) -> None:
    model = _model(method)
    grid = GridNull(model)
    sizes = grid.sizes
    n = int(np.sqrt(sizes[20] * sizes[21]))  # midway between two grid points
    b = 20_000
    ours = critical_value(grid.null_statistics(n, b), 0.01)
    direct = critical_value(model.simulate(n, b), 0.01)
    lower = critical_value(model.simulate(sizes[21], b), 0.01)
    upper = critical_value(model.simulate(sizes[20], b), 0.01)
    assert lower < ours < upper
    assert 0.98 * direct <= ours <= 1.04 * direct


def test_p_value_and_threshold_read_the_same_interpolated_null() -> None:
    grid = GridNull(_model("jensen_shannon"))
    for n in (5, 100, 1_013, 77_777, 10**8):
        t = grid.threshold(n, 0.01, 2_000)
        assert grid.p_value(n, t, 2_000) >= 0.01
        assert grid.p_value(n, t * (1 + 1e-6), 2_000) < 0.01


def test_below_the_grid_the_size_is_simulated_exactly_and_above_it_the_top() -> None:
    model = _model("psi")
    grid = GridNull(model)
    assert np.array_equal(grid.null_statistics(5, 500), model.simulate(5, 500))
    top = grid.sizes[-1]
    assert top == 64 * model.n_ref_
    assert np.array_equal(grid.null_statistics(10 * top, 500), model.simulate(top, 500))
    assert grid_sizes(1) == (8, 11, 16, 23, 32, 45, 64)


def test_a_fitted_detector_compares_at_new_sizes_without_simulating() -> None:
    rng = np.random.default_rng(5)
    ref = profile_table({f"x{i}": rng.normal(size=20_000) for i in range(3)})
    # as many draws in the screen as in full: no column is refined at a new size
    config = DriftConfig(method="jensen_shannon", effect_floor=0, n_resamples=2_000)
    detector = DriftDetector(config).fit(ref)
    before = set(null_grid._shared)
    for n in (301, 1_013, 4_999, 70_001):
        cur = profile_table({f"x{i}": rng.normal(size=n) for i in range(3)}, reference=ref)
        assert not detector.compare(cur).drifted
    assert set(null_grid._shared) == before  # every size read off the grid made at fit


def test_columns_with_the_same_bin_shares_share_one_grid() -> None:
    rng = np.random.default_rng(6)
    ref = profile_table({"a": rng.normal(size=10_000), "b": rng.lognormal(size=10_000)})
    detector = DriftDetector(DriftConfig(method="psi")).fit(ref)
    a, b = detector.null_models_[("a", "psi")], detector.null_models_[("b", "psi")]
    assert isinstance(a, GridNull) and isinstance(b, GridNull)
    n = a.sizes[10]
    assert a.null_statistics(n, 2_000) is b.null_statistics(n, 2_000)


@pytest.mark.statistical
@pytest.mark.parametrize("method", ["jensen_shannon", "psi"])
def test_false_alarms_at_sizes_between_grid_points_stay_at_or_below_alpha(method: str) -> None:
    rng = np.random.default_rng(12)
    p = np.full(20, 0.05)
    trials, alarms = 400, 0
    for trial in range(trials):
        ref = rng.multinomial(5_000, p)
        n = int(rng.integers(300, 3_000))
        cur = rng.multinomial(n, p)
        model = NullModel(get_method(method), seed=trial % 4).fit_counts(ref)
        stat = get_method(method).from_counts(ref, cur).statistic
        alarms += GridNull(model).p_value(n, stat, 2_000) < 0.05
    rate = alarms / trials
    assert 0.02 <= rate <= 0.065, rate
