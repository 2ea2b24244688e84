"""The estimation part through a real Monitor: estimates with intervals per closed window,
checked against the labels that arrive (realised values computed by scikit-learn on the
same rows), the relative judgement, and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error

from watchkeeper.errors import ConfigError
from watchkeeper.monitor import ManualClock, Monitor

W = 60.0


def _binary(rng: np.random.Generator, n: int, shift: float, flip: bool = False) -> dict:
    x = rng.normal(shift, 1.0, n)
    true = 1 / (1 + np.exp(-2 * x))
    score = true**1.3  # a little off: calibration has work to do
    y = rng.uniform(size=n) < (1 - true if flip else true)
    return {
        "features": {"x": x},
        "outputs": {"prediction": np.where(score >= 0.5, "yes", "no"), "score": score},
        "truth": np.where(y, "yes", "no"),
    }


def _monitor(reference: dict) -> Monitor:
    return Monitor(
        "m", reference={**reference["features"], **reference["outputs"]}, store="memory://",
        clock=ManualClock(), grace=0, rollups=(), max_future_skew=None,
        outputs=list(reference["outputs"]),
    )  # fmt: skip


def _run(m: Monitor, windows: list[dict], rng: np.random.Generator) -> None:
    for w, batch in enumerate(windows):
        n = len(batch["truth"])
        ids = [f"{w}-{i}" for i in range(n)]
        m.log(batch["features"], batch["outputs"], ids=ids, timestamps=w * W + rng.uniform(0, W, n))
        m.log_labels(ids, batch["truth"])
        m.tick((w + 1) * W)


def _points(m: Monitor, name: str, **labels: str) -> pd.Series:
    frame = m.metrics(name, **labels)
    return frame.set_index("window_start")["value"]


def test_binary_estimates_are_checked_against_the_realised_metrics() -> None:
    rng = np.random.default_rng(0)
    ref = _binary(rng, 20_000, 0.0)
    m = _monitor(ref)
    fitted = m.fit_estimator({**ref["features"], **ref["outputs"]}, ref["truth"])
    assert fitted.method == "cbpe" and fitted.n == 20_000
    assert fitted.reference["accuracy"] == pytest.approx(
        accuracy_score(ref["truth"], ref["outputs"]["prediction"])
    )
    windows = [_binary(rng, 3_000, s) for s in (0.0, 0.3, 0.6)]
    _run(m, windows, rng)
    estimated = _points(m, "estimated_accuracy")
    lower = _points(m, "estimated_bound", metric="accuracy", bound="lower")
    upper = _points(m, "estimated_bound", metric="accuracy", bound="upper")
    error = _points(m, "estimate_error", metric="accuracy")
    outside = _points(m, "estimate_outside", metric="accuracy")
    f1_error = _points(m, "estimate_error", metric="f1")
    assert len(estimated) == 3
    for i, batch in enumerate(windows):
        start = estimated.index[i]
        realised = accuracy_score(batch["truth"], batch["outputs"]["prediction"])
        assert lower[start] < estimated[start] < upper[start]
        assert error[start] == pytest.approx(realised - estimated[start], abs=1e-12)
        assert outside[start] == float(not lower[start] <= realised <= upper[start])
        f1 = f1_score(batch["truth"], batch["outputs"]["prediction"], pos_label="yes")
        assert f1_error[start] + _points(m, "estimated_f1")[start] == pytest.approx(f1)
    assert outside.sum() == 0
    assert (_points(m, "performance_degraded", metric="accuracy", basis="realised") == 0).all()
    m.close()


def test_concept_drift_puts_the_realised_value_outside_the_interval() -> None:
    rng = np.random.default_rng(1)
    ref = _binary(rng, 20_000, 0.0)
    m = _monitor(ref)
    m.fit_estimator({**ref["features"], **ref["outputs"]}, ref["truth"])
    _run(m, [_binary(rng, 2_000, 0.0), _binary(rng, 2_000, 0.0, flip=True)], rng)
    outside = _points(m, "estimate_outside", metric="accuracy")
    assert outside.tolist() == [0.0, 1.0]
    assert _points(m, "performance_degraded", metric="accuracy", basis="realised").tolist() == [
        0.0,
        1.0,
    ]
    # the estimate itself did not move: the inputs did not change, P(y|x) did
    assert _points(m, "performance_degraded", metric="accuracy", basis="estimated").sum() == 0
    m.close()


def test_multiclass_from_probability_columns() -> None:
    rng = np.random.default_rng(2)

    def batch(n: int) -> dict:
        x = rng.normal(size=(n, 2))
        logit = np.column_stack([x[:, 0], x[:, 1], -x[:, 0] - x[:, 1]])
        p = np.exp(logit) / np.exp(logit).sum(1, keepdims=True)
        y = (rng.uniform(size=(n, 1)) > p.cumsum(1)).sum(1)
        return {
            "features": {"a": x[:, 0], "b": x[:, 1]},
            "outputs": {"prediction": p.argmax(1), **{f"proba_{j}": p[:, j] for j in range(3)}},
            "truth": np.minimum(y, 2),
        }

    ref = batch(10_000)
    m = _monitor(ref)
    fitted = m.fit_estimator({**ref["features"], **ref["outputs"]}, ref["truth"])
    assert set(fitted.reference) >= {"accuracy", "f1", "roc_auc"}
    windows = [batch(3_000), batch(3_000)]
    _run(m, windows, rng)
    error = _points(m, "estimate_error", metric="accuracy")
    for start, b in zip(error.index, windows, strict=True):
        realised = accuracy_score(b["truth"], b["outputs"]["prediction"])
        assert error[start] + _points(m, "estimated_accuracy")[start] == pytest.approx(realised)
    assert len(_points(m, "estimated_roc_auc")) == 2
    m.close()


def test_regression_estimates_mae_with_a_direct_loss_model() -> None:
    rng = np.random.default_rng(3)

    def batch(n: int, shift: float) -> dict:
        x = rng.normal(shift, 1.0, (n, 2))
        pred = x[:, 0]
        y = pred + rng.normal(0, 0.2 + np.abs(x[:, 1]), n)
        return {"features": {"a": x[:, 0], "b": x[:, 1]}, "outputs": {"prediction": pred},
                "truth": y}  # fmt: skip

    ref = batch(8_000, 0.0)
    m = _monitor(ref)
    assert m.fit_estimator({**ref["features"], **ref["outputs"]}, ref["truth"]).method == "dle"
    windows = [batch(3_000, 0.0), batch(3_000, 0.5)]
    _run(m, windows, rng)
    estimated = _points(m, "estimated_mae")
    error = _points(m, "estimate_error", metric="mae")
    for start, b in zip(estimated.index, windows, strict=True):
        realised = mean_absolute_error(b["truth"], b["outputs"]["prediction"])
        assert error[start] == pytest.approx(realised - estimated[start], abs=1e-9)
        assert abs(error[start]) < 0.05 * realised
    assert set(_points(m, "performance_drop", basis="estimated").index) == set(estimated.index)
    m.close()


def test_without_an_estimator_the_realised_judgement_uses_the_windows_before() -> None:
    rng = np.random.default_rng(4)
    ref = _binary(rng, 2_000, 0.0)
    m = _monitor(ref)
    _run(m, [_binary(rng, 500, 0.0) for _ in range(4)] + [_binary(rng, 500, 0.0, flip=True)], rng)
    degraded = _points(m, "performance_degraded", metric="accuracy", basis="realised")
    assert degraded.tolist() == [0.0, 1.0]  # judged once 3 labelled windows make a normal
    assert _points(m, "estimated_bound").empty  # no estimator: no interval
    m.close()


def test_fit_estimator_names_what_is_missing() -> None:
    rng = np.random.default_rng(5)
    ref = _binary(rng, 500, 0.0)
    m = _monitor(ref)
    with pytest.raises(ConfigError, match="labels: 499 labels for 500 reference rows"):
        m.fit_estimator({**ref["features"], **ref["outputs"]}, ref["truth"][:-1])
    with pytest.raises(ConfigError, match="no class probabilities"):
        m.fit_estimator({**ref["features"], "prediction": ref["outputs"]["prediction"]},
                        ref["truth"])  # fmt: skip
    bare = Monitor("m", store="memory://", clock=ManualClock())
    with pytest.raises(ConfigError, match="task: unknown"):
        bare.fit_estimator({"x": [1.0]}, ["a"])
    m.close()
    bare.close()
