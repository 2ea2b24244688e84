"""Retraining actions: real commands, cooldown, one run per model, promotion."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from watchkeeper.alerts.actions import ActionRunner, parse_actions
from watchkeeper.alerts.engine import AlertEvent
from watchkeeper.alerts.rules import parse_rules
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import ManualClock
from watchkeeper.server.app import create_app
from watchkeeper.service import Service
from watchkeeper.service.config import parse_config
from watchkeeper.store import MemoryStore

RETRAIN = """
import json, sys
ctx = json.load(sys.stdin)
print("retraining", ctx["model"], "after", ctx["rule"], ctx["labels"])
print(json.dumps({"version": "2", "reference": sys.argv[1]}))
"""


def _event(store: MemoryStore, action: str = "retrain") -> AlertEvent:
    (rule,) = parse_rules(
        [
            {
                "name": "Drift",
                "metric": "feature_drifted",
                "op": ">=",
                "threshold": 1,
                "action": action,
            }
        ]
    )
    alert_id = store.save_alert("churn", "Drift", {"feature": "age"}, "firing", 1.0, {})
    return AlertEvent("firing", alert_id, "churn", "1", rule, {"feature": "age"}, 1.0, {})


def test_a_command_runs_with_the_context_and_promotes(tmp_path: Path) -> None:
    script = tmp_path / "retrain.py"
    script.write_text(RETRAIN)
    store = MemoryStore()
    promoted: list[tuple] = []
    actions = parse_actions(
        {
            "retrain": {
                "command": [sys.executable, str(script), "ref.parquet"],
                "promote": True,
                "cooldown": "1h",
            }
        }
    )
    runner = ActionRunner(actions, store, promote=lambda *a: promoted.append(a))
    runner(_event(store))
    runner.wait(60)
    assert promoted == [("churn", "2", "ref.parquet")]
    action = store.alerts("churn")[0].evidence["action"]
    assert action["status"] == "done" and action["exit_code"] == 0
    assert "retraining churn after Drift {'feature': 'age'}" in action["stdout"]
    assert action["promoted"] == "2"


def test_one_run_per_model_and_a_cooldown(tmp_path: Path) -> None:
    clock = ManualClock(0.0)
    store = MemoryStore()
    slow = [sys.executable, "-c", "import time; time.sleep(1.5)"]
    runner = ActionRunner(
        parse_actions({"retrain": {"command": slow, "cooldown": "10m"}}), store, clock=clock.now
    )
    runner(_event(store))
    runner(_event(store))  # while the first still runs
    runner.wait(30)
    clock.advance(60)
    runner(_event(store))  # finished, but within the cooldown
    clock.advance(600)
    runner(_event(store))  # after the cooldown
    runner.wait(30)
    statuses = [a.evidence["action"]["status"] for a in reversed(store.alerts("churn"))]
    assert statuses == ["done", "skipped: already running", "skipped: cooldown", "done"]


def test_action_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"actions\.retrain\.colour"):
        parse_actions({"retrain": {"command": ["x"], "colour": 1}})
    with pytest.raises(ConfigError, match=r"actions\.retrain: expected a command"):
        parse_actions({"retrain": {}})


def test_drift_retrains_promotes_version_2_and_the_collector_follows(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"age": rng.normal(40, 10, 3_000), "prediction": rng.random(3_000)})
    ref.to_parquet(tmp_path / "reference.parquet")
    ref.assign(age=ref["age"] + 20).to_parquet(tmp_path / "reference-v2.parquet")
    script = tmp_path / "retrain.py"
    script.write_text(RETRAIN)
    doc = {
        "store": "sqlite:///wk.db",
        "wal_dir": "wal",
        "fsync": False,
        "tick_seconds": 3600,
        "models": {
            "churn": {
                "reference": "reference.parquet",
                "grace": "0s",
                "rollups": [],
                "max_future_skew": None,
            }
        },
        "actions": {
            "retrain": {
                "command": [sys.executable, str(script), str(tmp_path / "reference-v2.parquet")],
                "promote": True,
            }
        },
        "rules": [
            {
                "name": "AgeDrift",
                "metric": "feature_drifted",
                "labels": {"feature": "age"},
                "op": ">=",
                "threshold": 1,
                "action": "retrain",
            }
        ],
    }
    cfg = parse_config(doc, base=tmp_path)
    collector = Service(cfg, clock=ManualClock(0.0))
    with TestClient(create_app(cfg, service=collector)) as client:
        rows = [
            {"features": {"age": float(a)}, "outputs": 0.5, "timestamp": 1.0 + i * 0.01}
            for i, a in enumerate(rng.normal(60, 10, 300))
        ]
        client.post("/v1/models/churn/predictions", json={"rows": rows}).raise_for_status()
        client.post(
            "/v1/models/churn/predictions",
            json={"rows": [{"features": {"age": 60.0}, "timestamp": 100.0}]},
        )
        collector.tick()
        collector.actions.wait(60)
        models = client.get("/v1/models").json()["models"]
        assert models[0]["version"] == "2"
        (alert,) = collector.store.alerts("churn")
        assert alert.evidence["action"]["promoted"] == "2"
        # the shifted ages are normal for version 2: no drift against its reference
        rows = [
            {"features": {"age": float(a)}, "outputs": 0.5, "timestamp": 200.0 + i * 0.01}
            for i, a in enumerate(rng.normal(60, 10, 300))
        ]
        client.post("/v1/models/churn/predictions", json={"rows": rows}).raise_for_status()
        client.post(
            "/v1/models/churn/predictions",
            json={"rows": [{"features": {"age": 60.0}, "timestamp": 400.0}]},
        )
        points = client.get(
            "/v1/models/churn/metrics",
            params={"metric": "feature_drifted", "label": "feature:age", "version": "2"},
        ).json()["points"]
        assert [p["value"] for p in points] == [0.0]


def test_promote_over_the_api_and_the_cli(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    ref = pd.DataFrame({"age": rng.normal(40, 10, 1_000)})
    ref.to_parquet(tmp_path / "reference.parquet")
    doc = {
        "store": "sqlite:///wk.db",
        "wal_dir": "wal",
        "fsync": False,
        "models": {"churn": {"reference": "reference.parquet"}},
    }
    cfg = parse_config(doc, base=tmp_path)
    with TestClient(create_app(cfg)) as client:
        r = client.put("/v1/models/churn/versions/3", content=b"")
        assert r.status_code == 200 and r.json()["version"] == "3"
        assert client.get("/v1/models").json()["models"][0]["version"] == "3"


def test_a_webhook_action_gets_the_context() -> None:
    from webhook_receiver import Receiver

    receiver = Receiver()
    store = MemoryStore()
    try:
        runner = ActionRunner(parse_actions({"retrain": {"webhook": receiver.url}}), store)
        runner(_event(store))
        runner.wait(30)
    finally:
        receiver.close()
    (body,) = receiver.bodies
    assert body["model"] == "churn" and body["rule"] == "Drift"
    assert body["labels"] == {"feature": "age"}
    assert store.alerts("churn")[0].evidence["action"]["http_status"] == 200


def test_models_promote_on_the_command_line(tmp_path: Path) -> None:
    import threading

    import uvicorn
    from conftest import free_port, wait_http
    from typer.testing import CliRunner

    from watchkeeper.cli import app as cli

    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"age": rng.normal(40, 10, 1_000)})
    ref.to_parquet(tmp_path / "reference.parquet")
    ref.assign(age=ref["age"] + 5).to_parquet(tmp_path / "v2.parquet")
    doc = {
        "store": "sqlite:///wk.db",
        "wal_dir": "wal",
        "fsync": False,
        "models": {"churn": {"reference": "reference.parquet"}},
    }
    cfg = parse_config(doc, base=tmp_path)
    collector = Service(cfg, clock=ManualClock(0.0))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(cfg, service=collector), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz")
        result = CliRunner().invoke(
            cli,
            [
                "models",
                "promote",
                "churn",
                "--version",
                "2",
                "--reference",
                str(tmp_path / "v2.parquet"),
                "--url",
                f"http://127.0.0.1:{port}",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "now monitoring version 2" in result.output
        monitor = collector.monitors["churn"]
        assert monitor.version == "2"
        assert monitor.reference is not None
        assert monitor.reference.profile.columns["age"].mean == pytest.approx(ref["age"].mean() + 5)
    finally:
        server.should_exit = True
        thread.join(30)
