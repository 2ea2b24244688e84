"""Model performance: realised from labels (classification, regression) and estimated
without labels (confidence-based estimation for classifiers of any number of classes,
direct loss estimation for regressors), every estimate with an interval. Pure functions
and estimators returning frozen records with the number of rows behind every figure."""

from __future__ import annotations

from watchkeeper.stats.performance.calibration import (
    ClassCalibration,
    IsotonicMap,
    expected_calibration_error,
)
from watchkeeper.stats.performance.cbpe import CBPE, CLASSIFICATION_ESTIMATES
from watchkeeper.stats.performance.classification import (
    ClassificationMetrics,
    classification_metrics,
    roc_auc,
)
from watchkeeper.stats.performance.dle import DLE, REGRESSION_ESTIMATES
from watchkeeper.stats.performance.estimated import Calibrator, EstimatedMetrics, estimate_binary
from watchkeeper.stats.performance.interval import Interval, PerformanceEstimate
from watchkeeper.stats.performance.regression import RegressionMetrics, regression_metrics
from watchkeeper.stats.performance.relative import Comparison, compare_to_baseline

__all__ = [
    "CBPE",
    "CLASSIFICATION_ESTIMATES",
    "DLE",
    "REGRESSION_ESTIMATES",
    "Calibrator",
    "ClassCalibration",
    "ClassificationMetrics",
    "Comparison",
    "EstimatedMetrics",
    "Interval",
    "IsotonicMap",
    "PerformanceEstimate",
    "RegressionMetrics",
    "classification_metrics",
    "compare_to_baseline",
    "estimate_binary",
    "expected_calibration_error",
    "regression_metrics",
    "roc_auc",
]
