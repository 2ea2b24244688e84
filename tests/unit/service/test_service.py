"""The application service without HTTP: checked writes, the log, replay, silences."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from watchkeeper import wire
from watchkeeper.errors import ConfigError, InvalidBatchError
from watchkeeper.monitor import ManualClock
from watchkeeper.service import Ack, Service, parse_config
from watchkeeper.service.records import decode_record

W = 60.0
SCHEMA = {
    "age": "numeric",
    "plan": "categorical",
    "prediction": {"kind": "categorical", "role": "output"},
}
RULES = [
    {
        "name": "AgeDrifting",
        "metric": "feature_drifted",
        "labels": {"feature": "age"},
        "op": ">=",
        "threshold": 1,
    }
]


def _config(tmp_path: Path, **extra: Any) -> Any:
    doc = {
        "store": "sqlite:///wk.db",
        "wal_dir": "wal",
        "fsync": False,
        "tick_seconds": 3600,  # the tests tick by hand
        "limits": {"max_rows_per_batch": 100},
        "models": {"churn": {"schema": SCHEMA, "grace": "5s", "rollups": []}},
        **extra,
    }
    return parse_config(doc, base=tmp_path)


def _body(n: int, start: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    rows = [
        {
            "features": {"age": float(rng.normal(40, 10)), "plan": "free"},
            "outputs": {"prediction": "stay"},
            "id": f"r{start:.0f}-{i}",
            "timestamp": start + i * 0.01,
            "latency": 0.01,
        }
        for i in range(n)
    ]
    return json.dumps({"rows": rows}).encode()


def _requests(service: Service) -> list[float]:
    return list(service.monitor("churn").metrics("requests")["value"])


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    s = Service(_config(tmp_path), clock=ManualClock(0.0))
    yield s
    s.close()


def test_a_write_is_logged_applied_then_acknowledged(service: Service) -> None:
    ack = service.write_predictions("churn", _body(20, 1.0), wire.JSON, None)
    assert ack == Ack(seq=1, rows=20)
    assert service.counts[("predictions", "churn")] == 20  # applied before the answer
    ((seq, payload),) = list(service.wal.replay())
    header, body = decode_record(payload)
    assert (seq, header.kind, header.model, header.n, body) == (
        1,
        "predictions",
        "churn",
        20,
        _body(20, 1.0),
    )
    service.write_predictions("churn", _body(1, 200.0), wire.JSON, None)
    service.tick()  # event time moved on: window 0 closes
    assert _requests(service) == [20.0]


def test_a_retried_key_is_acknowledged_again_and_counted_once(service: Service) -> None:
    first = service.write_predictions("churn", _body(20, 1.0), wire.JSON, "batch-1")
    again = service.write_predictions("churn", _body(20, 1.0), wire.JSON, "batch-1")
    assert again == Ack(first.seq, first.rows, duplicate=True)
    assert service.wal.next_seq == 2
    assert service.counts[("predictions", "churn")] == 20


def test_bad_writes_are_refused_before_anything_is_logged(service: Service) -> None:
    with pytest.raises(ConfigError) as unknown:
        service.write_predictions("fraud", _body(1, 1.0), wire.JSON, None)
    assert unknown.value.field == "model"
    with pytest.raises(InvalidBatchError):
        service.write_predictions("churn", b"{not json", wire.JSON, None)
    with pytest.raises(InvalidBatchError, match="expected at most 100 per batch"):
        service.write_predictions("churn", _body(101, 1.0), wire.JSON, None)
    with pytest.raises(InvalidBatchError):
        service.write_labels("churn", b'{"ids": ["a"]}', None)
    assert service.wal.next_seq == 1 and list(service.wal.replay()) == []


def test_labels_and_signals_are_logged_with_what_they_hold(service: Service) -> None:
    service.write_predictions("churn", _body(2, 1.0), wire.JSON, None)
    labels = json.dumps({"ids": ["r1-0", "r1-1"], "labels": ["stay", "churn"]}).encode()
    assert service.write_labels("churn", labels, None) == Ack(2, 2)
    signals = json.dumps(
        {"metrics": [{"name": "load", "value": 0.5}], "events": [{"name": "switch"}]}
    ).encode()
    assert service.write_signals("churn", signals, None) == Ack(3, 2)
    kinds = [decode_record(p)[0].kind for _s, p in service.wal.replay()]
    assert kinds == ["predictions", "labels", "signals"]
    assert service.counts[("labels", "churn")] == 2
    assert service.counts[("signals", "churn")] == 2


def test_a_crash_before_any_flush_loses_no_acknowledged_row(tmp_path: Path) -> None:
    first = Service(_config(tmp_path), clock=ManualClock(0.0))
    try:
        first.write_predictions("churn", _body(20, 1.0), wire.JSON, "batch-1")
        first.write_predictions("churn", _body(10, 30.0, seed=1), wire.JSON, None)
        # what a crash leaves: the log on disk, a store that never saw the open window
        shutil.copytree(tmp_path / "wal", tmp_path / "crashed" / "wal")
    finally:
        first.close()
    second = Service(_config(tmp_path / "crashed"), clock=ManualClock(0.0))
    try:
        assert second.replayed == 2 and second.wal.next_seq == 3
        assert second.counts[("predictions", "churn")] == 30
        retried = second.write_predictions("churn", _body(20, 1.0), wire.JSON, "batch-1")
        assert retried.duplicate  # the key came back with the log
        second.write_predictions("churn", _body(1, 200.0), wire.JSON, None)
        second.tick()
        assert _requests(second) == [30.0]
    finally:
        second.close()


def test_a_restart_counts_every_acknowledged_row_exactly_once(tmp_path: Path) -> None:
    first = Service(_config(tmp_path), clock=ManualClock(0.0))
    first.write_predictions("churn", _body(20, 1.0), wire.JSON, None)
    first.close()  # window 0 is still open: stored as a partial, its log kept
    second = Service(_config(tmp_path), clock=ManualClock(0.0))
    try:
        assert second.replayed == 1
        second.write_predictions("churn", _body(5, 10.0, seed=1), wire.JSON, None)
        second.write_predictions("churn", _body(1, 200.0), wire.JSON, None)
        second.tick()
        assert _requests(second) == [25.0]
    finally:
        second.close()


def test_the_log_is_truncated_once_its_windows_are_stored(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    service = Service(cfg, clock=ManualClock(0.0))
    try:
        service.wal.segment_bytes = 1  # a segment per write, so whole segments can go
        service.write_predictions("churn", _body(20, 1.0), wire.JSON, None)
        service.write_predictions("churn", _body(1, 200.0), wire.JSON, None)
        service.tick()  # window 0 closed and stored: the first record is no longer needed
        assert [s for s, _p in service.wal.replay()] == [2]
    finally:
        service.close()


def test_a_record_with_rows_in_a_window_still_open_is_kept(tmp_path: Path) -> None:
    service = Service(_config(tmp_path), clock=ManualClock(0.0))
    try:
        service.wal.segment_bytes = 1
        # rows at 1 s .. 80 s: window [0, 60) closes at 65 s, window [60, 120) stays open
        body = json.dumps(
            {
                "rows": [
                    {"features": {"age": 40.0, "plan": "free"}, "timestamp": t} for t in (1.0, 80.0)
                ]
            }
        ).encode()
        service.write_predictions("churn", body, wire.JSON, None)
        service.write_predictions("churn", _body(1, 90.0), wire.JSON, None)
        service.tick()
        assert service.monitor("churn").unsaved_seq == 1
        assert [s for s, _p in service.wal.replay()] == [1, 2]  # nothing dropped yet
        service.write_predictions("churn", _body(1, 300.0), wire.JSON, None)
        service.tick()  # [60, 120) closed too: records 1 and 2 are in the store
        assert [s for s, _p in service.wal.replay()] == [3]
    finally:
        service.close()


def test_signals_in_an_open_window_hold_the_log_back(tmp_path: Path) -> None:
    service = Service(_config(tmp_path), clock=ManualClock(0.0))
    try:
        service.wal.segment_bytes = 1
        body = json.dumps({"metrics": [{"name": "load", "value": 1.0, "timestamp": 5.0}]})
        service.write_signals("churn", body.encode(), None)
        service.write_predictions("churn", _body(1, 30.0), wire.JSON, None)
        service.tick()
        assert [s for s, _p in service.wal.replay()] == [1, 2]
        service.write_predictions("churn", _body(1, 200.0), wire.JSON, None)
        service.tick()
        assert [s for s, _p in service.wal.replay()] == [3]
    finally:
        service.close()


def test_silences_survive_a_restart(tmp_path: Path) -> None:
    cfg = _config(tmp_path, rules=RULES)
    first = Service(cfg, clock=ManualClock(100.0))
    first.silence({"alertname": "AgeDrifting"}, ends_at=10_000.0, comment="deploy")
    first.close()
    second = Service(cfg, clock=ManualClock(200.0))
    try:
        assert [dict(s.matchers) for s in second.silences] == [{"alertname": "AgeDrifting"}]
        labels = {"alertname": "AgeDrifting", "model": "churn"}
        assert second.silenced_by(labels, 500.0) is not None
        assert second.silenced_by(labels, 20_000.0) is None  # expired
    finally:
        second.close()


def test_a_bad_model_setting_names_its_key_in_the_config(tmp_path: Path) -> None:
    doc = {"models": {"churn": {"schema": SCHEMA, "drift": {"methd": "psi"}}}}
    with pytest.raises(ConfigError) as err:
        Service(parse_config(doc, base=tmp_path))
    assert err.value.field == "models.churn.drift.methd"


def test_a_new_version_without_a_table_keeps_the_reference(service: Service) -> None:
    old = service.monitor("churn")
    new = service.register_version("churn", "2", None)
    assert service.monitor("churn") is new and new.version == "2"
    assert new.schema == old.schema
    with pytest.raises(ConfigError):
        service.register_version("fraud", "2", None)


def test_the_service_imports_no_web_framework() -> None:
    # not rich: httpx (the notifiers' client) loads it for its own command line when it
    # is installed; import-linter checks that none of our modules imports it
    code = (
        "import sys, watchkeeper.service; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn', 'typer') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
