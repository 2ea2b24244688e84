"""Injected drift reaches a webhook receiver twice: through watchkeeper's own notifier,
and through a real Prometheus evaluating the exported rules and a real Alertmanager."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import free_port, wait_http
from webhook_receiver import Receiver

pytestmark = pytest.mark.integration

RULES = [
    {
        "name": "FeatureDrifting",
        "metric": "feature_drifted",
        "labels": {"feature": "*"},
        "over": 2,
        "aggregate": "min",
        "op": ">=",
        "threshold": 1,
        "severity": "warning",
        "summary": "{feature} drifted twice in a row",
    }
]


def _wait(predicate, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("condition not met in time")
        time.sleep(0.5)


def test_drift_alert_reaches_receivers_directly_and_through_alertmanager(
    tmp_path: Path, prometheus, alertmanager
) -> None:
    direct, via_am = Receiver(), Receiver()
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {"age": rng.normal(40, 10, 5_000), "plan": rng.choice(["a", "b"], 5_000)}
    ).to_parquet(tmp_path / "reference.parquet")
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "store": "sqlite:///wk.db",
                "wal_dir": "wal",
                "tick_seconds": 0.2,
                "models": {
                    "churn": {"reference": "reference.parquet", "grace": "1s", "rollups": []}
                },
                "rules": RULES,
                "notifiers": [{"type": "webhook", "url": direct.url}],
            }
        )
    )
    rules_file = tmp_path / "rules.yml"
    exported = subprocess.run(
        [
            sys.executable,
            "-m",
            "watchkeeper.cli",
            "export",
            "prometheus-rules",
            "--config",
            str(config),
            "--output",
            str(rules_file),
            "--window",
            "1m",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "wrote 1 rules" in exported.stdout
    port = free_port()
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "watchkeeper.cli",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=log,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz", 60)
        am = alertmanager(via_am.url)
        prometheus([f"127.0.0.1:{port}"], rule_file=rules_file, alertmanager=am)
        start = time.time() - 600  # two minutes of drifted ages, in windows already over
        for s in range(4):
            rows = [
                {"features": {"age": float(a), "plan": "a"}, "timestamp": start + 30 * s + i * 1e-3}
                for i, a in enumerate(rng.normal(60, 10, 300))
            ]
            httpx.post(
                f"http://127.0.0.1:{port}/v1/models/churn/predictions", json={"rows": rows}
            ).raise_for_status()
        _wait(lambda: any(b["status"] == "firing" for b in direct.bodies))
        _wait(lambda: any(b["status"] == "firing" for b in via_am.bodies))
    finally:
        serve.terminate()
        serve.wait(60)
        log.close()
        direct.close()
        via_am.close()
    mine = next(b for b in direct.bodies if b["status"] == "firing")["alerts"][0]
    theirs = next(b for b in via_am.bodies if b["status"] == "firing")["alerts"][0]
    assert mine["labels"]["alertname"] == theirs["labels"]["alertname"] == "FeatureDrifting"
    assert mine["labels"]["feature"] == theirs["labels"]["feature"] == "age"
    assert theirs["labels"]["model"] == "churn"
    assert theirs["annotations"]["summary"] == "age drifted twice in a row"
