"""The demo's model service (FastAPI + the watchkeeper middleware) and its retraining job."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from watchkeeper.demo.data import AFTER, BEFORE, FEATURES, label, sample_applications
from watchkeeper.demo.loadgen import application_records
from watchkeeper.demo.model import TrainedModel, train_model
from watchkeeper.demo.retrain import retrain
from watchkeeper.demo.service import create_service, extract_scoring
from watchkeeper.demo.warehouse import Warehouse


class FakeClient:
    """Records what the service would send to the collector."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.metrics: list[tuple[str, float]] = []

    def log(self, features: Any, outputs: Any = None, **kw: Any) -> None:
        self.rows.append({"features": features, "outputs": outputs, **kw})

    def log_metric(self, name: str, value: float, tags: Any = None, **kw: Any) -> None:
        self.metrics.append((name, value))

    def close(self, timeout: float = 10.0) -> None:
        pass


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    rng = np.random.default_rng(0)
    frame = sample_applications(rng, 3_000)
    return train_model(frame, label(frame, BEFORE, rng))


def applications(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    frame = sample_applications(rng, n)
    return application_records(frame, [f"a{i}" for i in range(n)], np.arange(n, dtype=float) + 1e9)


def test_each_scored_application_is_logged_with_its_id_and_time(model: TrainedModel) -> None:
    client = FakeClient()
    apps = applications(5)
    with TestClient(create_service(model, client=client)) as http:  # type: ignore[arg-type]
        r = http.post("/v1/score", json={"applications": apps})
    assert r.status_code == 200
    body = r.json()
    assert body["model_version"] == "1"
    assert [d["id"] for d in body["decisions"]] == [a["id"] for a in apps]
    assert {d["decision"] for d in body["decisions"]} <= {"bad", "good"}
    assert [row["ids"] for row in client.rows] == [a["id"] for a in apps]
    assert [row["timestamps"] for row in client.rows] == [a["submitted_at"] for a in apps]
    first = client.rows[0]
    assert set(first["features"]) == set(FEATURES)
    assert first["outputs"]["prediction"] == body["decisions"][0]["decision"]
    assert first["latency"] > 0 and first["error"] is None


def test_the_post_processing_filter_empties_uncertain_decisions(model: TrainedModel) -> None:
    client = FakeClient()
    apps = applications(200)
    with TestClient(create_service(model, client=client)) as http:  # type: ignore[arg-type]
        http.put("/admin/faults", json={"empty_band": [0.1, 0.9]}).raise_for_status()
        decisions = http.post("/v1/score", json={"applications": apps}).json()["decisions"]
    for d in decisions:
        assert (d["decision"] is None) == (0.1 <= d["probability_bad"] <= 0.9)
    assert any(d["decision"] is None for d in decisions)
    assert sum(row["outputs"]["prediction"] is None for row in client.rows) == sum(
        d["decision"] is None for d in decisions
    )


def test_a_slowdown_shows_in_the_logged_latency(model: TrainedModel) -> None:
    client = FakeClient()
    with TestClient(create_service(model, client=client)) as http:  # type: ignore[arg-type]
        http.put("/admin/faults", json={"slowdown_seconds": 0.2}).raise_for_status()
        http.post("/v1/score", json={"applications": applications(2)}).raise_for_status()
    assert all(row["latency"] >= 0.15 for row in client.rows)


def test_extract_ignores_other_routes() -> None:
    assert extract_scoring(b"{}", b"{}", {"path": "/healthz"}) is None


def test_the_service_swaps_to_a_new_model_file(model: TrainedModel, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frame = sample_applications(rng, 1_000)
    path = train_model(frame, label(frame, AFTER, rng), version="2").save(tmp_path / "m2.pkl")
    with TestClient(create_service(model, client=FakeClient())) as http:  # type: ignore[arg-type]
        assert http.put("/admin/model", json={"path": str(path)}).json() == {"model_version": "2"}
        r = http.post("/v1/score", json={"applications": applications(1)})
        assert r.json()["model_version"] == "2"
        assert http.put("/admin/model", json={"path": str(tmp_path / "no")}).status_code == 422


def _serve(app: Any) -> tuple[str, Any, threading.Thread]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def test_retraining_learns_the_new_concept_and_the_service_serves_it(
    model: TrainedModel, tmp_path: Path
) -> None:
    rng = np.random.default_rng(4)
    reference = sample_applications(rng, 2_000)
    reference["prediction"], reference["score"] = model.predict(reference)
    reference.to_parquet(tmp_path / "reference.parquet")
    since = 1e9
    warehouse = Warehouse(tmp_path / "warehouse.db")
    old = sample_applications(rng, 500)  # before the alert's window: not used
    warehouse.add(
        application_records(old, [f"o{i}" for i in range(500)], np.full(500, since - 10.0)),
        label(old, BEFORE, rng).tolist(),
        since,
    )
    new = sample_applications(rng, 1_500)
    warehouse.add(
        application_records(new, [f"n{i}" for i in range(1_500)], since + np.arange(1_500.0)),
        label(new, AFTER, rng).tolist(),
        since + 2_000,
    )
    warehouse.close()
    client = FakeClient()
    url, server, thread = _serve(create_service(model, client=client))  # type: ignore[arg-type]
    try:
        context = {"version": "1", "at": since + 1800, "evidence": {"windows": [[since, 0.55]]}}
        result = retrain(tmp_path, url, context, min_rows=1_200, wait_seconds=5)
        import httpx

        served = httpx.post(f"{url}/v1/score", json={"applications": applications(3)}).json()
    finally:
        server.should_exit = True
        thread.join(10)
    assert result["version"] == "2" and result["trained_rows"] > 1_000
    assert float(str(result["holdout_accuracy"])) > 0.8
    assert served["model_version"] == "2"
    ref2 = pd.read_parquet(str(result["reference"]))
    assert list(ref2.columns) == [*FEATURES, "prediction", "score"] and len(ref2) == 2_000
    assert json.loads(json.dumps(result))  # printable as the action's last line


def test_retraining_gives_up_without_enough_labels(model: TrainedModel, tmp_path: Path) -> None:
    Warehouse(tmp_path / "warehouse.db").close()
    context = {"version": "1", "at": 1e9, "evidence": {"windows": [[1e9, 0.5]]}}
    with pytest.raises(TimeoutError, match="labelled rows"):
        retrain(tmp_path, "http://127.0.0.1:9", context, min_rows=10, wait_seconds=0.3)
