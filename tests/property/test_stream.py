"""Profiling batch by batch: how the rows are split never changes the counts, and a
streamed reference's bins are the exact ones within the sketch's rank error."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.profile import DatasetProfile, profile_batches, profile_table, sketched_layout

RNG = np.random.default_rng(11)
N = 3_000
DATA = {
    "x": RNG.lognormal(0, 1, N),
    "c": RNG.choice(["a", "b", "c", "d"], N, p=[0.4, 0.3, 0.2, 0.1]).astype(object),
}
REFERENCE = profile_table({k: v[:2_000] for k, v in DATA.items()})


def _split(cuts: list[int]) -> list[dict]:
    edges = [0, *sorted(set(cuts)), N]
    return [{k: v[a:b] for k, v in DATA.items()} for a, b in itertools.pairwise(edges) if b > a]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, N - 1), max_size=12))
def test_counts_on_a_layout_do_not_depend_on_how_rows_are_split(cuts: list[int]) -> None:
    whole = DatasetProfile(REFERENCE.schema, layout=REFERENCE.layout()).update(DATA)
    parts = profile_batches(lambda: _split(cuts), reference=REFERENCE)
    assert parts.n_rows == whole.n_rows
    assert parts.columns["x"].bin_counts.tolist() == whole.columns["x"].bin_counts.tolist()
    assert parts.columns["c"].counts == whole.columns["c"].counts


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, N - 1), max_size=12))
def test_a_streamed_reference_has_exact_ends_and_near_equal_bins(cuts: list[int]) -> None:
    ref = profile_batches(lambda: _split(cuts))
    x = ref.columns["x"]
    assert (x.edges[0], x.edges[-1]) == (DATA["x"].min(), DATA["x"].max())
    assert x.bin_counts.sum() == N and x.bin_counts[0] == x.bin_counts[-1] == 0
    # each of the 20 bins holds its 5% of the rows within the KLL rank error
    shares = x.bin_counts[1:-1] / N
    assert np.all(np.abs(shares - 1 / 20) <= 2 * x.rank_error + 1 / N), shares
    assert ref.columns["c"].counts == profile_table(DATA).columns["c"].counts
    assert sketched_layout(ref)["c"]["categories"] == ["a", "b", "c", "d"]
