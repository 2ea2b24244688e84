"""The collector's HTTP API, in process: ingestion, queries, errors, /metrics."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from watchkeeper import wire
from watchkeeper.monitor import ManualClock
from watchkeeper.server.app import create_app
from watchkeeper.service import Service
from watchkeeper.service.config import parse_config

W = 60.0


def _reference(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, 5_000),
            "plan": rng.choice(["free", "pro", "team"], 5_000),
            "prediction": rng.choice(["stay", "churn"], 5_000, p=[0.8, 0.2]),
        }
    )
    path = tmp_path / "reference.parquet"
    frame.to_parquet(path)
    return path


def _config(tmp_path: Path, **extra: object) -> dict:
    _reference(tmp_path)
    doc = {
        "store": "sqlite:///wk.db",
        "wal_dir": "wal",
        "fsync": False,
        "tick_seconds": 3600,
        "models": {
            "churn": {
                "reference": "reference.parquet",
                "grace": "5s",
                "rollups": [],
                "max_future_skew": None,
            }
        },
    }
    doc.update(extra)
    return doc


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    cfg = parse_config(_config(tmp_path), base=tmp_path)
    collector = Service(cfg, clock=ManualClock(0.0))
    with TestClient(create_app(cfg, service=collector)) as c:
        c.collector = collector  # type: ignore[attr-defined]
        yield c


def _rows(n: int, start: float, rng: np.random.Generator, prefix: str = "r") -> list[dict]:
    return [
        {
            "features": {
                "age": float(rng.normal(40, 10)),
                "plan": str(rng.choice(["free", "pro"])),
            },
            "outputs": {"prediction": "stay"},
            "id": f"{prefix}{start:.0f}-{i}",
            "timestamp": start + i * 0.01,
            "latency": 0.01,
        }
        for i in range(n)
    ]


def _post(client: TestClient, rows: list[dict], **headers: str) -> dict:
    r = client.post("/v1/models/churn/predictions", json={"rows": rows}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _requests(client: TestClient) -> list[float]:
    r = client.get("/v1/models/churn/metrics", params={"metric": "requests"})
    assert r.status_code == 200, r.text
    return [p["value"] for p in r.json()["points"]]


def test_rows_are_acknowledged_analysed_and_queryable(client: TestClient) -> None:
    rng = np.random.default_rng(1)
    assert _post(client, _rows(50, 1.0, rng))["accepted"] == 50
    assert _post(client, _rows(30, 61.0, rng))["accepted"] == 30
    assert _requests(client) == []  # window 0 still within its grace
    _post(client, _rows(1, 200.0, rng))  # event time moves on: windows 0 and 1 close
    assert _requests(client) == [50.0, 30.0]
    r = client.get(
        "/v1/models/churn/metrics", params={"metric": "missing_ratio", "label": "feature:age"}
    )
    assert [p["labels"] for p in r.json()["points"]] == [{"feature": "age"}] * 2
    models = client.get("/v1/models").json()["models"]
    assert models[0]["model"] == "churn" and models[0]["last_closed_window"] == 60.0


def test_a_retried_batch_counts_once(client: TestClient) -> None:
    rng = np.random.default_rng(2)
    rows = _rows(20, 5.0, rng)
    first = _post(client, rows, **{"Idempotency-Key": "batch-1"})
    again = _post(client, rows, **{"Idempotency-Key": "batch-1"})
    assert again == {**first, "duplicate": True}
    _post(client, _rows(1, 500.0, rng))
    assert _requests(client)[0] == 20.0


def test_arrow_and_parquet_bodies_count_like_json(client: TestClient) -> None:
    rng = np.random.default_rng(3)
    table = pa.table(
        {
            "age": rng.normal(40, 10, 40),
            "plan": rng.choice(["free", "pro"], 40),
            "output.prediction": ["stay"] * 40,
            "_id": [f"a{i}" for i in range(40)],
            "_timestamp": np.linspace(1, 50, 40),
        }
    )
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    r = client.post(
        "/v1/models/churn/predictions",
        content=sink.getvalue(),
        headers={"content-type": wire.ARROW_STREAM},
    )
    assert r.json()["accepted"] == 40
    buf = io.BytesIO()
    pq.write_table(table.set_column(3, "_id", pa.array([f"p{i}" for i in range(40)])), buf)
    r = client.post(
        "/v1/models/churn/predictions",
        content=buf.getvalue(),
        headers={"content-type": wire.PARQUET},
    )
    assert r.json()["accepted"] == 40
    _post(client, _rows(1, 500.0, rng))
    assert _requests(client)[0] == 80.0


def test_labels_join_and_show_as_performance(client: TestClient) -> None:
    rng = np.random.default_rng(4)
    rows = _rows(10, 1.0, rng)
    _post(client, rows)
    ids = [r["id"] for r in rows]
    r = client.post(
        "/v1/models/churn/labels", json={"ids": ids, "labels": ["stay"] * 7 + ["churn"] * 3}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 10
    _post(client, _rows(1, 500.0, rng))
    acc = client.get("/v1/models/churn/metrics", params={"metric": "accuracy"}).json()["points"]
    assert acc[0]["value"] == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"rows": [{"features": {"age": 1}}, {"features": 3}]}, "$.rows[1].features"),
        ({"rows": [{"features": {}, "timestamp": [1]}]}, "$.rows[0].timestamp"),
        ({"rows": [{"features": {}, "latency": -1}]}, "$.rows[0].latency"),
        ({"rows": "many"}, "$.rows"),
        ({"columns": {"age": [1, 2], "plan": ["a"]}}, "$.columns"),
        ({"columns": {"age": [1]}, "ids": ["a", "b"]}, "$.ids"),
        ({"nothing": 1}, "$"),
        ([1, 2], "$"),
    ],
)
def test_bad_bodies_get_422_with_the_json_path(client: TestClient, body: object, path: str) -> None:
    r = client.post("/v1/models/churn/predictions", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == path


def test_unreadable_and_oversized_bodies_and_unknown_models(tmp_path: Path) -> None:
    doc = _config(tmp_path, limits={"max_body_bytes": 2_000, "max_rows_per_batch": 5})
    cfg = parse_config(doc, base=tmp_path)
    with TestClient(create_app(cfg)) as c:
        r = c.post("/v1/models/churn/predictions", content=b"{not json")
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$"
        r = c.post("/v1/models/churn/predictions", content=b"x" * 5_000)
        assert r.status_code == 413
        rng = np.random.default_rng(5)
        r = c.post("/v1/models/churn/predictions", json={"rows": _rows(6, 1.0, rng)})
        assert r.status_code == 422 and "at most 5" in r.json()["errors"][0]["message"]
        r = c.post("/v1/models/nope/predictions", json={"rows": []})
        assert r.status_code == 404 and r.json()["errors"][0]["path"] == "model"
        r = c.get("/v1/models/nope/metrics")
        assert r.status_code == 404
        r = c.post(
            "/v1/models/churn/predictions", content=b"a,b", headers={"content-type": "text/csv"}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "content-type"
        r = c.post("/v1/models/churn/labels", json={"ids": ["a"], "labels": [1, 2]})
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.labels"
        r = c.get("/v1/models/churn/metrics", params={"label": "nocolon"})
        assert r.status_code == 422


def test_write_endpoints_need_a_valid_key_when_keys_are_set(tmp_path: Path) -> None:
    cfg = parse_config(_config(tmp_path, api_keys=["s3cret"]), base=tmp_path)
    with TestClient(create_app(cfg)) as c:
        body = {"rows": []}
        assert c.post("/v1/models/churn/predictions", json=body).status_code == 401
        bad = {"X-API-Key": "guess"}
        assert c.post("/v1/models/churn/predictions", json=body, headers=bad).status_code == 403
        ok = {"Authorization": "Bearer s3cret"}
        assert c.post("/v1/models/churn/predictions", json=body, headers=ok).status_code == 200
        assert c.post("/v1/models/churn/labels", json=body).status_code == 401
        assert c.get("/v1/models").status_code == 200  # reads stay open


def test_reference_can_be_replaced(client: TestClient, tmp_path: Path) -> None:
    frame = pd.read_parquet(_reference(tmp_path))
    frame["age"] = frame["age"] + 20
    buf = io.BytesIO()
    frame.to_parquet(buf)
    r = client.put(
        "/v1/models/churn/reference",
        content=buf.getvalue(),
        headers={"content-type": wire.PARQUET},
    )
    assert r.status_code == 200 and r.json() == {"reference_id": 2, "rows": 5_000}


def test_health_readiness_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    spec = client.get("/openapi.json").json()
    assert "/v1/models/{model}/predictions" in spec["paths"]
    post = spec["paths"]["/v1/models/{model}/predictions"]["post"]
    assert set(post["requestBody"]["content"]) == {wire.JSON, wire.ARROW_STREAM, wire.PARQUET}


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.mark.integration
def test_metrics_exposition_is_valid_and_bounded(
    client: TestClient, tmp_path: Path, promtool: str
) -> None:
    rng = np.random.default_rng(6)
    for w in range(4):  # high-cardinality input: unique ids, tags and category values
        rows = _rows(200, w * W + 1, rng, prefix=f"w{w}")
        for i, row in enumerate(rows):
            row["features"]["plan"] = f"plan-{w}-{i}"
            row["tags"] = {"user": f"u{w}-{i}"}
        _post(client, rows)
    _post(client, _rows(1, 1_000.0, rng))
    # the closed windows are analysed on the monitor's own thread: a scrape right after
    # the write may come first, so wait for it (a real scraper sees them next time)
    assert client.collector.monitor("churn").wait_analysed(30)  # type: ignore[attr-defined]
    text = client.get("/metrics").text
    families = _families(text)
    assert families["watchkeeper_predictions"].samples[0].value == 801
    latency = families["watchkeeper_latency_seconds"]
    assert latency.type == "summary"
    samples = {(s.name, s.labels.get("quantile")): s.value for s in latency.samples}
    assert samples[("watchkeeper_latency_seconds", "0.99")] == pytest.approx(0.01)
    assert samples[("watchkeeper_latency_seconds_count", None)] == 200
    drift = families["watchkeeper_feature_drift_score"]
    assert {s.labels["feature"] for s in drift.samples} == {"age", "plan"}
    series = [s for f in families.values() for s in f.samples]
    assert len(series) < 80  # independent of the 800 ids, tags and category values
    for sample in series:
        assert set(sample.labels) <= {"model", "version", "feature", "method", "quantile",
                                      "metric", "output", "kind", "reason"}  # fmt: skip
        assert not any(v.startswith(("w0", "u0", "plan-")) for v in sample.labels.values())
    metrics_file = tmp_path / "metrics.txt"
    metrics_file.write_text(text)
    promtool = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert promtool.returncode == 0, promtool.stdout + promtool.stderr
