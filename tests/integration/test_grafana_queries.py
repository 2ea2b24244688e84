"""Every query of the Grafana dashboard returns data from a real Prometheus.

There is no Grafana here, so the test does what Grafana would: it fills in the template
variables, sends each panel's PromQL to Prometheus's ``/api/v1/query`` (a parse error is a
400 ``bad_data``), and asks Prometheus for the variables' values as Grafana's
``label_values()`` does. Prometheus scrapes, every second:

- a real ``watchkeeper serve`` fed one window of traffic that produces every family:
  drift on ``age``, missing and out-of-range ``income``, a new ``plan`` category, type
  errors, empty outputs, errors, latencies, labels (performance) and scores (estimated
  performance);
- a FastAPI model server instrumented with ``WatchkeeperMiddleware``, under steady
  traffic with some unhandled exceptions (the "model service" row);

and evaluates the committed ``deploy/prometheus/rules.yml``, so ``ALERTS`` fire.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import Prometheus, free_port, wait_http

from watchkeeper.exporters.grafana import FAMILIES, grafana_dashboard, panel_queries

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).parents[2] / "deploy"
WINDOW, GRACE = 10.0, 5.0
SCRAPE = 1.0
# what Grafana puts in place of its variables: one model and version picked, "All" for
# the multi-value feature and job variables (allValue ".*"), and $__rate_interval =
# max($__interval + scrape interval, 4 x scrape interval) with a 1 s scrape interval
GRAFANA_VALUES = {
    "$__rate_interval": f"{4 * SCRAPE:g}s",
    "$model": "churn",
    "$version": "1",
    "$feature": ".*",
    "$job": ".*",
}


def grafana_substitute(expr: str) -> str:
    for name, value in sorted(GRAFANA_VALUES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a variable the test does not fill in: {expr}"
    return expr


def _reference(path: Path, rng: np.random.Generator) -> None:
    n = 4_000
    score = rng.beta(2, 5, n)
    pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.normal(50_000, 10_000, n),
            "plan": rng.choice(["free", "pro"], n),
            "prediction": np.where(score > 0.5, "churn", "stay"),
            "score": score,
        }
    ).to_parquet(path)


def _window_rows(rng: np.random.Generator, start: float, now: float) -> list[dict[str, Any]]:
    """One window's rows with every problem a panel shows."""
    n = 600
    rows = []
    for i in range(n):
        score = float(rng.beta(2, 5))
        income: float | None = float(rng.normal(50_000, 10_000))
        if i % 10 < 3:
            income = None  # 30 % missing
        elif i % 10 == 3:
            income = 500_000.0  # out of the reference's range
        rows.append(
            {
                "features": {
                    "age": float(rng.normal(60, 10)) if i % 50 else "unknown",  # drift; type
                    "income": income,
                    "plan": str(rng.choice(["free", "pro", "enterprise"])),  # a new category
                },
                "outputs": {
                    "prediction": None if i % 8 == 0 else ("churn" if score > 0.5 else "stay"),
                    "score": score,
                },
                "id": f"p{i}",
                "timestamp": start + (now - start) * i / n,
                "latency": float(rng.uniform(0.005, 0.2)),
                "error": "timeout" if i % 20 == 0 else None,
            }
        )
    return rows


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[str]:
    """A `watchkeeper serve` subprocess with 10 s windows; yields its host:port."""
    _reference(tmp_path / "reference.parquet", np.random.default_rng(0))
    config = tmp_path / "watchkeeper.yaml"
    model = {
        "reference": "reference.parquet",
        "window": f"{WINDOW:g}s",
        "grace": f"{GRACE:g}s",
        "rollups": [],
        "positive": "churn",
        "multivariate": {"max_rows": 300, "n_permutations": 9},  # its panels need points
    }
    doc = {"store": "sqlite:///wk.db", "wal_dir": "wal", "tick_seconds": 0.2,
           "models": {"churn": model}}  # fmt: skip
    config.write_text(yaml.safe_dump(doc))
    port = free_port()
    with open(tmp_path / "serve.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper.cli", "serve", "--config", str(config),
             "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
            yield f"127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=60)


@pytest.fixture
def model_service() -> Iterator[str]:
    """A FastAPI model server with WatchkeeperMiddleware under steady traffic (about 20
    requests/s, one in ten raising); yields its host:port."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse
    from prometheus_client import CollectorRegistry, generate_latest

    from watchkeeper.sdk.middleware import WatchkeeperMiddleware

    registry = CollectorRegistry()
    api = FastAPI()

    @api.post("/predict")
    def predict() -> dict[str, float]:
        return {"score": 0.5}

    @api.post("/broken")
    def broken() -> dict[str, float]:
        raise RuntimeError("the model failed")

    @api.get("/metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(registry).decode())

    api.add_middleware(WatchkeeperMiddleware, registry=registry)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="critical"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            sent = 0
            while not stop.wait(0.05):
                client.post("/broken" if sent % 10 == 9 else "/predict")
                sent += 1

    sender = threading.Thread(target=traffic, daemon=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics")
        sender.start()
        yield f"127.0.0.1:{port}"
    finally:
        stop.set()
        if sender.is_alive():
            sender.join(30)
        server.should_exit = True
        serving.join(30)


def _feed_one_window(url: str) -> float:
    """Predictions with ids in the window open now, then their labels before it closes
    (at least GRACE seconds away); returns when the window closes."""
    rng = np.random.default_rng(1)
    now = time.time()
    start = math.floor(now / WINDOW) * WINDOW
    rows = _window_rows(rng, start, now)
    with httpx.Client(base_url=url, timeout=10.0) as client:
        client.post("/v1/models/churn/predictions", json={"rows": rows}).raise_for_status()
        load = {"metrics": [{"name": "server_load", "value": 0.5, "timestamp": now}]}
        load["metrics"] += [  # a service instance's saturation, as the SDK samples it
            {"name": name, "value": value, "tags": {"instance_id": "web-1"}, "timestamp": now}
            for name, value in (("process_cpu_utilisation", 0.4), ("process_memory_rss_bytes", 1e8))
        ]
        client.post("/v1/models/churn/signals", json=load).raise_for_status()
        labels = [
            ("churn" if r["outputs"]["score"] > 0.5 else "stay")
            if rng.random() < 0.85
            else str(rng.choice(["churn", "stay"]))
            for r in rows
        ]
        body = {"ids": [r["id"] for r in rows], "labels": labels}
        client.post("/v1/models/churn/labels", json=body).raise_for_status()
    assert time.time() < start + WINDOW + GRACE, "labels must arrive before the window closes"
    return start + WINDOW + GRACE


def _query(prom: Prometheus, expr: str) -> dict[str, Any]:
    r = httpx.get(f"{prom.url}/api/v1/query", params={"query": expr}, timeout=10.0)
    doc: dict[str, Any] = r.json()
    assert r.status_code == 200 and doc["status"] == "success", (expr, doc)
    return doc


def _has_data(doc: dict[str, Any]) -> bool:
    """A non-empty result with at least one finite value (histogram_quantile over idle
    buckets gives NaN: that is no data to look at)."""
    values = [float(s["value"][1]) for s in doc["data"]["result"]]
    return any(math.isfinite(v) for v in values)


def test_every_panel_query_returns_data(
    collector: str, model_service: str, prometheus: Any
) -> None:
    dashboard = grafana_dashboard()
    queries = panel_queries(dashboard)
    sources = {panel.title: panel.source for _, panels in FAMILIES for panel in panels}
    assert {sources[title] for title, _ in queries} == {"watchkeeper", "middleware", "rules"}

    prom: Prometheus = prometheus(
        [collector, model_service], rule_file=DEPLOY / "prometheus" / "rules.yml"
    )
    closes = _feed_one_window(f"http://{collector}")

    pending = {(title, grafana_substitute(expr)) for title, expr in queries}
    last: dict[tuple[str, str], dict[str, Any]] = {}
    deadline = time.monotonic() + max(0.0, closes - time.time()) + 30
    while pending and time.monotonic() < deadline:
        for item in sorted(pending):
            last[item] = _query(prom, item[1])  # fails at once on a parse error
            if _has_data(last[item]):
                pending.discard(item)
        time.sleep(0.5)
    no_data = {title: (expr, last[(title, expr)]["data"]) for title, expr in sorted(pending)}
    assert not no_data, json.dumps(no_data, indent=1)

    # the template variables, resolved as Grafana's label_values() does
    values = {}
    for variable in dashboard["templating"]["list"][1:]:
        found = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["definition"])
        assert found, variable["definition"]
        selector, label = grafana_substitute(found[1]), found[2]
        r = httpx.get(f"{prom.url}/api/v1/label/{label}/values", params={"match[]": selector})
        values[variable["name"]] = set(r.raise_for_status().json()["data"])
    assert values["model"] == {"churn"}
    assert values["version"] == {"1"}
    assert values["feature"] == {"age", "income", "plan"}
    assert values["job"] == {"t1"}  # the model service's scrape job in the fixture

    # the data behind the panels is what was sent
    drifted = _query(prom, grafana_substitute(
        'watchkeeper_feature_drifted{model=~"$model", version=~"$version"} == 1'))  # fmt: skip
    assert {s["metric"]["feature"] for s in drifted["data"]["result"]} >= {"age"}
    firing = _query(prom, 'ALERTS{alertstate="firing", model="churn"}')["data"]["result"]
    assert {"FeatureDrifting", "FeatureMissing", "EmptyOutputs"} <= {
        s["metric"]["alertname"] for s in firing
    }
