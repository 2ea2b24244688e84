"""Saturation without user code, end to end: two model-service replicas (real processes,
FastAPI + ``WatchkeeperMiddleware`` + SDK ``Client``) report to a real ``watchkeeper serve``
process; their resources reach the store per instance (checked against psutil on the
replicas' pids), the model page in Chromium (per instance, sum and max across replicas)
and a real Prometheus scrape."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil
import pytest
import yaml
from conftest import ARTIFACTS, Prometheus, free_port, wait_http

pytestmark = pytest.mark.integration

WINDOW = 6.0
BALLAST_MB = 150

REPLICA = """
import asyncio, json, sys
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from watchkeeper.sdk import Client, WatchkeeperMiddleware
from watchkeeper.sdk.resources import ResourceSampler

collector, name, port, ballast_mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
client = Client(collector, "churn", flush_interval=0.1,
                resources=ResourceSampler(instance_id=name, interval=0.5))
ballast = [b"x" * (ballast_mb * 2**20)]  # written, so resident
app = FastAPI()

@app.post("/predict")
async def predict(row: dict) -> dict:
    await asyncio.sleep(0.05)
    return {"prediction": "stay" if row["age"] < 50 else "churn"}

def extract(request: bytes, response: bytes, scope: dict):
    return json.loads(request), json.loads(response)

app.add_middleware(WatchkeeperMiddleware, monitor=client, extract=extract,
                   registry=CollectorRegistry())
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


