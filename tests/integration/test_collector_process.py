"""`watchkeeper serve` as a real process: crash safety, and a real Prometheus scraping it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import Prometheus, free_port, wait_http

pytestmark = pytest.mark.integration


class Server:
    """One `watchkeeper serve` subprocess on a free port."""

    def __init__(self, config: Path, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(config.parent / f"serve-{port}-{time.monotonic_ns()}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper.cli", "serve", "--config", str(config),
             "--port", str(port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_http(f"{self.url}/readyz", timeout=60)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.log.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {
            "age": rng.normal(40, 10, 5_000),
            "plan": rng.choice(["free", "pro"], 5_000),
            "prediction": rng.choice(["stay", "churn"], 5_000, p=[0.8, 0.2]),
        }
    ).to_parquet(tmp_path / "reference.parquet")
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "store": "sqlite:///wk.db",
                "wal_dir": "wal",
                "tick_seconds": 0.2,
                "models": {
                    "churn": {"reference": "reference.parquet", "grace": "2s", "rollups": []}
                },
            }
        )
    )
    servers: list[Server] = []
    port = free_port()

    def start() -> Server:
        server = Server(config, port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _batch(seq: int, n: int, t0: float, rng: np.random.Generator, shift: float = 0.0) -> dict:
    return {
        "rows": [
            {
                "features": {
                    "age": float(rng.normal(40 + shift, 10)),
                    "plan": str(rng.choice(["free", "pro"])),
                },
                "outputs": {"prediction": "stay"},
                "id": f"b{seq}-{i}",
                "timestamp": t0 + i * 1e-3,
                "latency": 0.01,
            }
            for i in range(n)
        ]
    }


def _total_requests(url: str) -> float:
    points = httpx.get(f"{url}/v1/models/churn/metrics", params={"metric": "requests"}).json()
    return sum(p["value"] for p in points["points"])


def test_sigkill_mid_stream_loses_and_doubles_nothing(serve: Callable[..., Server]) -> None:
    rng = np.random.default_rng(1)
    n_batches, per_batch = 60, 50
    t0 = time.time() - 400  # event times up to now: windows close as the stream goes
    bodies = [_batch(s, per_batch, t0 + 5.0 * s, rng) for s in range(n_batches)]
    acked: set[int] = set()
    server = serve()
    with httpx.Client(timeout=5.0) as client:
        for s, body in enumerate(bodies):
            if s == 35:
                server.kill()  # mid-stream: windows closed, open, and rows in flight
                server = serve()
            r = client.post(f"{server.url}/v1/models/churn/predictions", json=body,
                            headers={"Idempotency-Key": f"batch-{s}"})  # fmt: skip
            assert r.status_code == 200, r.text
            acked.add(s)
        # a client that never saw an ack retries: the same keys must not count twice
        for s in (33, 34):
            r = client.post(f"{server.url}/v1/models/churn/predictions", json=bodies[s],
                            headers={"Idempotency-Key": f"batch-{s}"})  # fmt: skip
            assert r.json()["duplicate"] is True
    server.stop()  # SIGTERM: graceful, flushes the open windows
    server = serve()  # replays the log again: still nothing twice
    assert _total_requests(server.url) == n_batches * per_batch
    assert len(acked) == n_batches


def test_prometheus_scrapes_the_collector(serve: Callable[..., Server], prometheus) -> None:
    rng = np.random.default_rng(2)
    server = serve()
    prom: Prometheus = prometheus([f"127.0.0.1:{server.port}"])
    start = time.time() - 300  # windows of drifted ages that the clock has already closed
    with httpx.Client(timeout=5.0) as client:
        for s in range(4):
            body = _batch(s, 300, start + 30.0 * s, rng, shift=15.0)
            client.post(f"{server.url}/v1/models/churn/predictions", json=body)
        # one more row in the last batch's window (at +100 it fell alone into the next
        # window whenever a minute boundary lay between +90 and +100: a 1-row window
        # then became the latest and showed no drift)
        client.post(f"{server.url}/v1/models/churn/predictions",
                    json=_batch(99, 1, start + 90, rng))  # fmt: skip
    drift = prom.wait_for('watchkeeper_feature_drifted{model="churn",feature="age"} == 1')
    assert drift[0]["metric"]["method"]
    total = prom.wait_for('watchkeeper_predictions_total{model="churn"} >= 1201')
    assert float(total[0]["value"][1]) == 1201
    latency = prom.wait_for('watchkeeper_latency_seconds{model="churn",quantile="0.99"}')
    assert float(latency[0]["value"][1]) == pytest.approx(0.01)
    assert os.environ.get("CI") != "true" or prom.query("up == 1")


def test_prometheus_rates_a_model_server_with_the_middleware(prometheus) -> None:
    """A FastAPI model server with the middleware, scraped every second: the classic
    `rate(http_request_count_total[1m])` gives the traffic that was sent."""
    import threading

    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse
    from prometheus_client import CollectorRegistry, generate_latest

    from watchkeeper.sdk.middleware import WatchkeeperMiddleware

    registry = CollectorRegistry()
    model = FastAPI()

    @model.post("/predict/{version}")
    def predict(version: str) -> dict[str, float]:
        return {"score": 0.5}

    @model.get("/metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(registry).decode())

    model.add_middleware(WatchkeeperMiddleware, registry=registry)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(model, host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics")
        prom: Prometheus = prometheus([f"127.0.0.1:{port}"])
        sent = 0
        end = time.monotonic() + 20  # 20 s of steady traffic, ~20 requests/s
        with httpx.Client() as client:
            while time.monotonic() < end:
                client.post(f"http://127.0.0.1:{port}/predict/v{sent % 3}")
                sent += 1
                time.sleep(0.05)
        query = 'sum(rate(http_request_count_total{route="/predict/{version}",status="200"}[1m]))'
        time.sleep(2)  # the last requests' scrape
        rate = float(prom.wait_for(query)[0]["value"][1])
        # all the traffic lies inside the last minute: rate x 60 s is what was sent (up to
        # Prometheus's extrapolation to the window edges and the 1 s scrape granularity)
        assert 0.6 * sent < rate * 60 < 1.3 * sent, (rate, sent)
        recent = float(prom.query(query.replace("[1m]", "[10s]"))[0]["value"][1])
        assert 0.4 * sent / 20 < recent < 1.6 * sent / 20, (recent, sent)
        routes = prom.query("count by (route) (http_request_count_total)")
        assert {r["metric"]["route"] for r in routes} <= {"/predict/{version}", "/metrics"}
    finally:
        server.should_exit = True
        thread.join(30)
