"""Segments in the Monitor: known-answer scripts checked against pandas and scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, mean_absolute_error

from watchkeeper.errors import ConfigError
from watchkeeper.monitor import Monitor
from watchkeeper.monitor.clock import ManualClock
from watchkeeper.monitor.window import WindowState
from watchkeeper.profile.segments import OTHER_SEGMENT, SegmentProfile, SegmentSet
from watchkeeper.store import WindowKey

W = 60.0
REGIONS = ["north", "east", "west", "south"]
SHARES = [0.4, 0.25, 0.25, 0.1]


def _frame(rng: np.random.Generator, n: int, *, south_accuracy: float = 0.9) -> pd.DataFrame:
    region = rng.choice(REGIONS, n, p=SHARES)
    label = rng.choice(["yes", "no"], n)
    right = rng.random(n) < np.where(region == "south", south_accuracy, 0.9)
    flipped = np.where(label == "yes", "no", "yes")
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "region": region,
            "channel": rng.choice(["web", "app"], n),
            "label": label,
            "prediction": np.where(right, label, flipped),
        }
    )


def _monitor(rng: np.random.Generator, **options: object) -> Monitor:
    ref = _frame(rng, 8_000)
    ref.loc[:99, "region"] = "tiny"  # a rare value, tracked among the top K
    reference = ref[["age", "region", "channel", "prediction"]]
    options.setdefault("segments", ["region", "channel"])
    return Monitor(
        "m",
        reference=reference,
        store="memory://",
        clock=ManualClock(0.0),
        grace=0,
        rollups=(),
        max_future_skew=None,
        **options,  # type: ignore[arg-type]
    )


def _log(m: Monitor, df: pd.DataFrame, start: float, prefix: str) -> list[str]:
    ids = [f"{prefix}{i}" for i in range(len(df))]
    m.log(
        df[["age", "region", "channel"]],
        {"prediction": df["prediction"].to_numpy(object)},
        ids=ids,
        timestamps=np.full(len(df), start + 1.0),
    )
    return ids


def _by_segment(m: Monitor, name: str, column: str) -> dict[str, float]:
    frame = m.metrics(name, segment_column=column)
    return dict(zip(frame["segment"], frame["value"], strict=True))


def test_accuracy_drop_only_in_south_puts_south_first_with_counts_equal_to_pandas() -> None:
    rng = np.random.default_rng(17)
    m = _monitor(rng)
    cur = _frame(rng, 6_000, south_accuracy=0.55)
    # a 30-row segment with one error
    tiny = _frame(rng, 30).assign(region="tiny")
    tiny["prediction"] = tiny["label"]
    tiny.loc[0, "prediction"] = "yes" if tiny.loc[0, "label"] == "no" else "no"
    cur = pd.concat([cur, tiny], ignore_index=True)
    ids = _log(m, cur, 0.0, "c")
    m.flush()
    m.log_labels(ids, cur["label"].to_numpy(object))
    rank = _by_segment(m, "segment_rank", "region")
    assert min(rank, key=rank.__getitem__) == "south"
    flagged = _by_segment(m, "segment_flagged", "region")
    assert [s for s, v in flagged.items() if v] == ["south"]
    assert rank["south"] < rank["tiny"]
    # counts and accuracy per segment equal pandas groupby + scikit-learn on the same rows
    seg = cur["region"]
    rows = _by_segment(m, "segment_rows", "region")
    labelled = _by_segment(m, "segment_labelled_rows", "region")
    accuracy = _by_segment(m, "segment_accuracy", "region")
    for name, group in cur.groupby(seg):
        assert rows[str(name)] == len(group)
        assert labelled[str(name)] == len(group)
        assert accuracy[str(name)] == pytest.approx(
            accuracy_score(group["label"], group["prediction"])
        )
    south = cur[cur["region"] == "south"]
    expected = confusion_matrix(south["label"], south["prediction"], labels=["no", "yes"])
    confusion = m.metrics("segment_confusion", segment_column="region", segment="south")
    for i, actual in enumerate(["no", "yes"]):
        for j, predicted in enumerate(["no", "yes"]):
            cell = confusion[
                (confusion["actual"] == actual) & (confusion["predicted"] == predicted)
            ]
            assert cell["value"].tolist() == [expected[i, j]]
    channel = _by_segment(m, "segment_flagged", "channel")
    assert set(channel) == {"app", "web"} and not any(channel.values())
    m.close()


def test_regression_mae_per_segment_equals_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    n = 1_000
    ref = {
        "x": rng.normal(size=n),
        "region": rng.choice(REGIONS, n),
        "prediction": rng.normal(size=n),
    }
    m = Monitor("r", reference=ref, store="memory://", clock=ManualClock(0.0), grace=0,
                rollups=(), max_future_skew=None, task="regression",
                segments=["region"])  # fmt: skip
    region = rng.choice(REGIONS, n)
    pred = rng.normal(size=n)
    truth = pred + rng.normal(0, np.where(region == "south", 3.0, 1.0))
    ids = [str(i) for i in range(n)]
    m.log({"x": rng.normal(size=n), "region": region}, {"prediction": pred}, ids=ids,
          timestamps=np.full(n, 1.0))  # fmt: skip
    m.flush()
    m.log_labels(ids, truth)
    mae = _by_segment(m, "segment_mae", "region")
    for name in REGIONS:
        rows = region == name
        assert mae[name] == pytest.approx(mean_absolute_error(truth[rows], pred[rows]))
    rank = _by_segment(m, "segment_rank", "region")
    assert min(rank, key=rank.__getitem__) == "south"
    m.close()


def test_a_feature_shifted_only_in_one_segment_drifts_only_there() -> None:
    rng = np.random.default_rng(5)
    m = _monitor(rng)
    cur = _frame(rng, 8_000)
    cur.loc[cur["region"] == "west", "age"] += 8.0
    _log(m, cur, 0.0, "c")
    m.flush()
    drifted = _by_segment(m, "segment_drifted", "region")
    assert drifted["west"] == 1.0
    assert sum(drifted.values()) == 1.0
    m.close()


def test_window_state_with_segments_round_trips_and_merges() -> None:
    rng = np.random.default_rng(9)
    m = _monitor(rng)
    _log(m, _frame(rng, 500), 0.0, "a")
    m.flush()
    key = WindowKey("m", "1", 0.0, W)
    (blob,) = m.store.window_partials(key).values()
    state = WindowState.from_bytes(blob)
    assert state.segments is not None
    counts = state.segments["region"].counts()
    assert sum(counts.values()) == 500
    both = state.merge(WindowState.from_bytes(blob))
    assert both.segments is not None
    assert both.segments["region"].counts() == {k: 2 * v for k, v in counts.items()}
    assert WindowState.from_bytes(both.to_bytes()).segments is not None
    m.close()


def test_cardinality_stays_bounded_on_a_100k_value_column() -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    data = {"x": rng.normal(size=n), "user": np.array([f"u{i}" for i in range(n)], dtype=object)}
    from watchkeeper.profile import profile_table

    ref = profile_table({"x": data["x"][:1000], "user": data["user"][:1000]})
    fixed = SegmentSet.for_reference(["user"], ref, top_k=20).update_table(data)
    grown = SegmentSet.for_schema(["user"], ref.schema, top_k=20).update_table(data)
    for seg in (fixed, grown):
        part = seg["user"]
        assert len(part.values) <= 20 and len(part.profiles) <= 21
        assert sum(part.counts().values()) == n
    merged = grown.merge(SegmentSet.for_schema(["user"], ref.schema, top_k=20).update_table(
        {"x": data["x"][:500], "user": data["user"][-500:]}
    ))  # fmt: skip
    assert len(merged["user"].profiles) <= 21
    assert sum(merged["user"].counts().values()) == n + 500


def test_segment_profiles_equal_the_profile_of_each_groups_rows() -> None:
    rng = np.random.default_rng(2)
    from watchkeeper.profile import profile_table

    df = _frame(rng, 3_000)
    ref = profile_table(df[["age", "region"]])
    seg = SegmentProfile.for_reference("region", ref, top_k=2).update_table(df[["age", "region"]])
    counts = df["region"].value_counts()
    top = sorted(counts.index, key=lambda v: (-counts[v], v))[:2]
    assert seg.values == sorted(top)
    bucket = df["region"].where(df["region"].isin(seg.values), OTHER_SEGMENT)
    for name, group in df.groupby(bucket):
        profile = seg.profiles[str(name)]
        assert profile.n_rows == len(group)
        assert profile.columns["age"].mean == pytest.approx(group["age"].mean())


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"segments": "region"}, "segments"),
        ({"segments": ["region"], "segment_top_k": 0}, "segment_top_k"),
    ],
)
def test_bad_segment_options_name_the_field(options: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        Monitor("m", store="memory://", **options)  # type: ignore[arg-type]
    assert info.value.field == field


def test_monitor_without_segments_keeps_none() -> None:
    rng = np.random.default_rng(4)
    m = _monitor(rng, segments=[])
    _log(m, _frame(rng, 100), 0.0, "a")
    m.flush()
    (blob,) = m.store.window_partials(WindowKey("m", "1", 0.0, W)).values()
    assert WindowState.from_bytes(blob).segments is None
    assert m.metrics("segment_rows").empty
    m.close()


@pytest.mark.statistical
def test_stationary_segments_drift_at_most_at_the_false_alarm_rate() -> None:
    rng = np.random.default_rng(2027)
    alpha, windows = 0.05, 150
    m = _monitor(rng, segments=["region"], drift={"false_alarm_rate": alpha})
    for w in range(windows):
        _log(m, _frame(rng, 600), w * W, f"w{w}-")
    m.flush()
    frame = m.metrics("segment_drifted", segment_column="region")
    assert frame["window_start"].nunique() == windows
    alarms = frame.groupby("window_start")["value"].max().sum()
    # Bonferroni over a column's segments keeps "any segment drifted" at or below alpha
    assert alarms / windows <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / windows)
    m.close()


def test_the_collector_config_passes_segments_to_the_monitor() -> None:
    from watchkeeper.service.config import parse_config

    doc = {"models": {"churn": {"segments": ["region", "channel"], "segment_top_k": 5}}}
    monitor = parse_config(doc).models["churn"].monitor
    assert (monitor.segments, monitor.segment_top_k) == (("region", "channel"), 5)
    doc["models"]["churn"]["segment_top_k"] = 0
    with pytest.raises(ConfigError, match=r"^models\.churn\.segment_top_k: expected"):
        parse_config(doc)


def test_small_batches_buffered_equal_one_batch() -> None:
    from watchkeeper.profile import profile_table

    rng = np.random.default_rng(8)
    df = _frame(rng, 20_000)
    ref = profile_table(df[["age", "region", "channel"]])
    whole = SegmentSet.for_reference(["region"], ref).update_table(df)
    pieces = SegmentSet.for_reference(["region"], ref)
    for lo in range(0, len(df), 700):  # each piece has its own dictionaries
        pieces.update_table(df.iloc[lo : lo + 700])
    for segment, profile in whole["region"].profiles.items():
        other = pieces["region"].profiles[segment]
        assert other.n_rows == profile.n_rows
        assert other.columns["channel"].counts == profile.columns["channel"].counts
        assert other.columns["age"].mean == pytest.approx(profile.columns["age"].mean)
        assert list(other.columns["age"].bin_counts) == list(profile.columns["age"].bin_counts)


def test_a_reference_with_a_label_column_is_the_baseline_of_the_ranking() -> None:
    rng = np.random.default_rng(6)
    ref = _frame(rng, 6_000)
    schema = {
        "age": "numeric",
        "region": "categorical",
        "channel": "categorical",
        "label": {"kind": "categorical", "role": "label"},
        "prediction": {"kind": "categorical", "role": "output"},
    }
    m = Monitor("m", reference=ref, schema=schema, store="memory://", clock=ManualClock(0.0),
                grace=0, rollups=(), max_future_skew=None, segments=["region"])  # fmt: skip
    cur = _frame(rng, 4_000, south_accuracy=0.5)
    ids = _log(m, cur, 0.0, "c")
    m.flush()
    m.log_labels(ids, cur["label"].to_numpy(object))
    drop = _by_segment(m, "segment_performance_drop", "region")
    for region in REGIONS:
        before, now = ref[ref["region"] == region], cur[cur["region"] == region]
        expected = accuracy_score(before["label"], before["prediction"]) - accuracy_score(
            now["label"], now["prediction"]
        )
        assert drop[region] == pytest.approx(expected)
    rank = _by_segment(m, "segment_rank", "region")
    assert min(rank, key=rank.__getitem__) == "south"
    m.close()


@pytest.mark.parametrize(
    ("column", "message"),
    [("regoin", "not in the schema"), ("age", "is numeric")],
)
def test_a_segment_column_the_schema_cannot_split_by_fails_at_load(
    column: str, message: str
) -> None:
    rng = np.random.default_rng(10)
    with pytest.raises(ConfigError, match=message) as info:
        _monitor(rng, segments=[column])
    assert info.value.field == "segments"
