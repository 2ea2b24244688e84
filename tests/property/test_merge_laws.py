"""Merge laws of profiles, as Hypothesis properties.

merge is commutative and associative; profile(A + B) equals merge(profile(A), profile(B))
on the same layout (exact fields exactly, moments to rounding, sketches within their
bounds); bytes round-trip; corrupt bytes are rejected with ProfileFormatError only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.errors import ProfileFormatError
from watchkeeper.profile import DatasetProfile, profile_table
from watchkeeper.schema import Schema

SCHEMA = Schema.from_dict({"x": "numeric", "c": "categorical", "t": "text", "b": "boolean"})

floats = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.just(math.nan),
    st.just(math.inf),
)
row = st.fixed_dictionaries(
    {
        "x": floats,
        "c": st.one_of(st.none(), st.sampled_from(["a", "b", "c", "new"])),
        "t": st.one_of(st.none(), st.sampled_from(["", " ", "hi", "hello there"])),
        "b": st.one_of(st.none(), st.booleans()),
    }
)
batches = st.lists(row, min_size=0, max_size=40)

_REFERENCE = profile_table(
    {
        "x": np.linspace(-100, 100, 50),
        "c": np.array(["a", "b"] * 25, dtype=object),
        "t": np.array(["hi", "hello there"] * 25, dtype=object),
        "b": np.array([True, False] * 25),
    },
    SCHEMA,
)


def _profile(rows: list[dict]) -> DatasetProfile:
    p = DatasetProfile(SCHEMA, layout=_REFERENCE.layout())
    return p.update(rows) if rows else p


def _exact_fields(p: DatasetProfile) -> dict:
    x, c, t, b = (p.columns[n] for n in ("x", "c", "t", "b"))
    return {
        "n_rows": p.n_rows,
        "x": (x.count, x.missing, x.non_finite, x.min, x.max, x.bin_counts.tolist()),
        "c": (c.counts, c.other, c.missing),
        "b": (b.counts, b.missing),
        "t": (t.count, t.missing, t.empty, t.lengths.count, t.values.counts, t.values.other),
    }


def _assert_same(a: DatasetProfile, b: DatasetProfile) -> None:
    assert _exact_fields(a) == _exact_fields(b)
    xa, xb = a.columns["x"], b.columns["x"]
    assert xa.mean == pytest.approx(xb.mean, rel=1e-9, abs=1e-6)
    assert xa.m2 == pytest.approx(xb.m2, rel=1e-9, abs=1e-3)
    if xa.count:
        ranks = np.linspace(0, 1, 11)
        # both sketches hold every value at these sizes, so quantiles agree exactly
        assert np.array_equal(xa.quantiles(ranks), xb.quantiles(ranks))
    assert a.columns["c"].cardinality == pytest.approx(b.columns["c"].cardinality, rel=0.02)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(batches, batches)
def test_merge_is_commutative(a: list, b: list) -> None:
    _assert_same(_profile(a).merge(_profile(b)), _profile(b).merge(_profile(a)))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(batches, batches, batches)
def test_merge_is_associative(a: list, b: list, c: list) -> None:
    pa, pb, pc = _profile(a), _profile(b), _profile(c)
    _assert_same(pa.merge(pb).merge(pc), pa.merge(pb.merge(pc)))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(batches, batches)
def test_profile_of_union_equals_merge_of_profiles(a: list, b: list) -> None:
    _assert_same(_profile(a + b), _profile(a).merge(_profile(b)))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(batches)
def test_bytes_round_trip(rows: list) -> None:
    p = _profile(rows)
    back = DatasetProfile.from_bytes(p.to_bytes())
    _assert_same(p, back)
    for name in ("c", "b"):
        assert sorted(back.columns[name].top_other()) == sorted(p.columns[name].top_other())


@settings(max_examples=150, deadline=None, derandomize=True)
@given(batches, st.data())
def test_corrupt_bytes_are_rejected_with_a_format_error(rows: list, data: st.DataObject) -> None:
    blob = bytearray(_profile(rows).to_bytes())
    how = data.draw(st.sampled_from(["flip", "truncate", "random", "extend"]))
    if how == "flip":
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] ^= data.draw(st.integers(1, 255))
    elif how == "truncate":
        blob = blob[: data.draw(st.integers(0, len(blob) - 1))]
    elif how == "extend":
        blob += data.draw(st.binary(min_size=1, max_size=8))
    else:
        blob = bytearray(data.draw(st.binary(max_size=200)))
    with pytest.raises(ProfileFormatError):
        DatasetProfile.from_bytes(bytes(blob))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=3_000), st.data())
def test_sketch_quantiles_of_merged_profiles_stay_within_rank_error(
    values: list, data: st.DataObject
) -> None:
    arr = np.array(values)
    cut = data.draw(st.integers(0, arr.size))
    schema = Schema.from_dict({"x": "numeric"})
    merged = (
        DatasetProfile(schema)
        .update({"x": arr[:cut]})
        .merge(DatasetProfile(schema).update({"x": arr[cut:]}))
    )
    col = merged.columns["x"]
    eps = col.rank_error + 1e-9
    ranks = np.linspace(0, 1, 21)
    sorted_arr = np.sort(arr)
    for q, r in zip(col.quantiles(ranks), ranks, strict=True):
        # the true rank of the returned quantile lies within eps of the asked rank
        lo = np.searchsorted(sorted_arr, q, side="left") / arr.size
        hi = np.searchsorted(sorted_arr, q, side="right") / arr.size
        assert lo - eps <= r <= hi + eps
