"""Reference quantile edges: exact inverted-CDF ranks, computed with one sort."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from watchkeeper.binning import quantile_edges


def _oracle(values: np.ndarray, n_bins: int) -> np.ndarray:
    ordered = np.sort(values)
    n = ordered.size
    ranks = [max(1, math.ceil(Fraction(j * n, n_bins))) for j in range(n_bins + 1)]
    return np.unique(ordered[np.array(ranks) - 1])


@pytest.mark.parametrize("n", [1, 2, 3, 7, 19, 20, 21, 40, 99, 1_000, 12_345, 100_000])
@pytest.mark.parametrize("n_bins", [1, 4, 7, 20])
def test_edges_are_the_exact_inverted_cdf_order_statistics(n: int, n_bins: int) -> None:
    rng = np.random.default_rng(n * 100 + n_bins)
    for values in (rng.normal(size=n), rng.integers(0, 5, n).astype(np.float64)):
        expected = _oracle(values, n_bins)
        assert np.array_equal(quantile_edges(values, n_bins), expected)
        sorted_values = np.sort(values)
        assert np.array_equal(quantile_edges(sorted_values, n_bins, assume_sorted=True), expected)


def test_edges_agree_with_numpy_where_its_float_ranks_are_exact() -> None:
    values = np.random.default_rng(1).normal(size=10_007)  # prime: no rank on a boundary
    numpy_edges = np.quantile(values, np.linspace(0, 1, 21), method="inverted_cdf")
    assert np.array_equal(quantile_edges(values), np.unique(numpy_edges))


def test_empty_input_and_bad_bins() -> None:
    assert quantile_edges(np.empty(0)).size == 0
    with pytest.raises(ValueError, match="n_bins: expected an integer >= 1, got 0"):
        quantile_edges(np.ones(3), 0)
