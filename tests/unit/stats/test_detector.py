"""Drift of a dataset from two profiles: agreement with the exact path, and verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from watchkeeper.binning import bin_counts, quantile_edges
from watchkeeper.errors import ColumnNotFoundError, ConfigError
from watchkeeper.profile import DatasetProfile, profile_table
from watchkeeper.schema import Schema
from watchkeeper.stats import DriftConfig, DriftDetector, get_method


def _normal_frames(n_ref: int, n_cur: int, shift: float, seed: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(0, 1, n_ref)}, {"x": rng.normal(shift, 1, n_cur)}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [10_000, 100_000])
def test_profile_ks_is_within_001_of_scipy_for_10k_rows_and_more(n: int, seed: int) -> None:
    ref_data, cur_data = _normal_frames(n, n, 0.05, seed)
    ref = profile_table(ref_data)
    cur = profile_table(cur_data, reference=ref)
    result = DriftDetector(column_methods={"x": "ks"}).fit(ref).compare(cur)
    exact = stats.ks_2samp(ref_data["x"], cur_data["x"]).statistic
    assert abs(result.columns[0].statistic - exact) <= 0.01


@pytest.mark.parametrize("method", ["chi2", "psi", "jensen_shannon", "hellinger", "l1", "linf"])
def test_binned_statistics_from_profiles_equal_the_exact_path(method: str) -> None:
    ref_data, cur_data = _normal_frames(30_000, 7_000, 0.1, seed=3)
    ref = profile_table(ref_data)
    cur = profile_table(cur_data, reference=ref)
    got = DriftDetector(column_methods={"x": method}).fit(ref).compare(cur).columns[0]
    exact = get_method(method).exact(ref_data["x"], cur_data["x"])
    assert got.statistic == pytest.approx(exact.statistic, rel=1e-12, abs=1e-15)


def test_binned_counts_in_the_profile_are_the_exact_counts() -> None:
    ref_data, cur_data = _normal_frames(20_000, 5_000, 0.3, seed=4)
    ref = profile_table(ref_data)
    cur = profile_table(cur_data, reference=ref)
    edges = quantile_edges(ref_data["x"])
    assert np.array_equal(cur.columns["x"].bin_counts, bin_counts(cur_data["x"], edges))


def test_categorical_statistic_from_profiles_equals_the_exact_path() -> None:
    rng = np.random.default_rng(5)
    ref_values = rng.choice(["a", "b", "c", "d"], 20_000, p=[0.4, 0.3, 0.2, 0.1])
    cur_values = rng.choice(["a", "b", "c", "e"], 3_000, p=[0.3, 0.3, 0.3, 0.1])
    ref = profile_table({"c": ref_values.astype(object)})
    cur = profile_table({"c": cur_values.astype(object)}, reference=ref)
    for method in ("chi2", "jensen_shannon", "psi"):
        got = DriftDetector(column_methods={"c": method}).fit(ref).compare(cur).columns[0]
        # the profile folds unseen categories into one "other" slot; so does this oracle
        cur_folded = np.where(np.isin(cur_values, ref_values), cur_values, "~other")
        exact = get_method(method).exact(ref_values.astype(object), cur_folded.astype(object))
        assert got.statistic == pytest.approx(exact.statistic, rel=1e-9), method
        assert got.drifted


def test_a_shift_of_01_sd_on_100k_rows_is_flagged_and_none_is_not() -> None:
    ref_data, cur_data = _normal_frames(100_000, 100_000, 0.1, seed=6)
    ref = profile_table(ref_data)
    detector = DriftDetector().fit(ref)
    assert detector.compare(profile_table(cur_data, reference=ref)).columns[0].drifted
    _, same = _normal_frames(100_000, 100_000, 0.0, seed=7)
    assert not detector.compare(profile_table(same, reference=ref)).columns[0].drifted


def test_a_shift_of_001_sd_on_1m_rows_needs_the_effect_floor_off() -> None:
    ref_data, cur_data = _normal_frames(1_000_000, 1_000_000, 0.01, seed=8)
    ref = profile_table(ref_data)
    cur = profile_table(cur_data, reference=ref)
    default = DriftDetector().fit(ref).compare(cur).columns[0]
    assert not default.drifted
    assert "minimum effect" in default.explanation
    assert DriftDetector(DriftConfig(effect_floor=0.0)).fit(ref).compare(cur).columns[0].drifted


def test_small_windows_use_binned_ks_and_do_not_cry_wolf() -> None:
    rng = np.random.default_rng(9)
    ref = profile_table({"x": rng.normal(size=50_000)})
    detector = DriftDetector(DriftConfig(false_alarm_rate=0.05)).fit(ref)
    alarms = 0
    for _ in range(100):
        cur = profile_table({"x": rng.normal(size=200)}, reference=ref)
        col = detector.compare(cur).columns[0]
        assert col.method == "ks_binned"
        alarms += col.drifted
    assert alarms <= 15  # 5% configured; 15 of 100 is far beyond chance (p < 0.001)
    shifted = profile_table({"x": rng.normal(1.0, 1, 200)}, reference=ref)
    assert detector.compare(shifted).columns[0].drifted


def test_text_columns_are_compared_on_lengths_and_datetime_skipped_by_default() -> None:
    rng = np.random.default_rng(10)
    words = np.array(["a", "bb", "ccc dd", "eeee ffff gg"], dtype=object)
    schema = Schema.from_dict({"t": "text", "d": "datetime"})
    ref = profile_table({"t": words[rng.integers(0, 4, 5_000)], "d": np.arange(5_000.0)}, schema)
    cur = profile_table(
        {"t": np.array([""] * 3_000, dtype=object), "d": np.arange(3_000.0)}, reference=ref
    )
    result = DriftDetector().fit(ref).compare(cur)
    assert [c.column for c in result.columns] == ["t"]
    assert result.columns[0].drifted


def test_unknown_method_and_wrong_kind_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown drift method 'kl'"):
        DriftDetector(column_methods={"x": "kl"})
    ref = profile_table({"c": np.array(["a", "b"] * 100, dtype=object)})
    with pytest.raises(ConfigError, match="does not apply to categorical"):
        DriftDetector(column_methods={"c": "ks"}).fit(ref).compare(ref)


def test_compare_before_fit_and_missing_columns_are_clear_errors() -> None:
    ref = profile_table({"x": np.arange(100.0), "y": np.arange(100.0)})
    with pytest.raises(ConfigError, match="before fit"):
        DriftDetector().compare(ref)
    other = DatasetProfile(Schema.from_dict({"x": "numeric"}))
    other.update({"x": np.arange(10.0)})
    with pytest.raises(ColumnNotFoundError, match="'y'"):
        DriftDetector().fit(ref).compare(other)


def test_all_missing_current_column_is_left_out_not_crashed() -> None:
    ref = profile_table({"x": np.arange(1_000.0), "y": np.arange(1_000.0)})
    cur = profile_table({"x": np.full(50, np.nan), "y": np.arange(50.0)}, reference=ref)
    result = DriftDetector().fit(ref).compare(cur)
    assert [c.column for c in result.columns] == ["y"]
