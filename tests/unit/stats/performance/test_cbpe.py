"""CBPE: its realised reference metrics against scikit-learn, its intervals' spreads
against seeded simulations of the labels, and (statistical) its coverage of the realised
metrics on scripted covariate shift, binary and 5-class.

The scripted stream: three normal features moved by ``shift`` standard deviations (P(y|x)
fixed), true class probabilities a softmax of a fixed linear map, the model's
probabilities overconfident (the true ones to the power 1.5, renormalised)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from watchkeeper.errors import InvalidBatchError
from watchkeeper.stats.performance import CBPE, CLASSIFICATION_ESTIMATES

_W = np.array([[1.0, 0.0, -1.0, 0.5, 2.0], [0.0, 1.0, 1.0, -1.0, 0.0], [0.5, -0.5, 0.0, 1.0, -1.0]])


def classification(
    rng: np.random.Generator, n: int, shift: float, k: int
) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(shift, 1.0, (n, 3))
    logit = x @ _W[:, :k]
    true = np.exp(logit - logit.max(axis=1, keepdims=True))
    true /= true.sum(axis=1, keepdims=True)
    y = (rng.random((n, 1)) > true.cumsum(axis=1)).sum(axis=1)
    model = true**1.5
    model /= model.sum(axis=1, keepdims=True)
    return model, np.minimum(y, k - 1)


METRICS = {
    "accuracy": lambda y, pred, p, av: accuracy_score(y, pred),
    "precision": lambda y, pred, p, av: precision_score(y, pred, average=av, zero_division=0),
    "recall": lambda y, pred, p, av: recall_score(y, pred, average=av, zero_division=0),
    "f1": lambda y, pred, p, av: f1_score(y, pred, average=av, zero_division=0),
    "roc_auc": lambda y, pred, p, av: (
        roc_auc_score(y, p[:, 1]) if p.shape[1] == 2 else roc_auc_score(y, p, multi_class="ovr")
    ),
}


def _sklearn(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    pred = p.argmax(axis=1)
    av = "binary" if p.shape[1] == 2 else "macro"
    return {name: float(f(y, pred, p, av)) for name, f in METRICS.items()}


@pytest.mark.parametrize("k", [2, 5])
def test_reference_metrics_match_scikit_learn(k: int) -> None:
    rng = np.random.default_rng(3)
    p, y = classification(rng, 4_000, 0.0, k)
    ref = CBPE().fit(p, y).reference_
    expected = _sklearn(y, p)
    for name in CLASSIFICATION_ESTIMATES:
        assert getattr(ref, name) == pytest.approx(expected[name], abs=1e-12), name


@pytest.mark.statistical
@pytest.mark.parametrize("k", [2, 5])
def test_interval_spreads_match_simulated_labels(k: int) -> None:
    """The closed-form spreads are the standard deviations the realised metrics have
    when labels are drawn from the calibrated probabilities (computed by scikit-learn on
    every draw); the interval adds the held-out calibration error in quadrature."""
    rng = np.random.default_rng(4)
    p, y = classification(rng, 20_000, 0.0, k)
    cbpe = CBPE().fit(p, y)
    window, _ = classification(rng, 2_000, 0.3, k)
    est = cbpe.estimate(window)
    q = cbpe.calibration_.transform(window)
    draws = [
        _sklearn((rng.random((len(q), 1)) > q.cumsum(axis=1)).sum(axis=1), window)
        for _ in range(200)
    ]
    z = 1.959963984540054
    for name in CLASSIFICATION_ESTIMATES:
        values = np.array([d[name] for d in draws])
        assert est[name].value == pytest.approx(values.mean(), abs=0.004), name
        label_noise = np.sqrt((est[name].width / (2 * z)) ** 2 - cbpe.calibration_sd_[name] ** 2)
        assert label_noise == pytest.approx(values.std(), rel=0.25), name


def test_expected_confusion_matrix_adds_up() -> None:
    rng = np.random.default_rng(5)
    p, y = classification(rng, 10_000, 0.0, 5)
    cbpe = CBPE().fit(p, y)
    window, _ = classification(rng, 3_000, 0.5, 5)
    est = cbpe.estimate(window)
    confusion = np.array(est.confusion)
    q = cbpe.calibration_.transform(window)
    np.testing.assert_allclose(confusion.sum(axis=0), np.bincount(window.argmax(1), minlength=5))
    np.testing.assert_allclose(confusion.sum(axis=1), q.sum(axis=0))
    assert est["accuracy"].value == pytest.approx(np.trace(confusion) / 3_000)
    assert est.n == 3_000 and est.classes == ("0", "1", "2", "3", "4")


def test_calibration_is_kept_only_where_it_helps() -> None:
    rng = np.random.default_rng(6)
    p, y = classification(rng, 20_000, 0.0, 5)
    assert CBPE().fit(p, y).calibration_.kept_.all()  # overconfident: every class helped
    true = p ** (1 / 1.5)
    true /= true.sum(axis=1, keepdims=True)
    assert not CBPE().fit(true, y).calibration_.kept_.any()  # already calibrated


def test_given_predictions_and_class_names_are_used() -> None:
    rng = np.random.default_rng(7)
    score = rng.uniform(size=25_000)
    truth = np.where(rng.uniform(size=25_000) < score, "bad", "good")
    cbpe = CBPE().fit(score[:20_000], truth[:20_000], classes=["good", "bad"])
    lenient = np.where(score[20_000:] > 0.8, "bad", "good")
    est = cbpe.estimate(score[20_000:], lenient)
    for name, realised in (
        ("precision", precision_score(truth[20_000:], lenient, pos_label="bad")),
        ("recall", recall_score(truth[20_000:], lenient, pos_label="bad")),
    ):
        # within two half-widths (about 4 standard deviations) of the realised value
        assert abs(est[name].value - realised) < est[name].width, (name, est[name], realised)
    assert est["recall"].value < 0.5  # only the surest fifth called bad


def test_bad_input_names_the_field() -> None:
    cbpe = CBPE().fit(np.linspace(0, 1, 100), np.arange(100) % 2)
    with pytest.raises(InvalidBatchError, match="probabilities: 3 columns; expected 2"):
        cbpe.estimate(np.ones((4, 3)) / 3)
    with pytest.raises(InvalidBatchError, match="labels: class 'c' has no probability column"):
        CBPE().fit(np.ones((3, 2)) / 2, ["a", "b", "c"], classes=["a", "b"])
    with pytest.raises(InvalidBatchError, match="confidence"):
        CBPE(confidence=1.5)
    assert np.isnan(cbpe.estimate(np.full(3, np.nan))["accuracy"].value)


@pytest.mark.statistical
@pytest.mark.parametrize("k", [2, 5])
def test_realised_metrics_fall_in_the_interval_under_covariate_shift(k: int) -> None:
    rng = np.random.default_rng(100 + k)
    p, y = classification(rng, 20_000, 0.0, k)
    cbpe = CBPE().fit(p, y)
    inside = {name: 0 for name in CLASSIFICATION_ESTIMATES}
    error = {name: 0.0 for name in CLASSIFICATION_ESTIMATES}
    windows = 0
    for shift in (0.0, 0.25, 0.5):
        for _ in range(20):
            window, truth = classification(rng, 5_000, shift, k)
            est = cbpe.estimate(window)
            realised = _sklearn(truth, window)
            windows += 1
            for name in CLASSIFICATION_ESTIMATES:
                inside[name] += est[name].contains(realised[name])
                error[name] += abs(est[name].value - realised[name])
    print(f"{k} classes, {windows} windows of 5,000 rows, shifts 0-0.5 sd:")
    for name in CLASSIFICATION_ESTIMATES:
        print(f"  {name}: inside {inside[name] / windows:.0%}, mean |error| "
              f"{error[name] / windows:.4f}")  # fmt: skip
        assert inside[name] / windows >= 0.9, (name, inside[name], windows)
