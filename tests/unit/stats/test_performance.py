"""Performance metrics against scikit-learn on the same data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as sk

from watchkeeper.errors import InvalidBatchError
from watchkeeper.stats.performance import (
    Calibrator,
    classification_metrics,
    estimate_binary,
    regression_metrics,
)

RNG = np.random.default_rng(41)


@pytest.mark.parametrize("n", [7, 500, 20_000])
def test_binary_metrics_equal_sklearn(n: int) -> None:
    score = RNG.uniform(0.01, 0.99, n)
    truth = (RNG.uniform(size=n) < score).astype(int)
    pred = (score >= 0.5).astype(int)
    m = classification_metrics(truth, pred, scores=score)
    assert m.n == n
    assert m.accuracy == pytest.approx(sk.accuracy_score(truth, pred), rel=1e-12)
    assert m.precision == pytest.approx(sk.precision_score(truth, pred, zero_division=0))
    assert m.recall == pytest.approx(sk.recall_score(truth, pred, zero_division=0))
    assert m.f1 == pytest.approx(sk.f1_score(truth, pred, zero_division=0))
    if len(set(truth)) == 2:
        assert m.roc_auc == pytest.approx(sk.roc_auc_score(truth, score), rel=1e-12)
    assert m.log_loss == pytest.approx(sk.log_loss(truth, score, labels=[0, 1]), rel=1e-9)
    assert np.array_equal(np.array(m.confusion), sk.confusion_matrix(truth, pred, labels=[0, 1]))


def test_multiclass_metrics_equal_sklearn() -> None:
    n, k = 3_000, 4
    probs = RNG.dirichlet(np.ones(k), n)
    truth = np.array([RNG.choice(k, p=row) for row in probs])
    pred = probs.argmax(axis=1)
    m = classification_metrics(truth, pred, scores=probs, classes=list(range(k)))
    assert m.accuracy == pytest.approx(sk.accuracy_score(truth, pred))
    assert m.precision == pytest.approx(sk.precision_score(truth, pred, average="macro"))
    assert m.recall == pytest.approx(sk.recall_score(truth, pred, average="macro"))
    assert m.f1 == pytest.approx(sk.f1_score(truth, pred, average="macro"))
    assert m.roc_auc == pytest.approx(
        sk.roc_auc_score(truth, probs, multi_class="ovr", average="macro"), rel=1e-12
    )
    assert m.log_loss == pytest.approx(sk.log_loss(truth, probs), rel=1e-9)


def test_string_labels_and_a_named_positive_class() -> None:
    truth = ["spam", "ham", "spam", "spam"]
    pred = ["spam", "spam", "ham", "spam"]
    m = classification_metrics(truth, pred, positive="spam")
    assert m.precision == pytest.approx(sk.precision_score(truth, pred, pos_label="spam"))
    assert m.recall == pytest.approx(sk.recall_score(truth, pred, pos_label="spam"))


def test_single_class_window_has_undefined_auc_and_empty_window_is_nan() -> None:
    m = classification_metrics([1, 1, 1], [1, 0, 1], scores=[0.9, 0.4, 0.8])
    assert math.isnan(m.roc_auc) and m.n == 3
    empty = classification_metrics([], [])
    assert empty.n == 0 and math.isnan(empty.accuracy)


def test_bad_shapes_and_unknown_classes_are_named() -> None:
    with pytest.raises(InvalidBatchError, match="2 predictions for 3 labels"):
        classification_metrics([0, 1, 1], [0, 1])
    with pytest.raises(InvalidBatchError, match="label '7' is not among"):
        classification_metrics([0, 7], [0, 1], classes=[0, 1])
    with pytest.raises(InvalidBatchError, match="scores: shape"):
        classification_metrics([0, 1], [0, 1], scores=[[0.1, 0.2, 0.7]])


@pytest.mark.parametrize("n", [2, 50, 10_000])
def test_regression_metrics_equal_sklearn(n: int) -> None:
    truth = RNG.normal(10, 3, n)
    pred = truth + RNG.normal(0, 1, n)
    m = regression_metrics(truth, pred)
    assert m.mae == pytest.approx(sk.mean_absolute_error(truth, pred), rel=1e-12)
    assert m.rmse == pytest.approx(sk.root_mean_squared_error(truth, pred), rel=1e-12)
    assert m.mape == pytest.approx(sk.mean_absolute_percentage_error(truth, pred), rel=1e-12)
    assert m.r2 == pytest.approx(sk.r2_score(truth, pred), rel=1e-12)


def test_regression_leaves_out_missing_rows_and_counts_the_rest() -> None:
    m = regression_metrics([1.0, np.nan, 3.0], [1.5, 2.0, np.inf])
    assert m.n == 1 and m.mae == 0.5


def test_estimated_accuracy_tracks_realised_accuracy_when_calibrated() -> None:
    n = 50_000
    raw = RNG.uniform(size=n)
    truth = RNG.uniform(size=n) < raw**2  # raw scores are overconfident
    cal = Calibrator().fit(raw[:20_000], truth[:20_000])
    p = cal.transform(raw[20_000:])
    est = estimate_binary(p)
    realised = classification_metrics(truth[20_000:], p >= 0.5)
    assert est.accuracy == pytest.approx(realised.accuracy, abs=0.01)
    assert est.f1 == pytest.approx(realised.f1, abs=0.02)
    # uncalibrated scores overestimate the precision of their own predictions
    naive = estimate_binary(raw[20_000:])
    realised_raw = classification_metrics(truth[20_000:], raw[20_000:] >= 0.5)
    assert naive.precision - realised_raw.precision > 0.1


def test_calibration_is_monotone() -> None:
    raw = RNG.uniform(size=5_000)
    truth = RNG.uniform(size=5_000) < 0.3 + 0.2 * np.sin(raw * 9)
    cal = Calibrator(n_bins=30).fit(raw, truth)
    out = cal.transform(np.linspace(0, 1, 200))
    assert np.all(np.diff(out) >= 0)
