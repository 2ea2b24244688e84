"""The row reservoir: uniform, bounded, seeded, mergeable, and its bytes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from watchkeeper.errors import ProfileFormatError
from watchkeeper.profile.reservoir import Reservoir
from watchkeeper.schema import Encoded


def _ids(r: Reservoir) -> list[float]:
    return r.columns()["i"].tolist()


def _fed(capacity: int, sizes: list[int], stream: int, start: int = 0) -> Reservoir:
    r = Reservoir(capacity, 7, stream=stream)
    offset = start
    for n in sizes:
        r.add({"i": np.arange(offset, offset + n, dtype=np.float64)}, n)
        offset += n
    return r


def test_inclusion_is_uniform_chi_square() -> None:
    n, k, trials = 200, 20, 2_000
    counts = np.zeros(n)
    for seed in range(trials):
        r = Reservoir(k, seed)
        for lo in range(0, n, 37):  # uneven batches
            hi = min(n, lo + 37)
            r.add({"i": np.arange(lo, hi, dtype=np.float64)}, hi - lo)
        counts[np.asarray(_ids(r), dtype=int)] += 1
    assert counts.sum() == k * trials
    expected = np.full(n, k * trials / n)
    assert stats.chisquare(counts, expected).pvalue > 0.001


def test_size_is_bounded_and_every_row_kept_until_full() -> None:
    r = Reservoir(50, 0)
    r.add({"i": np.arange(30.0)}, 30)
    assert sorted(_ids(r)) == list(range(30))
    for b in range(20):
        r.add({"i": np.arange(30.0 + b * 1_000, 30.0 + (b + 1) * 1_000)}, 1_000)
        assert len(r) == 50
    assert r.seen == 20_030


def test_same_batches_same_sample_and_seed_changes_it() -> None:
    a, b, c = Reservoir(10, 1), Reservoir(10, 1), Reservoir(10, 2)
    for r in (a, b, c):
        r.add({"i": np.arange(1_000.0)}, 1_000)
    assert a.to_bytes() == b.to_bytes()
    assert _ids(a) != _ids(c)


sizes = st.lists(st.integers(1, 60), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(sizes, sizes, sizes, st.integers(1, 40))
def test_merge_is_commutative_and_associative(x, y, z, k) -> None:
    a, b, c = _fed(k, x, 1), _fed(k, y, 2, 1_000), _fed(k, z, 3, 2_000)
    assert _ids(a.merge(b)) == _ids(b.merge(a))
    assert _ids(a.merge(b).merge(c)) == _ids(a.merge(b.merge(c)))
    assert a.merge(b).seen == a.seen + b.seen


@settings(max_examples=40, deadline=None)
@given(sizes, sizes, st.integers(1, 40))
def test_merge_of_bounded_reservoirs_is_the_bound_of_the_whole(x, y, k) -> None:
    """merge(res_k(A), res_k(B)) keeps the same rows as res_k of every row of A and B
    (each row's key is drawn once, whatever the capacity)."""
    small = _fed(k, x, 1).merge(_fed(k, y, 2, 1_000))
    whole = _fed(10_000, x, 1).merge(_fed(10_000, y, 2, 1_000))
    order = np.argsort(whole.keys)[:k]
    assert _ids(small) == [whole.columns()["i"][i] for i in order]
    assert len(small) == min(k, sum(x) + sum(y))


@settings(max_examples=40, deadline=None)
@given(sizes, st.integers(1, 40))
def test_bytes_round_trip(x, k) -> None:
    r = _fed(k, x, 1)
    r.add({"c": np.array(["a", None, "b"], dtype=object)}, 3)
    back = Reservoir.from_bytes(r.to_bytes())
    assert back.to_bytes() == r.to_bytes()
    assert back.rows().equals(r.rows())


def test_columns_of_kinds_and_absent_columns_are_missing() -> None:
    r = Reservoir(100, 0)
    codes = Encoded(np.array([0, 1, -1]), np.array(["x", "y"], dtype=object))
    r.add({"num": np.array([1.0, 2.0, 3.0]), "cat": codes}, 3)
    r.add({"num": np.array([4.0]), "new": np.array([True])}, 1)
    cols = r.columns()
    order = np.argsort(cols["num"])
    assert cols["num"][order].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert cols["cat"][order].tolist() == ["x", "y", None, None]
    assert np.isnan(cols["new"][order]).tolist() == [True, True, True, False]
    assert r.rows().columns.tolist() == ["num", "cat", "new"]


def test_damaged_bytes_raise_one_format_error() -> None:
    data = _fed(5, [10], 1).to_bytes()
    for bad in (b"nope", data[:-3], data + b"x", b"WKRES\x09" + data[6:]):
        with pytest.raises(ProfileFormatError, match="reservoir"):
            Reservoir.from_bytes(bad)


def test_bad_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        Reservoir(0, 0)


def test_many_small_batches_into_a_full_reservoir_keep_the_smallest_keys() -> None:
    """Rows replaced in place (few enter a full reservoir) give the same sample as a
    reservoir large enough to keep every row, cut to the capacity."""
    sizes = [400, *([37] * 200)]
    small, whole = _fed(400, sizes, 1), _fed(100_000, sizes, 1)
    order = np.argsort(whole.keys)[:400]
    assert _ids(small) == [whole.columns()["i"][i] for i in order]
    assert list(small.keys) == sorted(small.keys)
