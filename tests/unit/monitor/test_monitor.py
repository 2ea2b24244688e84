"""The Monitor on scripted streams: windows, drift timing, labels, corrections, restarts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from watchkeeper.errors import ConfigError
from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.profile import profile_table

W = 60.0


def _starts(frame: pd.DataFrame) -> list[float]:
    return [t.timestamp() for t in frame["window_start"]]


def _reference(rng: np.random.Generator, n: int = 20_000) -> dict[str, np.ndarray]:
    return {
        "age": rng.normal(40, 10, n),
        "income": rng.lognormal(10, 0.5, n),
        "city": rng.choice(["oslo", "rome", "lima"], n, p=[0.5, 0.3, 0.2]),
        "prediction": rng.choice(["no", "yes"], n, p=[0.7, 0.3]),
        "score": rng.random(n),
    }


def _batch(rng: np.random.Generator, n: int, age_shift: float = 0.0) -> tuple[dict, dict]:
    feats = {
        "age": rng.normal(40 + age_shift, 10, n),
        "income": rng.lognormal(10, 0.5, n),
        "city": rng.choice(["oslo", "rome", "lima"], n, p=[0.5, 0.3, 0.2]),
    }
    score = rng.random(n)
    outs = {"prediction": np.where(score > 0.7, "yes", "no"), "score": score}
    return feats, outs


def _monitor(rng: np.random.Generator, store: str = "memory://", **kw) -> Monitor:
    kw.setdefault("clock", ManualClock(0.0))
    kw.setdefault("grace", 5)
    kw.setdefault("max_future_skew", None)  # event time runs ahead of this frozen clock
    return Monitor("churn", reference=_reference(rng), store=store, **kw)


def test_drift_turns_on_in_the_first_window_after_the_shift_and_never_before() -> None:
    rng = np.random.default_rng(7)
    m = _monitor(rng)
    shift_window = 12
    for w in range(20):
        feats, outs = _batch(rng, 2_000, age_shift=4.0 if w >= shift_window else 0.0)
        m.log(feats, outs, timestamps=w * W + rng.uniform(0, W, 2_000))
    m.flush()
    age = m.metrics("feature_drifted", feature="age")
    starts = _starts(age)
    drifted = age["value"].to_numpy()
    assert list(starts) == [w * W for w in range(20)]
    assert drifted[:shift_window].sum() == 0
    assert drifted[shift_window:].all()
    others = m.metrics("feature_drifted")
    assert others[others["feature"] != "age"]["value"].sum() <= 1  # alpha-level false alarms
    share = m.metrics("dataset_drift_share")["value"].to_numpy()
    assert share[shift_window] == pytest.approx(1 / 3)
    assert m.rejected_calls == 0


def test_window_figures_match_numpy_on_the_same_rows() -> None:
    rng = np.random.default_rng(3)
    m = _monitor(rng, rollups=())
    feats, outs = _batch(rng, 5_000)
    feats["age"][:250] = np.nan
    latency = rng.exponential(0.05, 5_000)
    errors = np.where(rng.random(5_000) < 0.02, "timeout", None)
    m.log(feats, outs, timestamps=rng.uniform(0, W, 5_000), latency=latency, error=errors)
    m.flush()

    def value(name: str, **labels: str) -> float:
        frame = m.metrics(name, **labels)
        assert len(frame) == 1, (name, labels, frame)
        return float(frame["value"].iloc[0])

    assert value("requests") == 5_000
    assert value("throughput_per_second") == pytest.approx(5_000 / W)
    assert value("missing_ratio", feature="age") == pytest.approx(0.05)
    assert value("mean", feature="age") == pytest.approx(np.nanmean(feats["age"]))
    assert value("std", feature="age") == pytest.approx(np.nanstd(feats["age"]))
    n_err = int((errors == "timeout").sum())
    assert value("errors", kind="timeout") == n_err
    assert value("error_rate") == pytest.approx(n_err / 5_000)
    for q in (0.5, 0.95, 0.99):
        got = value("latency_seconds", quantile=str(q))
        rank = float(np.mean(latency <= got))
        assert abs(rank - q) < 0.02  # KLL k=200 rank error is about 1.3%
    assert value("class_frequency", output="prediction", **{"class": "yes"}) == pytest.approx(
        np.mean(outs["prediction"] == "yes")
    )
    assert value("output_quantile", output="score", quantile="0.5") == pytest.approx(
        np.quantile(outs["score"], 0.5), abs=0.02
    )


def test_late_labels_update_their_window_and_report_bad_ids() -> None:
    rng = np.random.default_rng(11)
    m = _monitor(rng)
    kept: dict[int, tuple[list[str], np.ndarray, np.ndarray]] = {}
    for w in range(6):
        feats, outs = _batch(rng, 1_000)
        ids = [f"{w}-{i}" for i in range(1_000)]
        m.log(feats, outs, ids=ids, timestamps=w * W + rng.uniform(0, W, 1_000))
        kept[w] = (ids, outs["prediction"], outs["score"])
    before = m.metrics("accuracy")
    assert before.empty  # no labels yet
    ids, pred, score = kept[2]
    truth = np.where(rng.random(1_000) < score, "yes", "no")
    half = 600
    report = m.log_labels(
        [*ids[:half], "never-seen", ids[0]], [*truth[:half], "yes", "no"], timestamps=6 * W
    )
    assert report.joined == half
    assert report.unknown_ids == ("never-seen",)
    assert report.duplicate_ids == (ids[0],)
    again = m.log_labels(ids[:10], truth[:10])
    assert again.joined == 0 and len(again.duplicate_ids) == 10

    acc = m.metrics("accuracy")
    assert _starts(acc) == [2 * W]
    assert acc["value"].iloc[0] == pytest.approx(skm.accuracy_score(truth[:half], pred[:half]))
    auc = m.metrics("roc_auc")["value"].iloc[0]
    y = truth[:half] == "yes"
    assert auc == pytest.approx(skm.roc_auc_score(y, score[:half]))
    assert m.metrics("labelled_rows")["value"].max() == half
    coverage = m.metrics("label_coverage")
    assert coverage.set_index(pd.Index(_starts(coverage)))["value"][2 * W] == pytest.approx(
        half / 1_000
    )
    f1 = m.metrics("f1")["value"].iloc[0]
    assert f1 == pytest.approx(skm.f1_score(truth[:half], pred[:half], pos_label="yes"))


def test_regression_performance_matches_sklearn() -> None:
    rng = np.random.default_rng(5)
    ref = {"x": rng.normal(size=5_000), "prediction": rng.normal(size=5_000)}
    m = Monitor("reg", reference=ref, store="memory://", clock=ManualClock(), grace=0)
    x = rng.normal(size=800)
    pred = 2 * x + rng.normal(0, 0.1, 800)
    m.log({"x": x}, pred, ids=[str(i) for i in range(800)], timestamps=np.full(800, 10.0))
    truth = 2 * x + rng.normal(0, 0.3, 800)
    m.log_labels([str(i) for i in range(800)], truth)
    m.flush()
    got = {n: float(m.metrics(n)["value"].iloc[0]) for n in ("mae", "rmse", "r2")}
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(truth, pred))
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(truth, pred)))
    assert got["r2"] == pytest.approx(skm.r2_score(truth, pred))


def test_late_rows_within_grace_join_their_window_and_later_ones_correct_it() -> None:
    rng = np.random.default_rng(2)
    m = _monitor(rng, grace=10, rollups=("1h",))
    feats, outs = _batch(rng, 100)
    m.log(feats, outs, timestamps=np.full(100, 30.0))
    feats, outs = _batch(rng, 50)
    m.log(feats, outs, timestamps=np.full(50, 65.0))  # window 0 still in grace (ends 70)
    feats, outs = _batch(rng, 10)
    m.log(feats, outs, timestamps=np.full(10, 59.0))  # late but within grace
    assert m.metrics("requests").empty
    feats, outs = _batch(rng, 5)
    m.log(feats, outs, timestamps=np.full(5, 200.0))  # closes windows 0 and 1
    requests = m.metrics("requests")
    assert requests["value"].tolist() == [110.0, 50.0]
    feats, outs = _batch(rng, 7)
    m.log(feats, outs, timestamps=np.full(7, 20.0))  # window 0 closed: a correction
    assert m.metrics("requests")["value"].tolist() == [117.0, 50.0]
    m.flush()
    assert m.metrics("requests", window="1h")["value"].tolist() == [172.0]


def test_rollups_merge_finer_windows() -> None:
    rng = np.random.default_rng(4)
    m = _monitor(rng, window="10m", rollups=("1h", "1d"))
    total = 0
    for w in range(15):  # two and a half hours of 10-minute windows
        n = 300 + 10 * w
        total += n
        feats, outs = _batch(rng, n, age_shift=5.0 if w >= 6 else 0.0)
        m.log(feats, outs, timestamps=w * 600 + rng.uniform(0, 600, n))
    hourly_before_flush = m.metrics("requests", window="1h")
    assert len(hourly_before_flush) == 2  # the third hour is still running
    m.flush()
    hourly = m.metrics("requests", window="1h")["value"].tolist()
    assert hourly == [sum(300 + 10 * w for w in range(h * 6, min(h * 6 + 6, 15))) for h in range(3)]
    assert m.metrics("requests", window="1d")["value"].tolist() == [total]
    drift = m.metrics("feature_drifted", window="1h", feature="age")["value"].tolist()
    assert drift == [0.0, 1.0, 1.0]
    with pytest.raises(ConfigError, match="not analysed"):
        m.metrics("requests", window="5m")


def test_a_restart_on_the_same_store_continues_the_series(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    url = f"sqlite:///{tmp_path / 'wk.db'}"
    first = _monitor(rng, store=url, writer="a")
    for w in range(4):
        feats, outs = _batch(rng, 500)
        first.log(feats, outs, timestamps=w * W + rng.uniform(0, W, 500))
    first.close()
    second = Monitor("churn", store=url, clock=ManualClock(), grace=5, writer="b",
                     max_future_skew=None)  # no reference  # fmt: skip
    assert second.schema is not None and second.task.kind == "classification"
    for w in range(4, 8):
        feats, outs = _batch(rng, 500)
        second.log(feats, outs, timestamps=w * W + rng.uniform(0, W, 500))
    second.flush()
    requests = second.metrics("requests")
    assert _starts(requests) == [w * W for w in range(8)]
    refs = second.metrics("feature_drift")["reference_id"].unique().tolist()
    assert len(refs) == 1  # the stored reference was reused, not saved again
    second.close()


def test_a_new_reference_applies_from_then_on_and_old_points_keep_theirs() -> None:
    rng = np.random.default_rng(12)
    m = _monitor(rng)
    feats, outs = _batch(rng, 1_000, age_shift=6.0)
    m.log(feats, outs, timestamps=rng.uniform(0, W, 1_000))
    m.flush()
    shifted = _reference(rng)
    shifted["age"] = shifted["age"] + 6.0
    new_id = m.set_reference(shifted)
    feats, outs = _batch(rng, 1_000, age_shift=6.0)
    m.log(feats, outs, timestamps=W + rng.uniform(0, W, 1_000))
    m.flush()
    age = m.metrics("feature_drifted", feature="age")
    assert age["value"].tolist() == [1.0, 0.0]
    assert age["reference_id"].tolist()[1] == new_id
    assert age["reference_id"].tolist()[0] != new_id


def test_bad_input_is_counted_with_its_reason_and_never_raises() -> None:
    rng = np.random.default_rng(1)
    m = _monitor(rng, rollups=())
    m.log("not a batch")  # type: ignore[arg-type]
    m.log({"age": [1.0, 2.0]}, outputs=[0.1, 0.2, 0.3])  # outputs of the wrong length
    m.log(
        {"age": "forty-two", "income": 1e4, "city": "oslo"},
        {"prediction": "no", "score": 0.1},
        timestamps=1.0,
    )
    m.log(
        {"age": 41.0, "income": 2e4, "city": "oslo"},
        {"prediction": "no", "score": 0.2},
        timestamps=2.0,
    )
    m.log_metric("typing_share", "lots")  # type: ignore[arg-type]
    m.log_labels(["a", "b"], ["yes"])
    m.flush()
    assert m.rejected_calls == 4
    reasons = [issue["reason"] for issue in m.recent_issues]
    assert any("outputs: 3 rows for 2 predictions" in r for r in reasons)
    assert any("'forty-two'" in r for r in reasons)
    assert m.metrics("requests")["value"].tolist() == [2.0]
    assert m.metrics("type_errors", feature="age")["value"].tolist() == [1.0]
    assert m.metrics("rejected_values", column="age", problem="type_error")["value"].tolist() == [
        1.0
    ]
    assert m.metrics("missing_ratio", feature="age")["value"].tolist() == [0.5]


def test_outputs_can_be_text_with_empty_answers() -> None:
    rng = np.random.default_rng(6)
    words = rng.choice(["hello world", "turn on the light", "call mum"], 4_000)
    ref = {"duration": rng.uniform(1, 5, 4_000), "prediction": words}
    m = Monitor(
        "asr", reference=ref, store="memory://", clock=ManualClock(), grace=0, rollups=(),
        outputs=["prediction"],
    )  # fmt: skip
    current = rng.choice(["hello world", "", "call mum"], 1_000, p=[0.5, 0.3, 0.2])
    m.log({"duration": rng.uniform(1, 5, 1_000)}, current, timestamps=np.full(1_000, 5.0))
    m.flush()
    empty = m.metrics("empty_output_ratio", output="prediction")["value"].iloc[0]
    assert empty == pytest.approx(np.mean(current == ""))


def test_custom_metrics_events_and_tags_are_counted_per_window_and_bounded() -> None:
    rng = np.random.default_rng(8)
    m = _monitor(rng, rollups=())
    for i in range(10):
        m.log_metric("typing_share", i / 10, {"app": "ios"}, timestamp=float(i))
    for _ in range(3):
        m.log_event("switched_to_typing", timestamp=5.0)
    for i in range(300):  # a stream of unbounded tag values
        feats, outs = _batch(rng, 1)
        row = {k: v[0] for k, v in feats.items()}
        m.log(row, {k: v[0] for k, v in outs.items()}, timestamps=10.0, tags={"user": f"u{i}"})
    m.flush()
    custom = m.metrics("custom_metric", metric="typing_share", app="ios")
    stats = dict(zip(custom["stat"], custom["value"], strict=True))
    assert stats["count"] == 10 and stats["sum"] == pytest.approx(4.5)
    assert stats["min"] == 0.0 and stats["max"] == pytest.approx(0.9)
    assert m.metrics("event_count", event="switched_to_typing")["value"].tolist() == [3.0]
    tagged = m.metrics("tagged_requests")
    assert len(tagged) <= 101 and tagged["value"].sum() == 300


def test_writers_store_partials_that_merge_on_read() -> None:
    rng = np.random.default_rng(10)
    from watchkeeper.store import MemoryStore

    store = MemoryStore()
    ref = _reference(rng)
    a = Monitor("churn", reference=ref, store=store, clock=ManualClock(), writer="a", grace=0)
    b = Monitor("churn", reference=ref, store=store, clock=ManualClock(), writer="b", grace=0)
    for mon, n in ((a, 300), (b, 200)):
        feats, outs = _batch(rng, n)
        mon.log(feats, outs, timestamps=np.full(n, 30.0))
    a.flush()
    assert a.metrics("requests")["value"].tolist() == [300.0]
    b.flush()  # b closes last and analyses both partials
    assert b.metrics("requests")["value"].tolist() == [500.0]


def test_single_rows_and_batches_give_the_same_profile() -> None:
    rng = np.random.default_rng(13)
    ref = profile_table(_reference(rng))  # one reference: its sketch is randomised when built
    feats, outs = _batch(rng, 700)
    ts = np.sort(rng.uniform(0, 3 * W, 700))
    one = Monitor(
        "a", reference=ref, store="memory://", clock=ManualClock(), grace=0, batch_size=64
    )
    for i in range(700):
        one.log(
            {k: v[i] for k, v in feats.items()},
            {k: v[i] for k, v in outs.items()},
            timestamps=ts[i],
        )
    one.flush()
    batch = Monitor("a", reference=ref, store="memory://", clock=ManualClock(), grace=0)
    batch.log(pd.DataFrame(feats), pd.DataFrame(outs), timestamps=ts)
    batch.flush()
    cols = ["window_start", "name", "value"]
    left = one.metrics().sort_values([*cols[:2], "feature"]).reset_index(drop=True)
    right = batch.metrics().sort_values([*cols[:2], "feature"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-9)


def test_constructor_rejects_bad_configuration() -> None:
    with pytest.raises(ConfigError, match="window: expected a duration"):
        Monitor("m", store="memory://", window="often")
    with pytest.raises(ConfigError, match="rollups"):
        Monitor("m", store="memory://", window="7m", rollups=("1h",))
    with pytest.raises(ConfigError, match="model: expected a non-empty string"):
        Monitor("", store="memory://")


def test_unit_change_and_new_category_show_as_data_quality() -> None:
    rng = np.random.default_rng(14)
    m = _monitor(rng, rollups=())
    feats, outs = _batch(rng, 2_000)
    feats["income"] = feats["income"] * 1000  # metres to millimetres
    feats["city"] = np.where(rng.random(2_000) < 0.25, "paris", feats["city"])
    m.log(feats, outs, timestamps=np.full(2_000, 10.0))
    m.flush()
    ref_income = _reference(np.random.default_rng(14))["income"]
    expected = np.mean((feats["income"] < ref_income.min()) | (feats["income"] > ref_income.max()))
    got = m.metrics("out_of_range_share", feature="income")["value"].iloc[0]
    assert got == pytest.approx(expected)
    assert got > 0.9
    new_share = m.metrics("new_category_share", feature="city")["value"].iloc[0]
    assert new_share == pytest.approx(np.mean(feats["city"] == "paris"))
    assert m.metrics("new_categories", feature="city")["value"].iloc[0] == 1
    assert m.metrics("feature_drifted", feature="income")["value"].iloc[0] == 1.0


def test_a_batch_spanning_windows_is_split_by_event_time() -> None:
    rng = np.random.default_rng(15)
    m = _monitor(rng, rollups=())
    feats, outs = _batch(rng, 1_000)
    ts = rng.uniform(0, 5 * W, 1_000)
    m.log(feats, outs, timestamps=ts)
    m.flush()
    got = m.metrics("requests")["value"].tolist()
    assert got == [float(np.sum((ts >= w * W) & (ts < (w + 1) * W))) for w in range(5)]
    means = m.metrics("mean", feature="age")["value"].to_numpy()
    for w in range(5):
        in_window = (ts >= w * W) & (ts < (w + 1) * W)
        assert means[w] == pytest.approx(feats["age"][in_window].mean())


def test_tick_closes_quiet_windows_by_the_clock() -> None:
    rng = np.random.default_rng(16)
    clock = ManualClock(1_000.0)
    m = _monitor(rng, clock=clock, rollups=())
    feats, outs = _batch(rng, 10)
    m.log(feats, outs)  # event time = the clock
    m.tick()
    assert m.metrics("requests").empty
    clock.advance(W + 10)
    m.tick()
    assert m.metrics("requests")["value"].tolist() == [10.0]


def test_class_probabilities_and_a_reference_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(17)
    ref = pd.DataFrame({"x": rng.normal(size=3_000), "proba_0": rng.random(3_000)})
    ref["proba_1"] = 1 - ref["proba_0"]
    path = tmp_path / "reference.parquet"
    ref.to_parquet(path)
    m = Monitor(
        "probs", reference=path, store="memory://", clock=ManualClock(), grace=0, rollups=(),
        outputs=["proba_0", "proba_1"],
    )  # fmt: skip
    assert [c.name for c in m.schema.with_role("output")] == ["proba_0", "proba_1"]
    p0 = rng.random(500)
    for i in range(500):
        m.log({"x": float(rng.normal())}, [p0[i], 1 - p0[i]], timestamps=5.0)
    m.flush()
    q = m.metrics("output_quantile", output="proba_0", quantile="0.5")["value"].iloc[0]
    assert q == pytest.approx(np.quantile(p0, 0.5), abs=0.01)


def test_the_default_instance_is_flushed_at_exit(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'wk.db'}"
    script = (
        "import numpy as np\n"
        "from watchkeeper.monitor import init\n"
        f"m = init('exit', reference={{'x': np.arange(100.0)}}, store={url!r})\n"
        "for i in range(7):\n"
        "    m.log({'x': float(i)})\n"
        # no close(): the atexit hook must flush the open window
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    after = Monitor("exit", store=url)
    assert after.metrics("requests")["value"].sum() == 7
    after.close()


def test_errors_land_in_the_window_of_their_row_and_bad_ids_record_nothing() -> None:
    rng = np.random.default_rng(18)
    m = _monitor(rng, rollups=())
    feats, outs = _batch(rng, 4)
    m.log(feats, outs, timestamps=[10.0, 70.0, 75.0, 130.0], error=[None, "oom", True, None])
    feats, outs = _batch(rng, 3)
    m.log(feats, outs, ids="abc-but-a-string-of-wrong-length", timestamps=10.0)
    m.flush()
    assert m.rejected_calls == 1
    assert m.metrics("requests")["value"].tolist() == [1.0, 2.0, 1.0]
    errors = m.metrics("errors")
    assert [
        (t.timestamp(), k, v)
        for t, k, v in zip(_starts_dt(errors), errors["kind"], errors["value"], strict=True)
    ] == [
        (60.0, "error", 1.0),
        (60.0, "oom", 1.0),
    ]
    assert m.metrics("error_rate")["value"].tolist() == [0.0, 1.0, 0.0]


def _starts_dt(frame: pd.DataFrame) -> list[pd.Timestamp]:
    return list(frame["window_start"])


def test_old_window_states_are_purged_and_rows_for_them_dropped_and_counted() -> None:
    rng = np.random.default_rng(19)
    m = _monitor(rng, rollups=(), window_retention="5m")
    for w in range(12):
        feats, outs = _batch(rng, 50)
        m.log(feats, outs, timestamps=np.full(50, w * W + 1))
    m.wait_analysed()  # purged off the caller's thread
    stored = m.store.window_starts("churn", "1", W, 0.0, 1e9)
    assert 0.0 not in stored and len(stored) < 12  # old states purged (every 5 min here)
    feats, outs = _batch(rng, 3)
    m.log(feats, outs, timestamps=np.full(3, 1.0))  # window 0: its state is gone
    m.log_metric("late_signal", 1.0, timestamp=1.0)
    m.flush()
    assert m.late_dropped == 4
    assert any(i["problem"] == "too_late" for i in m.recent_issues)
    requests = m.metrics("requests")["value"].tolist()
    assert requests == [50.0] * 12  # every window's figures kept; window 0 not overwritten
    with pytest.raises(ConfigError, match="window_retention"):
        _monitor(rng, window="1m", rollups=("1h",), window_retention="30m")


def test_replaying_numbered_batches_counts_every_row_once(tmp_path: Path) -> None:
    rng = np.random.default_rng(22)
    url = f"sqlite:///{tmp_path / 'wk.db'}"
    batches = []
    for seq in range(10):
        feats, outs = _batch(rng, 100)
        batches.append((seq, feats, outs, seq * 25.0 + rng.uniform(0, 25, 100)))
    ref = profile_table(_reference(rng))
    first = Monitor("churn", reference=ref, store=url, clock=ManualClock(),
                    grace=5, writer="collector", rollups=())  # fmt: skip
    for seq, feats, outs, ts in batches[:7]:
        first.log(feats, outs, timestamps=ts, seq=seq)
    # crash: no flush; windows 0..1 were closed and stored, window 2 (t 120..180) open
    second = Monitor("churn", store=url, clock=ManualClock(), grace=5, writer="collector",
                     rollups=())  # fmt: skip
    for seq, feats, outs, ts in batches:  # the whole log replayed, then new batches
        second.log(feats, outs, timestamps=ts, seq=seq)
    second.flush()
    requests = second.metrics("requests")["value"].tolist()
    assert sum(requests) == 1_000
    assert requests == [
        float(sum(np.sum((b[3] >= w * W) & (b[3] < (w + 1) * W)) for b in batches))
        for w in range(5)
    ]


def test_a_failing_analysis_keeps_the_window_and_never_reaches_the_caller() -> None:
    from watchkeeper.store import MemoryStore

    class BrokenJoin(MemoryStore):  # fault injection: the label join fails
        def labelled(self, *args: object, **kwargs: object):  # type: ignore[override]
            raise RuntimeError("disk on fire")

    rng = np.random.default_rng(23)
    store = BrokenJoin()
    m = Monitor("churn", reference=_reference(rng), store=store, clock=ManualClock(), grace=0,
                rollups=())  # fmt: skip
    feats, outs = _batch(rng, 100)
    m.log(feats, outs, timestamps=np.full(100, 5.0))
    feats, outs = _batch(rng, 10)
    m.log(feats, outs, timestamps=np.full(10, 100.0))  # closes window 0: analysis fails
    m.wait_analysed()
    assert m.rejected_calls == 0
    assert m.analysis_errors == 1
    assert store.window_starts("churn", "1", W, 0.0, 1e9) == [0.0]  # the state was saved


def test_replayed_signals_count_once() -> None:
    rng = np.random.default_rng(24)
    m = _monitor(rng, rollups=())
    record = ([("clicks", 2.0, {"app": "web"}, 5.0), ("clicks", 3.0, {"app": "web"}, 70.0)],
              [("switched", 6.0)])  # fmt: skip
    m.log_signals(*record, seq=7)
    m.log_signals(*record, seq=7)  # the same log record replayed
    m.log_signals([("clicks", 1.0, {"app": "web"}, 8.0)], seq=8)
    m.flush()
    sums = m.metrics("custom_metric", metric="clicks", stat="sum")["value"].tolist()
    assert sums == [3.0, 3.0]
    assert m.metrics("event_count")["value"].tolist() == [1.0]


def test_point_names_list_every_name_the_analysis_writes() -> None:
    from watchkeeper.metrics import SATURATION
    from watchkeeper.monitor.analysis import POINT_NAMES

    rng = np.random.default_rng(25)
    # multivariate drift and segments on too: their points are catalogued names as well
    m = _monitor(
        rng,
        rollups=(),
        multivariate={"classifier": "always", "n_permutations": 5},
        segments=["city"],
    )
    # labelled reference rows for the performance estimate (its own generator, so the
    # stream below is the same as without it)
    est = np.random.default_rng(1)
    ref_feats, ref_outs = _batch(est, 2_000)
    truth = np.where(est.random(2_000) < ref_outs["score"], "yes", "no")
    m.fit_estimator({**ref_feats, **ref_outs}, truth)
    feats, outs = _batch(rng, 300)
    ids = [str(i) for i in range(300)]
    m.log(feats, outs, ids=ids, timestamps=np.full(300, 5.0), latency=0.01, error="x",
          tags={"a": "b"})  # fmt: skip
    m.log({"age": "bad"}, timestamps=6.0)
    m.log_labels(ids, outs["prediction"])
    m.log_metric("c", 1.0, timestamp=5.0)
    m.log_event("e", timestamp=5.0)
    for name in SATURATION:  # a service instance's saturation samples
        m.log_metric(name, 1.0, {"instance_id": "a"}, timestamp=5.0)
    m.flush()
    written = set(m.metrics()["name"])
    assert written <= POINT_NAMES
    # regression-only, text-only and embedding-only names, and the causes of a drifted
    # window (all written by tests/unit/test_metrics.py's scenarios)
    regression = {"mae", "mape", "r2", "rmse", "estimated_mae", "estimated_rmse", "segment_mae"}
    embedding = {"embedding_drift", "embedding_drift_threshold", "embedding_drifted"}
    assert POINT_NAMES - written <= regression | embedding | {"empty_ratio", "root_cause_score"}


def test_rows_without_an_id_in_a_batch_are_not_kept_for_labels() -> None:
    rng = np.random.default_rng(26)
    m = _monitor(rng, rollups=())
    feats, outs = _batch(rng, 3)
    m.log(feats, outs, ids=["a", None, "c"], timestamps=np.full(3, 5.0))
    report = m.log_labels(["a", "None", "c"], ["yes", "no", "no"])
    assert report.joined == 2 and report.unknown_ids == ("None",)
