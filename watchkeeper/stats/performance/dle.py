"""Direct loss estimation (DLE): a regression model's MAE and RMSE without labels.

A second model learns, on labelled reference rows, the expected loss of each prediction
from what is known without the label: ``[features, prediction] -> |error|`` and
``-> error^2`` (two scikit-learn ``HistGradientBoostingRegressor``, which take missing
values as they are). On new rows, the estimated MAE is the mean predicted |error| and the
estimated RMSE the square root of the mean predicted error^2.

Intervals are prediction intervals for the realised value, the estimate +/- z x the
standard deviation of a mean of independent row losses: a row's |error| has variance
E[e^2 | x] - E[|e| | x]^2 (both predicted); its e^2 has a variance taken as
``kurtosis_ x E[e^2 | x]^2``, the factor measured on held-out reference rows (the loss
models are fitted on the other rows, so it is not measured in-sample). The loss models'
own error is added in quadrature: the held-out relative bias of each model's mean and
that bias's standard error, times the estimate. The RMSE interval is the square root of
the MSE interval's ends.

The estimate assumes that the error given the inputs, P(error | x, prediction), is the
reference's: it holds under covariate shift where the reference covered the new inputs,
and fails under concept drift (the target's relation to the inputs changed), which the
monitor's self-check reports once labels arrive.

References
----------
NannyML, "Direct loss estimation" (DLE). Ke et al. (2017), "LightGBM" (histogram
gradient boosting, as scikit-learn's ``HistGradientBoostingRegressor``).
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np
from scipy.stats import norm

from watchkeeper.errors import InvalidBatchError, MissingExtraError
from watchkeeper.stats.performance.interval import Interval, PerformanceEstimate
from watchkeeper.stats.performance.regression import RegressionMetrics, regression_metrics
from watchkeeper.types import FloatArray

__all__ = ["DLE", "REGRESSION_ESTIMATES"]

REGRESSION_ESTIMATES = ("mae", "rmse")
"""The metrics a :class:`DLE` estimates, in this order."""


def _design(features: Any, predictions: Any) -> FloatArray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    pred = np.asarray(predictions, dtype=np.float64)
    if x.ndim != 2 or pred.shape != (x.shape[0],):
        raise InvalidBatchError(
            f"predictions: {pred.size} predictions for features of shape {x.shape}; "
            "expected one per row of a 2-D feature array",
            field="predictions",
            value=pred.size,
            expected=str(x.shape[0]),
        )
    return np.column_stack([x, pred])


def _relative_error(loss: FloatArray, predicted: FloatArray) -> float:
    """The held-out relative error of a loss model's mean: its bias and the bias's
    standard error, in quadrature."""
    mean = float(predicted.mean())
    if loss.size < 2 or mean <= 0:
        return 0.0
    bias = float(loss.mean()) / mean - 1.0
    se = float(loss.std(ddof=1)) / math.sqrt(loss.size) / mean
    return math.hypot(bias, se)


class DLE:
    """Estimate a regression model's MAE and RMSE from its inputs and predictions.

    Parameters
    ----------
    confidence
        Nominal coverage of the intervals.
    holdout
        Share of the reference rows kept out of the loss models' fit to measure the
        spread of squared errors.
    max_iter
        Boosting iterations of each loss model.
    seed
        Seeds the holdout split and the loss models (same inputs -> same estimate).

    Attributes
    ----------
    reference_
        The realised metrics of the labelled reference rows.
    kurtosis_
        Held-out mean (e^2 - predicted e^2)^2 / mean predicted (e^2)^2.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(10_000, 2))
    >>> y = x[:, 0] + rng.normal(0, 0.2 + np.abs(x[:, 1]), 10_000)   # noise grows with |x1|
    >>> pred = x[:, 0]
    >>> dle = DLE().fit(x[:6_000], pred[:6_000], y[:6_000])
    >>> est = dle.estimate(x[6_000:], pred[6_000:])
    >>> mae = regression_metrics(y[6_000:], pred[6_000:]).mae
    >>> round(est["mae"].value, 2), round(mae, 2), est["mae"].contains(mae)
    (0.81, 0.81, True)
    """

    def __init__(
        self,
        *,
        confidence: float = 0.95,
        holdout: float = 0.25,
        max_iter: int = 50,
        seed: int = 0,
    ) -> None:
        if not 0.0 < confidence < 1.0 or not 0.0 < holdout < 1.0:
            raise InvalidBatchError(
                f"confidence, holdout: expected numbers in (0, 1), got {confidence!r}, {holdout!r}",
                field="confidence",
                value=(confidence, holdout),
                expected="in (0, 1)",
            )
        self.confidence = confidence
        self.holdout = holdout
        self.max_iter = max_iter
        self.seed = seed

    def fit(self, features: Any, predictions: Any, truth: Any) -> DLE:
        """Fit the loss models on labelled reference rows; returns self.

        Raises
        ------
        MissingExtraError
            scikit-learn is not installed.
        """
        try:
            # imported by name: scikit-learn ships no type information
            ensemble = importlib.import_module("sklearn.ensemble")
            threadpool_limits = importlib.import_module("threadpoolctl").threadpool_limits
        except ImportError as exc:
            raise MissingExtraError.needs(
                "direct loss estimation needs scikit-learn", "estimate"
            ) from exc
        x = _design(features, predictions)
        y = np.asarray(truth, dtype=np.float64)
        ok = np.isfinite(y) & np.isfinite(x[:, -1])
        x, y = x[ok], y[ok]
        if y.size < 20:
            raise InvalidBatchError(
                f"truth: {y.size} labelled rows with a finite prediction; expected >= 20",
                field="truth",
                value=int(y.size),
                expected=">= 20",
            )
        err = x[:, -1] - y
        held = np.random.default_rng(self.seed).random(y.size) < self.holdout
        fit = ~held

        def model() -> Any:
            return ensemble.HistGradientBoostingRegressor(
                max_iter=self.max_iter,
                learning_rate=0.2,
                early_stopping=False,
                random_state=self.seed,
            )

        # one thread: on a busy machine OpenMP's worker threads wait on each other for
        # longer than the work takes (ten times slower measured on 2 shared cores)
        with threadpool_limits(1):
            self.abs_model_ = model().fit(x[fit], np.abs(err[fit]))
            self.sq_model_ = model().fit(x[fit], err[fit] ** 2)
            sq_hat = np.maximum(self.sq_model_.predict(x[held]), 0.0)
            abs_hat = np.maximum(self.abs_model_.predict(x[held]), 0.0)
        denom = float(np.mean(sq_hat**2))
        self.kurtosis_ = float(np.mean((err[held] ** 2 - sq_hat) ** 2) / denom) if denom else 2.0
        self.model_error_ = (
            _relative_error(np.abs(err[held]), abs_hat),
            _relative_error(err[held] ** 2, sq_hat),
        )
        self.n_features_ = x.shape[1] - 1
        self.reference_: RegressionMetrics = regression_metrics(y, x[:, -1])
        return self

    def estimate(self, features: Any, predictions: Any) -> PerformanceEstimate:
        """Expected MAE and RMSE of rows without labels, with intervals; rows with a
        non-finite prediction are left out."""
        x = _design(features, predictions)
        if x.shape[1] - 1 != self.n_features_:
            raise InvalidBatchError(
                f"features: {x.shape[1] - 1} columns; expected {self.n_features_} (as fitted)",
                field="features",
                value=x.shape[1] - 1,
                expected=str(self.n_features_),
            )
        x = x[np.isfinite(x[:, -1])]
        n = int(x.shape[0])
        if n == 0:
            return PerformanceEstimate.empty(REGRESSION_ESTIMATES, self.confidence)
        threadpool_limits = importlib.import_module("threadpoolctl").threadpool_limits
        with threadpool_limits(1):
            abs_hat = np.maximum(self.abs_model_.predict(x), 0.0)
            sq_hat = np.maximum(self.sq_model_.predict(x), abs_hat**2)
        z = float(norm.ppf(0.5 + self.confidence / 2))
        mae = float(abs_hat.mean())
        mse = float(sq_hat.mean())
        # label noise of a mean of n row losses, plus the loss models' own error
        abs_err, sq_err = self.model_error_
        mae_sd = math.hypot(math.sqrt(float(np.sum(sq_hat - abs_hat**2))) / n, abs_err * mae)
        mse_sd = math.hypot(math.sqrt(self.kurtosis_ * float(np.sum(sq_hat**2))) / n, sq_err * mse)
        low = max(mse - z * mse_sd, 0.0)
        return PerformanceEstimate(
            n,
            {
                "mae": Interval(mae, max(mae - z * mae_sd, 0.0), mae + z * mae_sd),
                "rmse": Interval(math.sqrt(mse), math.sqrt(low), math.sqrt(mse + z * mse_sd)),
            },
            self.confidence,
        )
