"""The write path's hardening: event-time bounds (decided once, replayed the same),
idempotency keys reserved at append time, the bounded per-model apply queues, column
limits and per-row tags."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper import wire
from watchkeeper.errors import ConfigError, InvalidBatchError
from watchkeeper.monitor import ManualClock
from watchkeeper.service import Service, parse_config
from watchkeeper.service.event_time import Bounds, _reasons, reason_of
from watchkeeper.service.unavailable import Unavailable

SCHEMA = {"age": "numeric", "prediction": {"kind": "categorical", "role": "output"}}
NOW = 1_000_000.0
W = 60.0


def _config(tmp_path: Path, *, limits: dict[str, int] | None = None, **model: Any) -> Any:
    spec = {"schema": SCHEMA, "grace": "5s", "rollups": [], **model}
    doc = {
        "store": "sqlite:///wk.db",
        "wal_dir": "wal",
        "fsync": False,
        "tick_seconds": 3600,
        "limits": limits or {},
        "models": {"churn": spec, "fraud": {"schema": SCHEMA, "rollups": []}},
    }
    return parse_config(doc, base=tmp_path)


def _body(times: list[Any], prefix: str = "r", **row: Any) -> bytes:
    rows = [
        {"features": {"age": 40.0 + i}, "outputs": "stay", "id": f"{prefix}{i}", "timestamp": t}
        | row
        for i, t in enumerate(times)
    ]
    return json.dumps({"rows": rows}).encode()


def _requests(service: Service, model: str = "churn") -> float:
    service.monitor(model).flush()
    return float(service.monitor(model).metrics("requests")["value"].sum())


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    s = Service(_config(tmp_path, future_rows="reject"), clock=ManualClock(NOW))
    yield s
    s.close()


def test_rows_outside_the_event_time_bounds_are_rejected_with_reasons(service: Service) -> None:
    times = [NOW, NOW + 3600, NOW - 3 * 86400, "soon", NOW + 10, 1e300]
    ack = service.write_predictions("churn", _body(times), wire.JSON, None)
    assert (ack.rows, ack.rejected.count) == (2, 4)
    assert ack.rejected.reasons == {"bad_timestamp": 1, "future": 2, "past": 1}
    assert ack.rejected.first == ((1, "future"), (2, "past"), (3, "bad_timestamp"), (5, "future"))
    assert _requests(service) == 2
    assert service.counts[("rejected_rows", "churn", "future")] == 2
    assert service.counts[("predictions", "churn")] == 2


def test_a_future_row_cannot_move_the_watermark(service: Service) -> None:
    """The poisoning of the issue: one row stamped in 2036 made every later row late."""
    service.write_predictions("churn", _body([2_100_000_000.0]), wire.JSON, None)
    ack = service.write_predictions("churn", _body([NOW + 1, NOW + 2], "b"), wire.JSON, None)
    assert (ack.rows, ack.late_dropped, ack.rejected.count) == (2, 0, 0)
    assert _requests(service) == 2


def test_future_rows_are_clamped_by_default(tmp_path: Path) -> None:
    service = Service(_config(tmp_path, max_future_skew="1m"), clock=ManualClock(NOW))
    try:
        ack = service.write_predictions("churn", _body([NOW, NOW + 1e6]), wire.JSON, None)
        assert (ack.rows, ack.clamped.count, ack.rejected.count) == (2, 1, 0)
        monitor = service.monitor("churn")
        monitor.flush()
        starts = sorted(monitor.metrics("requests")["window_start"].map(lambda t: t.timestamp()))
        assert starts == [NOW // W * W, (NOW + 60) // W * W]  # at the bound, not 11 days on
    finally:
        service.close()


def test_a_replay_keeps_exactly_the_rows_the_first_pass_kept(tmp_path: Path) -> None:
    cfg = _config(tmp_path, future_rows="reject")
    first = Service(cfg, clock=ManualClock(NOW))
    ack = first.write_predictions("churn", _body([NOW, NOW + 3600, NOW + 200]), wire.JSON, None)
    assert ack.rows == 2
    first._stop.set()  # a crash: nothing flushed, the log holds the write
    first._ticker.join()
    first.wal.close()
    first.appliers.close()
    first.store.close()
    # a day later the clock would accept the row at NOW + 3600 and reject the others
    second = Service(cfg, clock=ManualClock(NOW + 86400 * 1.5))
    try:
        assert second.replayed == 1
        assert _requests(second) == 2
        assert second.counts[("rejected_rows", "churn", "future")] == 1
    finally:
        second.close()


def test_signals_outside_the_bounds_are_rejected(service: Service) -> None:
    body = {
        "metrics": [
            {"name": "load", "value": 0.5, "timestamp": NOW},
            {"name": "load", "value": 0.9, "timestamp": 1e300},
        ],
        "events": [{"name": "typed", "timestamp": "not a time"}],
    }
    ack = service.write_signals("churn", json.dumps(body).encode(), None)
    assert (ack.rows, ack.rejected.reasons) == (1, {"bad_timestamp": 1, "future": 1})


def test_labels_of_unknown_ids_are_counted(service: Service) -> None:
    service.write_predictions("churn", _body([NOW, NOW]), wire.JSON, None)
    body = json.dumps({"ids": ["r0", "nope", "r1"], "labels": ["stay", "stay", "churn"]})
    ack = service.write_labels("churn", body.encode(), None)
    assert (ack.rows, ack.unknown_ids) == (3, 1)
    assert service.counts[("unknown_label_ids", "churn")] == 1


def test_too_many_columns_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    limits = {"max_columns_per_batch": 10, "max_schema_columns": 5}
    doc_cfg = _config(tmp_path, limits=limits)
    service = Service(doc_cfg, clock=ManualClock(NOW))
    try:
        wide = {"columns": {f"c{i}": [1.0] for i in range(11)}}
        with pytest.raises(InvalidBatchError, match=r"11 columns; expected at most 10"):
            service.write_predictions("churn", json.dumps(wide).encode(), wire.JSON, None)
        assert service.wal.next_seq == 1
    finally:
        service.close()
    bare = parse_config(
        {
            "store": "sqlite:///b.db",
            "wal_dir": "wal-b",
            "fsync": False,
            "limits": limits,
            "models": {"open": {"rollups": []}},
        },
        base=tmp_path,
    )
    service = Service(bare, clock=ManualClock(NOW))
    try:
        six = {"columns": {f"c{i}": [1.0] for i in range(6)}}
        with pytest.raises(InvalidBatchError, match="without a schema; expected at most 5"):
            service.write_predictions("open", json.dumps(six).encode(), wire.JSON, None)
        five = {"columns": {f"c{i}": [1.0] for i in range(5)}}
        assert service.write_predictions("open", json.dumps(five).encode(), wire.JSON, None)
    finally:
        service.close()


def test_per_row_tags_are_honoured(service: Service) -> None:
    body = _body([NOW, NOW], tags={"region": "eu"})
    service.write_predictions("churn", body, wire.JSON, None)
    monitor = service.monitor("churn")
    monitor.flush()
    tagged = monitor.metrics("tagged_requests")
    assert [(row["region"], row["value"]) for row in tagged.to_dict("records")] == [("eu", 2.0)]
    mixed = json.loads(_body([NOW, NOW, NOW], "m"))
    for row, user in zip(mixed["rows"], "abc", strict=True):
        row["tags"] = {"region": "eu", "user": user}
    service.write_predictions("churn", json.dumps(mixed).encode(), wire.JSON, None)
    monitor.flush()
    tagged = monitor.metrics("tagged_requests")
    counts = sorted(
        (row["region"], row["user"] if isinstance(row["user"], str) else "", row["value"])
        for row in tagged.to_dict("records")
    )
    # every row keeps its own tag set: 2 rows of region only, one row per user
    assert counts == [("eu", "", 2.0), ("eu", "a", 1.0), ("eu", "b", 1.0), ("eu", "c", 1.0)]


def test_a_retry_while_the_original_is_in_flight_gets_the_originals_answer(
    service: Service,
) -> None:
    monitor = service.monitor("churn")
    answers: dict[str, Any] = {}

    def write(name: str) -> None:
        answers[name] = service.write_predictions("churn", _body([NOW] * 3), wire.JSON, "k-1")

    with monitor._lock:  # the model's apply thread stalls on the monitor
        original = threading.Thread(target=write, args=("original",))
        original.start()
        _wait_for(lambda: service.appliers.oldest_pending() is not None)
        retry = threading.Thread(target=write, args=("retry",))
        retry.start()
        time.sleep(0.3)
        assert service.wal.next_seq == 2  # the retry was not logged again
        assert not answers
    original.join(10)
    retry.join(10)
    assert answers["retry"].seq == answers["original"].seq == 1
    assert answers["retry"].duplicate and not answers["original"].duplicate
    assert _requests(service) == 3


def test_a_stalled_model_gets_429_and_does_not_block_the_others(tmp_path: Path) -> None:
    cfg = _config(tmp_path, limits={"max_model_queued_bytes": 2_000})
    service = Service(cfg, clock=ManualClock(NOW))
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            service.write_predictions("churn", _body([NOW] * 5, f"s{i}-"), wire.JSON, None)
        except Unavailable as exc:
            errors.append(exc)

    try:
        with service.monitor("churn")._lock:  # churn's apply thread stalls
            threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
            for t in threads:
                t.start()
            _wait_for(lambda: len(errors) >= 1)
            ack = service.write_predictions("fraud", _body([NOW] * 4), wire.JSON, None)
            assert ack.rows == 4  # another model is applied meanwhile
        for t in threads:
            t.join(10)
        assert all(isinstance(e, Unavailable) and e.status == 429 for e in errors)
        assert errors[0].retry_after > 0
        assert _requests(service) == 5 * (6 - len(errors))
    finally:
        service.close()


def test_bad_event_time_settings_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.churn\.max_future_skew"):
        _config(tmp_path, max_future_skew="soon")
    with pytest.raises(ConfigError, match=r"models\.churn\.future_rows: expected clamp or reject"):
        _config(tmp_path, future_rows="drop")


def test_a_version_name_that_is_no_file_name_is_refused(service: Service) -> None:
    with pytest.raises(ConfigError, match=r"version: .* is not a version name"):
        service.register_version("churn", "v" * 300, None)
    with pytest.raises(ConfigError, match="version"):
        service.register_version("churn", "../../etc", None)


def _wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


@settings(max_examples=200, deadline=None)
@given(
    times=st.lists(
        st.none()
        | st.floats(allow_nan=True)
        | st.floats(NOW - 2 * 86400, NOW + 600)
        | st.integers(int(NOW) - 2 * 86400, int(NOW) + 600)
        | st.integers(min_value=-(10**400), max_value=10**400)
        | st.text(max_size=5)
    )
)
def test_the_vectorised_bounds_give_the_row_by_row_reasons(times: list[Any]) -> None:
    bounds = Bounds(NOW - 86400, NOW + 300)
    assert _reasons(times, bounds) == [reason_of(t, bounds) for t in times]


def test_per_row_tags_are_counted_per_tag_set(service: Service) -> None:
    rows = [
        {"features": {"age": 40.0}, "outputs": "stay", "timestamp": NOW, "tags": tags}
        for tags in ({"region": "eu"}, {"region": "us"}, {"region": "eu"}, None)
    ]
    body = json.dumps({"rows": rows, "tags": {"app": "ios"}}).encode()
    ack = service.write_predictions("churn", body, wire.JSON, None)
    assert ack.rows == 4
    service.monitor("churn").flush()
    frame = service.monitor("churn").metrics("tagged_requests")
    counts = sorted(
        (row["app"], row["region"] if isinstance(row["region"], str) else "", row["value"])
        for row in frame.to_dict("records")
    )
    assert counts == [("ios", "", 1.0), ("ios", "eu", 2.0), ("ios", "us", 1.0)]
