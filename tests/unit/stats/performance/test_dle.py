"""DLE: its reference metrics against scikit-learn, its inputs checked, and (statistical)
its coverage of the realised MAE and RMSE on scripted covariate shift: x0 moved by
``shift`` standard deviations, noise growing with |x2|, a slightly wrong model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, root_mean_squared_error

from watchkeeper.errors import InvalidBatchError
from watchkeeper.stats.performance import DLE, REGRESSION_ESTIMATES


def regression(
    rng: np.random.Generator, n: int, shift: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.normal(0.0, 1.0, (n, 4))
    x[:, 0] += shift
    y = np.sin(x[:, 0]) + x[:, 1] + rng.normal(0.0, 0.3 + 0.5 * np.abs(x[:, 2]), n)
    prediction = np.sin(x[:, 0]) + 0.9 * x[:, 1]
    return x, prediction, y


def test_reference_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    x, pred, y = regression(rng, 3_000, 0.0)
    dle = DLE(max_iter=10).fit(x, pred, y)
    assert dle.reference_.mae == pytest.approx(mean_absolute_error(y, pred), rel=1e-12)
    assert dle.reference_.rmse == pytest.approx(root_mean_squared_error(y, pred), rel=1e-12)


def test_the_estimate_follows_the_error_where_the_rows_are() -> None:
    """The noise grows with |x2|: windows of rows with large |x2| get a larger estimate,
    close to the realised MAE (scikit-learn) of those rows."""
    rng = np.random.default_rng(2)
    x, pred, y = regression(rng, 8_000, 0.0)
    dle = DLE().fit(x, pred, y)
    x2, pred2, y2 = regression(rng, 20_000, 0.0)
    calm, noisy = np.abs(x2[:, 2]) < 0.5, np.abs(x2[:, 2]) > 1.0
    low = dle.estimate(x2[calm], pred2[calm])["mae"]
    high = dle.estimate(x2[noisy], pred2[noisy])["mae"]
    assert high.value > 1.5 * low.value
    for interval, rows in ((low, calm), (high, noisy)):
        realised = mean_absolute_error(y2[rows], pred2[rows])
        assert abs(interval.value - realised) < 0.05 * realised, (interval, realised)


def test_same_inputs_same_estimate() -> None:
    rng = np.random.default_rng(3)
    x, pred, y = regression(rng, 2_000, 0.0)
    a = DLE(max_iter=10).fit(x, pred, y).estimate(x[:500], pred[:500])
    b = DLE(max_iter=10).fit(x, pred, y).estimate(x[:500], pred[:500])
    assert a == b


def test_bad_input_names_the_field() -> None:
    rng = np.random.default_rng(4)
    x, pred, y = regression(rng, 200, 0.0)
    with pytest.raises(InvalidBatchError, match="predictions: 199 predictions"):
        DLE().fit(x, pred[:-1], y)
    with pytest.raises(InvalidBatchError, match="truth: 10 labelled rows"):
        DLE().fit(x[:10], pred[:10], y[:10])
    dle = DLE(max_iter=5).fit(x, pred, y)
    with pytest.raises(InvalidBatchError, match="features: 3 columns; expected 4"):
        dle.estimate(x[:, :3], pred)
    assert np.isnan(dle.estimate(x[:3], np.full(3, np.nan))["mae"].value)


@pytest.mark.statistical
def test_realised_mae_and_rmse_fall_in_the_interval_under_covariate_shift() -> None:
    rng = np.random.default_rng(200)
    x, pred, y = regression(rng, 20_000, 0.0)
    dle = DLE().fit(x, pred, y)
    inside = dict.fromkeys(REGRESSION_ESTIMATES, 0)
    error = dict.fromkeys(REGRESSION_ESTIMATES, 0.0)
    windows = 0
    for shift in (0.0, 0.5, 1.0):
        for _ in range(10):
            xw, pw, yw = regression(rng, 5_000, shift)
            est = dle.estimate(xw, pw)
            realised = {"mae": mean_absolute_error(yw, pw), "rmse": root_mean_squared_error(yw, pw)}
            windows += 1
            for name in REGRESSION_ESTIMATES:
                inside[name] += est[name].contains(realised[name])
                error[name] += abs(est[name].value - realised[name]) / realised[name]
    print(f"regression, {windows} windows of 5,000 rows, shifts 0-1 sd:")
    for name in REGRESSION_ESTIMATES:
        print(f"  {name}: inside {inside[name] / windows:.0%}, mean |relative error| "
              f"{error[name] / windows:.2%}")  # fmt: skip
        assert inside[name] / windows >= 0.9, (name, inside[name], windows)
