"""Model performance: realised from labels (classification, regression) and estimated
from calibrated scores while labels are late. Pure functions returning frozen records
with the number of rows behind every figure."""

from __future__ import annotations

from watchkeeper.stats.performance.classification import (
    ClassificationMetrics,
    classification_metrics,
    roc_auc,
)
from watchkeeper.stats.performance.estimated import Calibrator, EstimatedMetrics, estimate_binary
from watchkeeper.stats.performance.regression import RegressionMetrics, regression_metrics

__all__ = [
    "Calibrator",
    "ClassificationMetrics",
    "EstimatedMetrics",
    "RegressionMetrics",
    "classification_metrics",
    "estimate_binary",
    "regression_metrics",
    "roc_auc",
]
