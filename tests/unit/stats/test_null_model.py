"""The null model: thresholds agree with p-values, draws are reproducible, bad use is named.

The false-alarm calibration of the null model against real no-drift samples is in
``test_calibration.py`` (marked ``statistical``); these are the quick checks.
"""

from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.errors import ConfigError
from watchkeeper.stats import NullModel, get_method
from watchkeeper.stats.null_model import SIZE_STEP, critical_value, null_size


@pytest.mark.parametrize("method", ["jensen_shannon", "psi", "chi2", "hellinger"])
def test_a_statistic_is_above_the_threshold_exactly_when_its_p_value_is_below_the_level(
    method: str,
) -> None:
    null = NullModel(get_method(method), seed=3).fit_counts([400, 300, 200, 100])
    b, level = 2_000, 0.05
    stats = null.null_statistics(500, b)
    threshold = null.threshold(500, level, b)
    for t in np.unique(stats)[-150:]:
        assert (t > threshold) == (null.p_value(500, float(t), b) < level), t


def test_cdf_methods_fit_on_atoms_and_refuse_counts() -> None:
    ks = get_method("ks")
    atoms = np.quantile(np.random.default_rng(0).normal(size=5_000), np.linspace(0.01, 0.99, 50))
    null = NullModel(ks).fit_atoms(atoms, 5_000, 1.0)
    assert null.atoms_ is not None and null.atoms_.size == 50
    assert 0 < null.threshold(1_000, 0.01) < 1
    with pytest.raises(ConfigError, match="fit_atoms"):
        NullModel(ks).fit_counts([1, 2, 3])
    with pytest.raises(ConfigError, match="fit_counts"):
        NullModel(get_method("psi")).fit_atoms(atoms, 5_000, 1.0)


def test_draws_are_reproducible_by_seed_and_a_new_fit_forgets_them() -> None:
    js = get_method("jensen_shannon")
    a = NullModel(js, seed=1).fit_counts([50, 30, 20]).null_statistics(300, 500)
    b = NullModel(js, seed=1).fit_counts([50, 30, 20]).null_statistics(300, 500)
    c = NullModel(js, seed=2).fit_counts([50, 30, 20]).null_statistics(300, 500)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert not a.flags.writeable
    null = NullModel(js, seed=1).fit_counts([50, 30, 20])
    before = null.null_statistics(300, 500)
    null.fit_counts([10, 10, 80])
    assert not np.array_equal(before, null.null_statistics(300, 500))


def test_null_sizes_are_a_conservative_grid() -> None:
    for n in [*range(1, 300), 1_013, 50_000, 10**7]:
        size = null_size(n)
        assert size <= n and n < size * SIZE_STEP + 1, n
    assert null_size(1_000) == null_size(1_013)


def test_the_critical_value_is_inf_when_no_p_value_can_reach_the_level() -> None:
    null = np.arange(1.0, 100.0)  # p-values are multiples of 1/100
    assert critical_value(null, 0.01) == np.inf
    assert critical_value(null, 0.011) == 99.0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: NullModel("ks"), "method"),  # type: ignore[arg-type]
        (lambda: NullModel(get_method("psi"), seed=-1), "seed"),
        (lambda: NullModel(get_method("psi")).fit_counts([0, 0]), "ref_counts"),
        (lambda: NullModel(get_method("psi")).fit_counts([1, -1]), "ref_counts"),
        (lambda: NullModel(get_method("psi")).fit_counts([1, 1], unseen={5: 0.1}), "unseen"),
        (lambda: NullModel(get_method("psi")).null_statistics(10, 10), "null"),
        (lambda: NullModel(get_method("psi")).fit_counts([1, 1]).p_value(10, np.nan), "statistic"),
        (lambda: NullModel(get_method("psi")).fit_counts([1, 1]).threshold(10, 1.5), "level"),
    ],
)
def test_bad_use_is_a_config_error_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        call()  # type: ignore[operator]
    assert info.value.field == field
