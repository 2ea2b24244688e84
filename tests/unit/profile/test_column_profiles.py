"""Column profiles against NumPy and Python on the same data, and their shared contract."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from watchkeeper.binning import bin_counts, quantile_edges
from watchkeeper.errors import ConfigError, IncompatibleProfilesError
from watchkeeper.profile import (
    CategoricalProfile,
    DatasetProfile,
    NumericProfile,
    TextProfile,
    profile_table,
)
from watchkeeper.schema import Encoded, Schema, convert_column

RNG = np.random.default_rng(31)


def test_numeric_fields_match_numpy() -> None:
    x = RNG.lognormal(3, 1, 50_000)
    dirty = np.concatenate([x, [np.nan] * 7, [np.inf, -np.inf]])
    edges = quantile_edges(x[:5_000])
    p = NumericProfile(edges=edges).update(dirty)
    assert (p.count, p.missing, p.non_finite) == (50_000, 7, 2)
    assert (p.min, p.max) == (x.min(), x.max())
    assert p.mean == pytest.approx(x.mean(), rel=1e-12)
    assert p.variance == pytest.approx(x.var(), rel=1e-9)
    assert np.array_equal(p.bin_counts, bin_counts(x, edges))
    ranks = np.linspace(0.01, 0.99, 25)
    true_ranks = np.searchsorted(np.sort(x), p.quantiles(ranks)) / x.size
    assert np.max(np.abs(true_ranks - ranks)) <= p.rank_error


def test_numeric_histogram_from_sketch_approximates_exact_counts() -> None:
    x = RNG.normal(size=100_000)
    edges = quantile_edges(x[:1_000])
    p = NumericProfile().update(x)  # no bins: counts come from the sketch
    approx = p.histogram(edges)
    assert approx.sum() == pytest.approx(x.size, abs=len(edges))
    assert np.max(np.abs(approx - bin_counts(x, edges))) <= 2 * p.rank_error * x.size


def test_categorical_counts_match_counter_and_cardinality_is_close() -> None:
    values = RNG.choice([f"v{i}" for i in range(40)], 20_000).astype(object)
    data, _ = convert_column(values, "categorical")
    p = CategoricalProfile().update(data)
    assert p.counts == dict(Counter(values.tolist()))
    many = np.array([f"id{i}" for i in range(10_000)], dtype=object)
    wide = CategoricalProfile(max_exact=100).update(convert_column(many, "categorical")[0])
    assert wide.cardinality == pytest.approx(10_000, rel=0.05)
    assert len(wide.counts) == 100 and wide.other == 9_900


def test_new_categories_beyond_the_reference_are_named() -> None:
    data, _ = convert_column(np.array(["a"] * 10 + ["z"] * 5, dtype=object), "categorical")
    p = CategoricalProfile(categories=["a", "b"]).update(data)
    assert p.counts == {"a": 10, "b": 0} and p.other == 5
    assert p.top_other() == [("z", 5)]


def test_text_lengths_and_empty_share_match_python() -> None:
    texts = ["", "   ", "hello", "hello world", None, "ünïcode ok"]
    data, _ = convert_column(np.array(texts, dtype=object), "text")
    p = TextProfile().update(data)
    present = [t for t in texts if t is not None]
    assert p.count == 5 and p.missing == 1
    assert p.empty == sum(1 for t in present if not t.strip())
    assert p.lengths.mean == pytest.approx(np.mean([len(t) for t in present]))


def test_dataset_profile_span_and_type_errors() -> None:
    schema = Schema.from_dict({"x": "numeric"})
    p = DatasetProfile(schema)
    p.update({"x": [1.0, "oops", 3.0]}, timestamps=np.array([100.0, 50.0, 75.0]))
    p.update({"x": [2.0]}, timestamps=np.array([400.0]))
    assert (p.start, p.end, p.n_rows, p.type_errors) == (50.0, 400.0, 4, {"x": 1})


def test_incompatible_merges_are_refused() -> None:
    with pytest.raises(IncompatibleProfilesError, match="different reference bins"):
        NumericProfile(edges=np.array([0.0, 1.0])).merge(NumericProfile(edges=np.array([0.0])))
    with pytest.raises(IncompatibleProfilesError, match="expected a numeric profile"):
        NumericProfile().merge(CategoricalProfile())  # type: ignore[arg-type]
    with pytest.raises(IncompatibleProfilesError, match="different categories"):
        CategoricalProfile(categories=["a"]).merge(CategoricalProfile(categories=["b"]))
    a = profile_table({"x": np.arange(10.0)})
    b = profile_table({"y": np.arange(10.0)})
    with pytest.raises(IncompatibleProfilesError, match="different schemas"):
        a.merge(b)
    with pytest.raises(ConfigError, match="k: expected"):
        NumericProfile(k=2)


def _numeric_batch(values: list) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def _encoded_batch(values: list) -> Encoded:
    data, _ = convert_column(np.array(values, dtype=object), "categorical")
    return data  # type: ignore[return-value]


CONTRACT = {
    "numeric": (
        lambda: NumericProfile(edges=np.array([0.0, 1.0, 2.0])),
        _numeric_batch,
        [0.5, np.nan, 1.5, np.inf, 2.0, -1.0, 3.0],
    ),
    "categorical": (
        lambda: CategoricalProfile(categories=["a", "b"]),
        _encoded_batch,
        ["a", None, "b", "c", "a"],
    ),
    "text": (lambda: TextProfile(), _encoded_batch, ["hi", "", None, "hello there", "hi"]),
}


def _fields(p: object) -> object:
    state = p.to_state()  # type: ignore[attr-defined]

    def clean(v: object) -> object:
        if isinstance(v, float):  # moments differ in the last bits between update orders
            return float(f"{v:.10g}")
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if k not in ("sketch", "hll", "frequent")}
        return v

    return clean(state)


@pytest.mark.parametrize("kind", CONTRACT)
def test_empty_batch_is_a_no_op(kind: str) -> None:
    make, batch, _ = CONTRACT[kind]
    assert _fields(make().update(batch([]))) == _fields(make())


@pytest.mark.parametrize("kind", CONTRACT)
def test_batch_update_equals_row_by_row(kind: str) -> None:
    make, batch, values = CONTRACT[kind]
    whole = make().update(batch(values))
    rows = make()
    for v in values:
        rows.update(batch([v]))
    assert _fields(whole) == _fields(rows)


@pytest.mark.parametrize("kind", CONTRACT)
def test_state_round_trip(kind: str) -> None:
    make, batch, values = CONTRACT[kind]
    p = make().update(batch(values))
    back = type(p).from_state(p.to_state())
    assert _fields(back) == _fields(p)


@pytest.mark.parametrize("kind", CONTRACT)
def test_all_missing_batch_counts_only_missing(kind: str) -> None:
    make, batch, _ = CONTRACT[kind]
    p = make().update(batch([None, None, None] if kind != "numeric" else [np.nan] * 3))
    assert p.missing == 3 and p.count == 0