class _Process:
    def __init__(self, args: list[str], log: Path) -> None:
        self.log = open(log, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
        self.log.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A collector process and two replicas ``replica-a`` (small) and ``replica-b`` (with
    BALLAST_MB more resident memory), all on free ports."""
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {"age": rng.normal(40, 10, 2_000), "prediction": rng.choice(["stay", "churn"], 2_000)}
    ).to_parquet(tmp_path / "reference.parquet")
    model = {"reference": "reference.parquet", "window": f"{WINDOW:g}s", "grace": "1s",
             "rollups": []}  # fmt: skip
    config = {"store": "sqlite:///wk.db", "wal_dir": "wal", "tick_seconds": 0.2,
              "models": {"churn": model}}  # fmt: skip
    (tmp_path / "watchkeeper.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "replica.py").write_text(REPLICA)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs = [_Process([sys.executable, "-m", "watchkeeper.cli", "serve", "--config",
                       str(tmp_path / "watchkeeper.yaml"), "--port", str(port)],
                      tmp_path / "serve.log")]  # fmt: skip
    replicas: dict[str, tuple[str, int]] = {}
    try:
        wait_http(f"{url}/readyz", timeout=60)
        for name, ballast in (("replica-a", 0), ("replica-b", BALLAST_MB)):
            rport = free_port()
            proc = _Process([sys.executable, str(tmp_path / "replica.py"), url, name,
                             str(rport), str(ballast)], tmp_path / f"{name}.log")  # fmt: skip
            procs.append(proc)
            replicas[name] = (f"http://127.0.0.1:{rport}", proc.proc.pid)
        for base, _pid in replicas.values():
            wait_http(f"{base}/openapi.json", timeout=60)
        yield {"url": url, "port": port, "replicas": replicas}
    finally:
        for proc in reversed(procs):
            proc.stop()


def _traffic(replicas: dict[str, tuple[str, int]], seconds: float) -> int:
    """Requests to both replicas from 4 threads, stamped 50 ms before they are sent."""
    stop = time.monotonic() + seconds
    sent = 0
    lock = threading.Lock()

    def worker(base: str) -> None:
        nonlocal sent
        rng = np.random.default_rng()
        with httpx.Client(base_url=base, timeout=10.0) as http:
            while time.monotonic() < stop:
                stamp = f"t={time.time() - 0.05:.3f}"
                http.post("/predict", json={"age": float(rng.normal(40, 10))},
                          headers={"X-Request-Start": stamp}).raise_for_status()  # fmt: skip
                with lock:
                    sent += 1

    bases = [base for base, _pid in replicas.values()] * 2
    with ThreadPoolExecutor(len(bases)) as pool:
        list(pool.map(worker, bases))
    return sent


def _latest(url: str, name: str) -> dict[tuple[str, str], float]:
    """``{(instance, stat): value}`` of the latest closed window holding ``name``."""
    points = httpx.get(f"{url}/v1/models/churn/metrics", params={"metric": name}).json()["points"]
    if not points:
        return {}
    last = max(p["window_start"] for p in points)
    return {(p["labels"]["instance_id"], p["labels"]["stat"]): p["value"]
            for p in points if p["window_start"] == last}  # fmt: skip


def _number(text: str) -> float:
    """A page cell back to a number: '312 MB' -> 312e6, '41.0%' -> 0.41."""
    value, unit = re.fullmatch(r"([-0-9.e+]+)\s*(%|B|KB|MB|GB|TB|ms|s)?", text.strip()).groups()
    scale = {"%": 0.01, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "ms": 1e-3}.get(unit, 1.0)
    return float(value) * scale


def test_two_replicas_saturation_reaches_store_page_and_prometheus(
    stack: dict[str, Any], prometheus: Any, browser: Any
) -> None:
    url, replicas = stack["url"], stack["replicas"]
    prom: Prometheus = prometheus([f"127.0.0.1:{stack['port']}"])
    sent = _traffic(replicas, 2 * WINDOW)
    assert sent > 50

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rss = _latest(url, "process_memory_rss_bytes")
        if {i for i, _ in rss} == {"replica-a", "replica-b"}:
            break
        time.sleep(0.5)
    assert {i for i, _ in rss} == {"replica-a", "replica-b"}, rss

    # the values are the replicas' own, as psutil reads them now
    for name, (_base, pid) in replicas.items():
        proc = psutil.Process(pid)
        actual = proc.memory_info().rss
        assert abs(rss[(name, "max")] - actual) < 0.15 * actual, (name, rss, actual)
        threads = _latest(url, "process_threads")[(name, "max")]
        assert abs(threads - proc.num_threads()) <= 3
        assert 0.0 <= _latest(url, "process_cpu_utilisation")[(name, "mean")] <= 1.0
    grown = rss[("replica-b", "mean")] - rss[("replica-a", "mean")]
    assert grown == pytest.approx(BALLAST_MB * 2**20, rel=0.25)

    # the middleware's figures: requests were in flight, and waited since their stamp
    in_flight = _latest(url, "in_flight_requests")
    queued = _latest(url, "request_queue_seconds")
    lag = _latest(url, "event_loop_lag_seconds")
    for name in replicas:
        assert in_flight.get((name, "mean"), 0.0) > 0.0, in_flight
        assert 0.04 <= queued[(name, "mean")] < 1.0, queued
        assert 0.0 <= lag[(name, "max")] < 1.0, lag

    # a real Prometheus scrape carries them per instance
    result = prom.wait_for('watchkeeper_process_resident_memory_bytes{stat="mean"}', timeout=60)
    scraped = {s["metric"]["instance_id"]: float(s["value"][1]) for s in result}
    assert set(scraped) == {"replica-a", "replica-b"}
    assert scraped["replica-b"] - scraped["replica-a"] == pytest.approx(
        BALLAST_MB * 2**20, rel=0.25
    )
    assert all(s["metric"]["model"] == "churn" for s in result)

    # the model page: one row per instance, their sum and max, and the charts
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"error: {e}"))
    try:
        page.goto(f"{url}/models/churn?range=1h")
        page.wait_for_selector("#saturation tr[data-across='max']", timeout=20_000)
        page.wait_for_selector("#chart-memory .main-svg", timeout=20_000)
        page.wait_for_load_state("networkidle")
        rows = {
            row.get_attribute("data-instance") or row.get_attribute("data-across"): [
                cell.inner_text() for cell in row.query_selector_all("td")
            ]
            for row in page.query_selector_all("#saturation tbody tr")
        }
        assert set(rows) == {"replica-a", "replica-b", "sum", "max"}, rows
        memory = {key: _number(cells[2]) for key, cells in rows.items()}
        latest = _latest(url, "process_memory_rss_bytes")
        for name in replicas:  # shown to 3 significant figures
            assert memory[name] == pytest.approx(latest[(name, "mean")], rel=0.01)
        assert memory["sum"] == pytest.approx(memory["replica-a"] + memory["replica-b"], rel=0.01)
        assert memory["max"] == pytest.approx(max(latest[(n, "max")] for n in replicas), rel=0.01)
        assert rows["sum"][1] == "–"  # CPU shares are not summed
        legend = page.inner_text("#chart-memory")
        assert "replica-a" in legend and "sum across replicas" in legend
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        section = page.locator("#saturation")
        section.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "saturation.png"), full_page=True)
        assert problems == []
    finally:
        context.close()
