"""The engine-neutral core, with the local engine: a profile built from partitions equals
the one-process profile of the same rows, however the rows are split."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.errors import ColumnTypeError, InvalidBatchError, SchemaError
from watchkeeper.integrations import (
    LocalPartitions,
    compare_partitions,
    join_columns,
    merge_bytes,
    merge_profiles,
    profile_current,
    profile_partition,
    profile_reference,
    profile_template,
    raise_if_error,
    subset_template,
)
from watchkeeper.integrations._core import _error_bytes
from watchkeeper.profile import (
    CategoricalProfile,
    DatasetProfile,
    NumericProfile,
    TextProfile,
    profile_batches,
)
from watchkeeper.report import build_report
from watchkeeper.schema import infer_schema


def _frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(10.0 + shift, 3.0, n)
    x[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "y": rng.exponential(2.0, n),
            "city": rng.choice(["Oslo", "Rome", "Lima", "Pune"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "note": rng.choice(["short", "a longer note", "", "mid note"], n),
        }
    )


def _split(frame: pd.DataFrame, cuts: list[int]) -> list[list[pd.DataFrame]]:
    """Partitions at ``cuts``; each partition is one or two batches."""
    bounds = [0, *sorted(set(cuts)), len(frame)]
    parts = []
    for lo, hi in itertools.pairwise(bounds):
        mid = (lo + hi) // 2
        parts.append([frame.iloc[lo:mid], frame.iloc[mid:hi]])
    return parts


def _assert_same_rows(ours: DatasetProfile, one: DatasetProfile) -> None:
    """Counts, missing, categories exactly; moments to 1e-9; quantiles within the sketch."""
    assert ours.schema == one.schema
    assert ours.n_rows == one.n_rows
    assert ours.type_errors == one.type_errors
    for name, col in ours.columns.items():
        other = one.columns[name]
        if isinstance(col, NumericProfile):
            assert isinstance(other, NumericProfile)
            assert (col.count, col.missing, col.non_finite) == (
                other.count,
                other.missing,
                other.non_finite,
            )
            assert (col.min, col.max) == (other.min, other.max)
            assert col.mean == pytest.approx(other.mean, rel=1e-9)
            assert col.variance == pytest.approx(other.variance, rel=1e-9)
        elif isinstance(col, CategoricalProfile):
            assert isinstance(other, CategoricalProfile)
            assert col.counts == other.counts
            assert (col.other, col.missing) == (other.other, other.missing)
        else:
            assert isinstance(col, TextProfile) and isinstance(other, TextProfile)
            assert (col.count, col.missing) == (other.count, other.missing)
            assert col.values.counts == other.values.counts


def _assert_quantiles_within_sketch(profile: DatasetProfile, frame: pd.DataFrame) -> None:
    for name in ("x", "y"):
        col = profile.columns[name]
        assert isinstance(col, NumericProfile)
        values = np.sort(frame[name].to_numpy(dtype=float))
        values = values[np.isfinite(values)]
        ranks = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
        estimates = col.quantiles(ranks)
        # the estimate's true rank (NumPy) is within the sketch's stated rank error
        true_ranks = np.searchsorted(values, estimates, side="right") / len(values)
        assert np.all(np.abs(true_ranks - ranks) <= col.rank_error + 1.0 / len(values))


FRAME = _frame(6_000, seed=1)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, len(FRAME)), max_size=6))
def test_reference_from_partitions_equals_one_process_whatever_the_split(cuts: list[int]) -> None:
    parts = _split(FRAME, cuts)
    ours = profile_reference(LocalPartitions(lambda: parts))
    one = profile_batches(lambda: [FRAME])
    _assert_same_rows(ours, one)
    _assert_quantiles_within_sketch(ours, FRAME)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 4_000), max_size=6))
def test_current_on_a_reference_layout_is_exact_bin_for_bin(cuts: list[int]) -> None:
    reference = profile_batches(lambda: [FRAME])
    current = _frame(4_000, seed=2, shift=0.5)
    ours = profile_current(LocalPartitions(lambda: _split(current, cuts)), reference)
    one = DatasetProfile(reference.schema, layout=reference.layout()).update(current)
    _assert_same_rows(ours, one)
    for name in ("x", "y"):
        a, b = ours.columns[name], one.columns[name]
        assert isinstance(a, NumericProfile) and isinstance(b, NumericProfile)
        np.testing.assert_array_equal(a.bin_counts, b.bin_counts)


def test_same_drift_verdicts_as_one_process_on_a_shifted_dataset() -> None:
    current = _frame(6_000, seed=3, shift=1.0)
    ours = compare_partitions(
        LocalPartitions(lambda: _split(FRAME, [1_000, 2_500, 4_000])),
        LocalPartitions(lambda: _split(current, [100, 3_000])),
    )
    ref = profile_batches(lambda: [FRAME])
    one = build_report(ref, profile_batches(lambda: [current], reference=ref))
    verdicts = {c.name: c.drifted for c in ours.columns}
    assert verdicts == {c.name: c.drifted for c in one.columns}
    assert verdicts["x"] and not verdicts["city"]
    assert ours.drift.drifted == one.drift.drifted


def test_empty_and_all_missing_partitions_change_nothing_but_counts() -> None:
    empty = FRAME.iloc[0:0]
    missing = FRAME.iloc[:50].copy()
    missing["x"] = np.nan
    missing["city"] = None
    parts = [[empty], [FRAME], [], [missing], [empty]]
    ours = profile_reference(LocalPartitions(lambda: parts))
    # one process infers the schema from its first batch, the partitions from their first
    # non-empty one: the same rows, the first batch non-empty
    one = profile_batches(lambda: [FRAME, empty, missing, empty])
    _assert_same_rows(ours, one)
    x = ours.columns["x"]
    assert isinstance(x, NumericProfile)
    assert x.missing == int(FRAME["x"].isna().sum()) + 50


def test_a_partition_with_a_wrongly_typed_column_counts_type_errors_as_one_process() -> None:
    wrong = FRAME.iloc[:40].copy()
    wrong["x"] = ["forty-two"] * 40
    parts = [[FRAME.iloc[:3_000]], [wrong], [FRAME.iloc[3_000:]]]
    reference = profile_batches(lambda: [FRAME])
    ours = profile_current(LocalPartitions(lambda: parts), reference)
    one = profile_batches(lambda: [b for p in parts for b in p], reference=reference)
    _assert_same_rows(ours, one)
    assert ours.type_errors == {"x": 40}


def test_a_dataset_without_rows_gives_the_schema_error_of_one_process() -> None:
    with pytest.raises(SchemaError, match="expected at least one"):
        profile_batches(list)
    with pytest.raises(SchemaError, match="expected at least one row"):
        profile_reference(LocalPartitions(lambda: [[], [FRAME.iloc[0:0]]], name="empty.parquet"))


def test_a_worker_error_reaches_the_driver_as_its_own_class_and_message() -> None:
    err = ColumnTypeError("column 'x': expected a number, got 'a'", field="x", value="a",
                          expected="a number")  # fmt: skip
    part = _error_bytes(err)
    template = profile_template(infer_schema(FRAME))
    good = profile_partition(template, [FRAME])
    assert merge_bytes([good, part]) == part
    with pytest.raises(ColumnTypeError, match="column 'x': expected a number") as info:
        merge_profiles([good, part], template=template)
    assert (info.value.field, info.value.expected) == ("x", "a number")
    assert raise_if_error(good) == good


def test_a_reading_error_inside_a_partition_is_carried_back_as_bytes() -> None:
    template = profile_template(infer_schema(FRAME))

    def unreadable() -> list[pd.DataFrame]:
        raise InvalidBatchError("file 'a.parquet': not a readable parquet file (bad magic)",
                                field="path", value="a.parquet", expected="parquet")  # fmt: skip

    class Lazy:
        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(unreadable())

    part = profile_partition(template, Lazy())
    with pytest.raises(InvalidBatchError, match=r"file 'a\.parquet'"):
        raise_if_error(part)


def test_no_partitions_give_the_empty_template_profile() -> None:
    template = profile_template(infer_schema(FRAME))
    out = merge_profiles([], template=template)
    assert out.n_rows == 0 and list(out.columns) == list(FRAME.columns)


def test_column_groups_joined_equal_all_columns_at_once() -> None:
    reference = profile_batches(lambda: [FRAME])
    template = profile_template(reference.schema, reference.layout())
    whole = merge_profiles([profile_partition(template, [FRAME])], template=template)
    groups = [["x", "note"], ["y"], ["city"]]
    subs = [subset_template(template, g) for g in groups]
    parts = [
        merge_profiles([profile_partition(sub, [FRAME[g]])], template=sub)
        for sub, g in zip(subs, groups, strict=True)
    ]
    joined = join_columns(template, parts)
    assert list(joined.columns) == list(whole.columns)
    _assert_same_rows(joined, whole)


def test_a_layoutless_template_subset_keeps_growing_its_categories() -> None:
    template = profile_template(infer_schema(FRAME))
    sub = subset_template(template, ["city"])
    out = DatasetProfile.from_bytes(profile_partition(sub, [FRAME[["city"]]]))
    city = out.columns["city"]
    assert isinstance(city, CategoricalProfile)
    assert sorted(city.counts) == ["Lima", "Oslo", "Pune", "Rome"] and city.other == 0


def test_a_monitor_takes_a_reference_profiled_from_partitions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from watchkeeper.monitor import Monitor

    ref = profile_reference(LocalPartitions(lambda: _split(FRAME, [2_000])))
    path = tmp_path / "train.wkprof"
    path.write_bytes(ref.to_bytes())
    loaded = DatasetProfile.from_bytes(path.read_bytes())
    with Monitor("m", store="memory://", reference=loaded) as monitor:
        assert monitor.reference is not None
        assert monitor.reference.profile.n_rows == len(FRAME)
        used = monitor.reference.profile.columns["x"]
        assert isinstance(used, NumericProfile)
        np.testing.assert_array_equal(used.edges, ref.columns["x"].edges)


def test_an_arrow_partition_profiles_as_its_pandas_frame() -> None:
    import pyarrow as pa

    reference = profile_batches(lambda: [FRAME])
    template = profile_template(reference.schema, reference.layout())
    arrow = pa.Table.from_pandas(FRAME, preserve_index=False)
    from_arrow = DatasetProfile.from_bytes(profile_partition(template, arrow.to_batches(1_000)))
    from_pandas = DatasetProfile.from_bytes(profile_partition(template, [FRAME]))
    _assert_same_rows(from_arrow, from_pandas)
