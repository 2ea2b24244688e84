"""Embedding descriptors: norm against NumPy, projections the same in every process."""

from __future__ import annotations

import math

import numpy as np
import pytest

from watchkeeper.descriptors import EmbeddingDescriptors


def test_norm_and_projections_match_numpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 24))
    d = EmbeddingDescriptors().fit(list(x))
    out = d.transform(list(x))
    assert out["norm"] == pytest.approx(np.linalg.norm(x, axis=1))
    directions = np.random.default_rng([0, 24]).standard_normal((24, 3))
    directions /= np.linalg.norm(directions, axis=0)
    for k in range(3):
        assert out[f"proj{k + 1}"] == pytest.approx(x @ directions[:, k])


def test_two_describers_of_one_seed_agree_and_another_seed_differs() -> None:
    v = np.arange(8.0)
    a, b = EmbeddingDescriptors(), EmbeddingDescriptors()
    assert a.one(v) == b.one(v)
    assert EmbeddingDescriptors(seed=1).one(v)["proj1"] != a.one(v)["proj1"]


def test_missing_wrong_dimension_and_non_finite_vectors_give_missing_descriptors() -> None:
    d = EmbeddingDescriptors().fit([[1.0, 2.0, 2.0]])
    out = d.transform([[1.0, 2.0, 2.0], None, [1.0, 2.0], [math.inf, 0.0, 0.0], "text"])
    assert out["norm"][0] == 3.0
    assert np.isnan(out["norm"][1:]).all() and np.isnan(out["proj1"][1:]).all()
