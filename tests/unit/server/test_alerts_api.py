"""Alert rules in the collector: evaluation as windows close, notifications, silences."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import webhook_receiver as receivers
import yaml
from fastapi.testclient import TestClient
from test_api import _config, _post, _rows

from watchkeeper.errors import RuleError
from watchkeeper.monitor import ManualClock
from watchkeeper.server.app import create_app
from watchkeeper.service import Service
from watchkeeper.service.config import parse_config

RULES = [
    {
        "name": "AgeDrifting",
        "metric": "feature_drifted",
        "labels": {"feature": "age"},
        "op": ">=",
        "threshold": 1,
        "severity": "warning",
        "summary": "{feature} drifted",
    },
    {"name": "ManyErrors", "metric": "error_rate", "op": ">", "threshold": 0.05},
]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, Service, receivers.Receiver]]:
    receiver = receivers.Receiver()
    doc = _config(tmp_path, rules=RULES, notifiers=[{"type": "webhook", "url": receiver.url}])
    cfg = parse_config(doc, base=tmp_path)
    collector = Service(cfg, clock=ManualClock(0.0))
    with TestClient(create_app(cfg, service=collector)) as client:
        yield client, collector, receiver
    receiver.close()


def _drifted(rng: np.random.Generator, n: int, start: float, errors: bool = False) -> list[dict]:
    rows = _rows(n, start, rng)
    for row in rows:
        row["features"]["age"] += 25.0
        if errors:
            row["error"] = "timeout"
    return rows


def test_a_rule_fires_notifies_and_shows_in_the_api(setup) -> None:
    client, collector, receiver = setup
    rng = np.random.default_rng(1)
    _post(client, _drifted(rng, 300, 1.0))
    _post(client, _rows(1, 200.0, rng))  # closes window 0
    collector.tick()
    assert collector.dispatcher is not None and collector.dispatcher.join(20)
    (body,) = receiver.bodies
    assert body["status"] == "firing"
    assert body["alerts"][0]["labels"]["alertname"] == "AgeDrifting"
    assert body["alerts"][0]["annotations"]["summary"] == "age drifted"
    alerts = client.get("/v1/alerts", params={"model": "churn"}).json()["alerts"]
    assert [(a["rule"], a["state"], a["labels"]) for a in alerts] == [
        ("AgeDrifting", "firing", {"feature": "age", "method": "ks_binned"})
    ]
    assert alerts[0]["evidence"]["notifications"][0]["ok"] is True


def test_a_silence_holds_back_notifications_but_keeps_the_record(setup) -> None:
    client, collector, receiver = setup
    r = client.post(
        "/v1/silences",
        json={"matchers": {"alertname": "ManyErrors"}, "duration": "2h", "comment": "known outage"},
    )
    assert r.status_code == 200 and r.json()["id"] == 1
    rng = np.random.default_rng(2)
    _post(client, [{**row, "error": "timeout"} for row in _rows(100, 1.0, rng)])
    _post(client, _rows(1, 200.0, rng))
    collector.tick()
    assert collector.dispatcher is not None and collector.dispatcher.join(20)
    assert receiver.bodies == []
    alerts = client.get("/v1/alerts").json()["alerts"]
    assert [(a["rule"], a["silenced"]) for a in alerts] == [("ManyErrors", True)]
    assert client.get("/v1/silences").json()["silences"][0]["active"] is True
    bad = client.post("/v1/silences", json={"matchers": {}, "duration": "2h"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "$.matchers"


def test_rules_in_the_config_are_checked_at_load(tmp_path: Path) -> None:
    doc = _config(
        tmp_path, rules=[{"name": "X", "metric": "accuracyy", "op": "<", "threshold": 0.8}]
    )
    with pytest.raises(RuleError, match=r"rules\[0\] \(X\)\.metric: unknown metric 'accuracyy'"):
        parse_config(doc, base=tmp_path)


def test_the_alerts_and_silence_commands_talk_to_a_running_collector(tmp_path: Path) -> None:
    import threading

    import uvicorn
    from conftest import free_port, wait_http
    from typer.testing import CliRunner

    from watchkeeper.cli import app as cli

    cfg = parse_config(_config(tmp_path, rules=RULES), base=tmp_path)
    collector = Service(cfg, clock=ManualClock(0.0))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(cfg, service=collector), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/readyz")
        rng = np.random.default_rng(3)
        import httpx

        for rows in (_drifted(rng, 300, 1.0), _rows(1, 200.0, rng)):
            httpx.post(f"{url}/v1/models/churn/predictions", json={"rows": rows}).raise_for_status()
        collector.tick()
        runner = CliRunner()
        listed = runner.invoke(cli, ["alerts", "--url", url])
        assert listed.exit_code == 0, listed.output
        assert "AgeDrifting" in listed.output and "firing" in listed.output
        made = runner.invoke(
            cli, ["silence", "--match", "alertname=AgeDrifting", "--for", "30m", "--url", url]
        )
        assert made.exit_code == 0, made.output
        assert collector.silences[0].matchers == {"alertname": "AgeDrifting"}
        bad = runner.invoke(cli, ["silence", "--match", "nolabel", "--url", url])
        assert bad.exit_code == 2 and "expected label=value" in bad.output
    finally:
        server.should_exit = True
        thread.join(30)


def test_rules_reload_without_a_restart_and_bad_ones_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "watchkeeper.yaml"
    doc = _config(tmp_path, rules=RULES)
    path.write_text(yaml.safe_dump(doc))
    cfg = parse_config(doc, base=tmp_path)
    collector = Service(cfg, clock=ManualClock(0.0))
    with TestClient(create_app(cfg, service=collector, config_path=path)) as client:
        path.write_text(
            yaml.safe_dump(
                {
                    **doc,
                    "rules": [
                        *RULES,
                        {
                            "name": "Slow",
                            "metric": "latency_seconds",
                            "labels": {"quantile": "0.99"},
                            "op": ">",
                            "threshold": 1,
                        },
                    ],
                }
            )
        )
        r = client.post("/v1/reload")
        assert r.status_code == 200 and r.json()["rules"] == ["AgeDrifting", "ManyErrors", "Slow"]
        assert [rule.name for rule in collector.alerts.rules][-1] == "Slow"
        path.write_text(
            yaml.safe_dump(
                {**doc, "rules": [{"name": "Bad", "metric": "nope", "op": ">", "threshold": 1}]}
            )
        )
        r = client.post("/v1/reload")
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "rules[0] (Bad).metric"
        assert len(collector.alerts.rules) == 3  # the old rules stay


def test_a_resolution_keeps_the_notification_history(setup) -> None:
    client, collector, receiver = setup
    rng = np.random.default_rng(4)
    _post(client, _drifted(rng, 300, 1.0))
    _post(client, _rows(1, 70.0, rng))  # closes window 0: fires
    collector.tick()
    assert collector.dispatcher is not None and collector.dispatcher.join(20)
    _post(client, _rows(300, 75.0, rng))  # window 1 is normal
    _post(client, _rows(1, 200.0, rng))  # closes window 1: resolves
    collector.tick()
    assert collector.dispatcher.join(20)
    (alert,) = collector.store.alerts("churn")
    assert alert.state == "resolved"
    events = [n["event"] for n in alert.evidence["notifications"]]
    assert events == ["firing", "resolved"]
    assert [b["status"] for b in receiver.bodies] == ["firing", "resolved"]


def test_every_window_closed_between_two_ticks_is_evaluated(setup) -> None:
    """Errors only in window 1 of windows 0..3, all closed before one tick: the rule
    still fires on window 1 and resolves on window 2 (it used to see only the newest)."""
    client, collector, _receiver = setup
    rng = np.random.default_rng(3)
    _post(client, _rows(50, 1.0, rng))
    _post(client, _rows(1, 66.0, rng, prefix="early-"))  # closes window 0 alone (grace 5 s)
    collector.tick()
    for w in range(1, 4):
        rows = _rows(50, 60.0 * w + 1, rng, prefix=f"w{w}-")
        _post(client, [{**r, "error": "timeout"} for r in rows] if w == 1 else rows)
    _post(client, _rows(1, 400.0, rng))  # the watermark closes windows 0..3 at once
    collector.tick()
    alerts = client.get("/v1/alerts", params={"model": "churn"}).json()["alerts"]
    errors = [a for a in alerts if a["rule"] == "ManyErrors"]
    assert [(a["state"], a["evidence"]["windows"]) for a in errors] == [
        ("resolved", [[60.0, 50 / 51]])  # 50 errors and the row that closed window 0
    ]
