"""The HTTP answers of the collector's hardening: what a write did not take and why,
backpressure with Retry-After, malformed bodies as one JSON 4xx, never-ending silences,
version names, and the counters in /metrics and /v1/models."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from watchkeeper.monitor import ManualClock
from watchkeeper.server.app import create_app
from watchkeeper.service import Service, parse_config

NOW = 1_000_000.0
SCHEMA = {"age": "numeric", "prediction": {"kind": "categorical", "role": "output"}}


def _cfg(tmp_path: Path, **limits: int) -> Any:
    doc = {
        "store": "sqlite:///wk.db",
        "wal_dir": "wal",
        "fsync": False,
        "tick_seconds": 3600,
        "limits": limits,
        "models": {"churn": {"schema": SCHEMA, "rollups": [], "future_rows": "reject"}},
    }
    return parse_config(doc, base=tmp_path)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    cfg = _cfg(tmp_path)
    with TestClient(create_app(cfg, service=Service(cfg, clock=ManualClock(NOW)))) as c:
        yield c


def _rows(times: list[Any]) -> dict[str, Any]:
    return {
        "rows": [
            {"features": {"age": 40.0}, "outputs": "stay", "id": f"r{i}", "timestamp": t}
            for i, t in enumerate(times)
        ]
    }


def test_the_answer_says_what_was_not_taken_and_why(client: TestClient) -> None:
    r = client.post("/v1/models/churn/predictions", json=_rows([NOW, 2_100_000_000, NOW]))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["accepted"] == 2
    assert doc["rejected"] == {
        "count": 1,
        "reasons": {"future": 1},
        "first": [{"row": 1, "reason": "future"}],
    }
    assert (doc["late_dropped"], doc["unknown_ids"], doc["clamped"]) == (0, 0, 0)
    r = client.post("/v1/models/churn/labels", json={"ids": ["r0", "zz"], "labels": ["a", "b"]})
    assert r.json()["unknown_ids"] == 1
    models = client.get("/v1/models").json()["models"]
    assert models[0]["dropped"]["rejected_rows"]["future"] == 1
    assert models[0]["dropped"]["unknown_label_ids"] == 1
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    samples = {
        (s.name, s.labels.get("reason")): s.value
        for s in families["watchkeeper_rejected_rows"].samples
    }
    assert samples[("watchkeeper_rejected_rows_total", "future")] == 1.0
    assert samples[("watchkeeper_rejected_rows_total", "past")] == 0.0
    (unknown,) = families["watchkeeper_unknown_label_ids"].samples
    assert unknown.value == 1.0


def test_a_signal_at_1e300_does_not_break_the_overview(client: TestClient) -> None:
    r = client.post(
        "/v1/models/churn/signals",
        json={"metrics": [{"name": "load", "value": 1.0, "timestamp": 1e300}]},
    )
    assert r.json()["rejected"]["reasons"] == {"future": 1}
    client.post("/v1/models/churn/predictions", json=_rows([NOW]))
    assert client.get("/v1/overview").status_code == 200


def test_a_full_apply_queue_answers_429_with_retry_after(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, max_model_queued_bytes=600)
    service = Service(cfg, clock=ManualClock(NOW))
    statuses: list[tuple[int, str | None]] = []
    with TestClient(create_app(cfg, service=service)) as c:

        def post() -> None:
            r = c.post("/v1/models/churn/predictions", json=_rows([NOW] * 3))
            statuses.append((r.status_code, r.headers.get("retry-after")))

        with service.monitor("churn")._lock:  # the model's apply thread stalls
            threads = [threading.Thread(target=post) for _ in range(4)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 10
            while not any(s == 429 for s, _ in statuses) and time.monotonic() < deadline:
                time.sleep(0.01)
        for t in threads:
            t.join(10)
    assert (429, "1") in statuses
    assert {s for s, _ in statuses} <= {200, 429}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/models/churn/predictions", b'{"rows": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("/v1/models/churn/labels", b"[" * 100_000 + b"]" * 100_000),
        ("/v1/models/churn/signals", b'{"metrics": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("/v1/silences", b'{"matchers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("/v1/models/churn/predictions", b'{"columns": {"age": [' + b"7" * 5_000 + b"]}}"),
        (
            "/v1/models/churn/predictions",
            b'{"rows": [{"features": {}, "timestamp": ' + b"1" * 400 + b"}]}",
        ),
        ("/v1/silences", b'{"matchers": {"a": "b"}, "duration": ' + b"1" * 400 + b"}"),
        ("/v1/silences", b'{"matchers": {"a": "b"}, "duration": 1e300}'),
        ("/v1/models/churn/labels", b'{"ids": ["a"], "labels": [1], "timestamps": [1e400]}'),
        ("/v1/silences", b'{"matchers": {"a": "b"}, "duration": "100000w"}'),
    ],
)
def test_malformed_bodies_are_one_json_4xx_line(client: TestClient, path: str, body: bytes) -> None:
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    (error,) = r.json()["errors"]
    assert error["message"] and "\n" not in error["message"]


def test_a_version_name_of_300_characters_is_422(client: TestClient) -> None:
    r = client.put("/v1/models/churn/versions/" + "v" * 300, content=b"")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == "version"
    assert client.put("/v1/models/churn/versions/2.1", content=b"").status_code == 200


def test_readyz_reports_the_log_and_the_queue(client: TestClient) -> None:
    doc = client.get("/readyz").json()
    assert doc["ready"] is True and doc["wal_error"] is None and doc["queued_bytes"] == 0


def test_json_dumps_of_the_answer_is_plain(client: TestClient) -> None:
    r = client.post("/v1/models/churn/predictions", json=_rows(["soon"]))
    assert json.loads(r.text)["rejected"]["reasons"] == {"bad_timestamp": 1}
