"""Scripted streams with covariate shift: P(y | x) fixed, the inputs' distribution moved.

``classification(rng, n, shift, k)``: three normal features moved by ``shift`` standard
deviations, true class probabilities a softmax of a fixed linear map, the model's
probabilities overconfident (the true ones to the power 1.5, renormalised) so the
calibration has work to do. ``regression(rng, n, shift)``: a target with
heteroscedastic noise (growing with |x2|) and a slightly wrong model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

_W = np.array([[1.0, 0.0, -1.0, 0.5, 2.0], [0.0, 1.0, 1.0, -1.0, 0.0], [0.5, -0.5, 0.0, 1.0, -1.0]])

Classification = Callable[[np.random.Generator, int, float, int], tuple[np.ndarray, np.ndarray]]
Regression = Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _classification(
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


def _regression(
    rng: np.random.Generator, n: int, shift: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.normal(0.0, 1.0, (n, 4))
    x[:, 0] += shift
    y = np.sin(x[:, 0]) + x[:, 1] + rng.normal(0.0, 0.3 + 0.5 * np.abs(x[:, 2]), n)
    prediction = np.sin(x[:, 0]) + 0.9 * x[:, 1]
    return x, prediction, y


@pytest.fixture
def classification() -> Classification:
    return _classification


@pytest.fixture
def regression() -> Regression:
    return _regression
