"""Faults of a live `watchkeeper serve` process: SIGKILL mid-stream under concurrent
clients, rows stamped with a bad clock, and malformed bodies from a generator."""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _faults import Collector, batch, report, stored_requests, write_config
from conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = 40


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "watchkeeper.yaml",
        store=f"sqlite:///{tmp_path}/wk.db",
        wal_dir=str(tmp_path / "wal"),
        future_rows="reject",
    )


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def collectors() -> Iterator[list[Collector]]:
    started: list[Collector] = []
    yield started
    for c in started:
        if c.proc.poll() is None:
            c.stop()


def test_sigkill_under_concurrent_clients_loses_and_doubles_nothing(
    config: Path, port: int, collectors: list[Collector]
) -> None:
    """Three clients stream batches with idempotency keys and retry whatever got no
    answer (a reset connection, a refused one while the collector is down); the
    collector is SIGKILLed twice mid-stream and restarted."""
    t0 = time.time() - 400
    n_batches = 60
    todo: queue.Queue[int] = queue.Queue()
    for s in range(n_batches):
        todo.put(s)
    acked: list[int] = []
    lock = threading.Lock()
    url = f"http://127.0.0.1:{port}"

    def client() -> None:
        with httpx.Client(timeout=10) as http:
            while True:
                try:
                    s = todo.get_nowait()
                except queue.Empty:
                    return
                body = batch(f"b{s}", ROWS, t0 + 3.0 * s)
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    try:
                        r = http.post(f"{url}/v1/models/churn/predictions", json=body,
                                      headers={"Idempotency-Key": f"b{s}"})  # fmt: skip
                    except httpx.TransportError:
                        time.sleep(0.05)
                        continue
                    if r.status_code == 200:
                        with lock:
                            acked.append(s)
                        break
                    assert r.status_code in (429, 503), r.text
                    time.sleep(float(r.headers.get("retry-after", "1")))

    collectors.append(Collector(config, port))
    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    for kill_at in (15, 40):
        while len(acked) < kill_at:
            time.sleep(0.01)
        collectors[-1].kill()
        collectors.append(Collector(config, port))
    for t in threads:
        t.join(120)
    assert sorted(acked) == list(range(n_batches))
    assert collectors[-1].stop()
    collectors.append(Collector(config, port))
    report("SIGKILL x2 under 3 clients", n_batches * ROWS, stored_requests(collectors[-1].url))


def test_rows_stamped_by_a_bad_clock_are_rejected_and_move_nothing(
    config: Path, port: int, collectors: list[Collector]
) -> None:
    collectors.append(server := Collector(config, port))
    now = time.time()
    accepted = 0
    with httpx.Client(timeout=10) as http:
        skewed = batch("skew", 4, now - 300)
        for row, t in zip(skewed["rows"], (2_100_000_000.0, now + 3600, now - 5 * 86400, 1e300),
                          strict=True):  # fmt: skip
            row["timestamp"] = t
        r = http.post(f"{server.url}/v1/models/churn/predictions", json=skewed)
        assert r.json()["rejected"]["reasons"] == {"future": 3, "past": 1}
        accepted += r.json()["accepted"]
        for s in range(5):  # ordinary rows after it: none is late
            r = http.post(f"{server.url}/v1/models/churn/predictions",
                          json=batch(f"ok{s}", ROWS, now - 300 + 30 * s))  # fmt: skip
            assert r.json()["late_dropped"] == 0 and r.json()["rejected"]["count"] == 0
            accepted += r.json()["accepted"]
        metrics = http.get(f"{server.url}/metrics").text
        assert 'watchkeeper_rejected_rows_total{model="churn",reason="future",version="1"} 3.0' in (
            metrics
        )
    assert server.stop()
    collectors.append(server := Collector(config, port))
    report("clock skew (4 rows rejected)", accepted, stored_requests(server.url))


def _hostile(rng: random.Random) -> tuple[str, bytes]:
    """One malformed body for a random endpoint: deep nesting, huge integers, long
    digit strings, broken JSON, wrong shapes."""
    values = [
        "[" * 100_000 + "]" * 100_000,
        "9" * 5_000,
        "1" * 400,
        "1e400",
        '{"a": ' * 50_000 + "1" + "}" * 50_000,
        '"' + "x" * 10_000,
        "NaN",
    ]
    shapes = [
        ("predictions", '{"rows": [{"features": {"age": %s}, "timestamp": 1}]}'),
        ("predictions", '{"rows": [{"features": {"age": 1}, "timestamp": %s}]}'),
        ("predictions", '{"columns": %s}'),
        ("labels", '{"ids": ["a"], "labels": [%s]}'),
        ("signals", '{"metrics": [{"name": "x", "value": %s}]}'),
        ("silences", '{"matchers": {"a": "b"}, "duration": %s}'),
    ]
    endpoint, shape = rng.choice(shapes)
    body = (shape % rng.choice(values)).encode()
    if rng.random() < 0.2:
        body = body[: rng.randrange(len(body))]
    path = "/v1/silences" if endpoint == "silences" else f"/v1/models/churn/{endpoint}"
    return path, body


def test_malformed_bodies_from_a_generator_get_4xx_and_the_collector_stays_up(
    config: Path, port: int, collectors: list[Collector]
) -> None:
    collectors.append(server := Collector(config, port))
    rng = random.Random(15)
    statuses = []
    with httpx.Client(timeout=30) as http:
        for _ in range(60):
            path, body = _hostile(rng)
            r = http.post(f"{server.url}{path}", content=body,
                          headers={"content-type": "application/json"})  # fmt: skip
            assert r.status_code < 500, (r.status_code, r.text[:200], body[:60])
            if r.status_code >= 400:  # (a row may be fine: an age of 1e400 is inf, a value)
                (error,) = r.json()["errors"]
                assert error["message"] and "\n" not in error["message"]
            statuses.append(r.status_code)
        assert http.get(f"{server.url}/readyz").status_code == 200
        r = http.post(f"{server.url}/v1/models/churn/predictions",
                      json=batch("after", ROWS, time.time() - 300))  # fmt: skip
        assert r.json()["accepted"] == ROWS
    assert sum(400 <= s < 500 for s in statuses) > 40
    print(f"\nfault malformed bodies: 60 sent, statuses {sorted(set(statuses))}, no 5xx")
