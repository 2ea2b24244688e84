"""Notifiers against real local receivers: an HTTP server and an SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from conftest import free_port
from webhook_receiver import Receiver

from watchkeeper.alerts.engine import AlertEvent
from watchkeeper.alerts.notifiers import (
    Dispatcher,
    EmailNotifier,
    SlackNotifier,
    WebhookNotifier,
    build_notifier,
)
from watchkeeper.alerts.rules import parse_rules
from watchkeeper.errors import ConfigError
from watchkeeper.store import MemoryStore


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _event(store: MemoryStore, kind: str = "firing") -> AlertEvent:
    (rule,) = parse_rules([{"name": "FeatureDrifting", "metric": "feature_drifted",
                            "op": ">=", "threshold": 1, "severity": "critical",
                            "runbook": "https://runbooks/drift"}])  # fmt: skip
    evidence = {"value": 1.0, "threshold": 1.0, "summary": "age drifted", "started_at": 60.0}
    alert_id = store.save_alert("churn", rule.name, {"feature": "age"}, "firing", 60.0, evidence)
    return AlertEvent(kind, alert_id, "churn", "1", rule, {"feature": "age"}, 120.0, evidence)


def test_webhook_speaks_alertmanagers_format(receiver: Receiver) -> None:
    store = MemoryStore()
    WebhookNotifier("hook", receiver.url).send(_event(store))
    WebhookNotifier("hook", receiver.url).send(_event(store, "resolved"))
    firing, resolved = receiver.bodies
    assert firing["version"] == "4" and firing["status"] == "firing"
    (alert,) = firing["alerts"]
    assert alert["labels"] == {
        "alertname": "FeatureDrifting",
        "model": "churn",
        "version": "1",
        "severity": "critical",
        "feature": "age",
    }
    assert alert["annotations"]["summary"] == "age drifted"
    assert alert["annotations"]["runbook_url"] == "https://runbooks/drift"
    assert alert["startsAt"] == "1970-01-01T00:01:00Z" and alert["endsAt"].startswith("0001")
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][0]["endsAt"] == "1970-01-01T00:02:00Z"
    assert resolved["alerts"][0]["fingerprint"] == alert["fingerprint"]


def test_slack_message_names_the_alert(receiver: Receiver) -> None:
    SlackNotifier("slack", receiver.url).send(_event(MemoryStore()))
    text = receiver.bodies[0]["text"]
    assert "[FIRING] FeatureDrifting (critical) on churn v1 feature=age" in text
    assert "age drifted" in text and "https://runbooks/drift" in text


def test_the_log_line_has_no_chat_emoji_code(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="watchkeeper.alerts"):
        build_notifier({"type": "log"}, "notifiers[0]").send(_event(MemoryStore()))
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("[FIRING] FeatureDrifting (critical) on churn v1 feature=age")
    assert ":rotating_light:" not in line and ":white_check_mark:" not in line


def test_email_reaches_a_real_smtp_server() -> None:
    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        EmailNotifier("mail", host="127.0.0.1", port=port, sender="wk@localhost",
                      to=["oncall@localhost"]).send(_event(MemoryStore()))  # fmt: skip
    finally:
        controller.stop()
    mail = message_from_bytes(received[0])
    assert mail["Subject"] == "[FIRING] FeatureDrifting on churn v1"
    assert mail["To"] == "oncall@localhost"
    assert "age drifted" in mail.get_payload()


def test_dispatcher_retries_and_records_every_outcome() -> None:
    flaky = Receiver(fail=2)  # two 503s, then accepted
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    store = MemoryStore()
    try:
        dispatcher = Dispatcher(
            [WebhookNotifier("flaky", flaky.url), WebhookNotifier("dead", dead, timeout=1)],
            store, attempts=3, backoff=0.01,
        )  # fmt: skip
        event = _event(store)
        dispatcher(event)
        assert dispatcher.join(30)
        dispatcher.close()
    finally:
        flaky.close()
    assert len(flaky.bodies) == 1
    (record,) = store.alerts("churn")
    outcomes = {n["notifier"]: n for n in record.evidence["notifications"]}
    assert outcomes["flaky"]["ok"] is True and outcomes["flaky"]["attempts"] == 3
    assert outcomes["dead"]["ok"] is False and "ConnectError" in outcomes["dead"]["error"]
    assert dispatcher.delivered == 1 and dispatcher.failed == 1


def test_notifier_config_errors_name_the_key() -> None:
    assert build_notifier({"type": "log"}, "notifiers[0]").name == "log"
    with pytest.raises(ConfigError, match=r"notifiers\[1\]"):
        build_notifier({"type": "webhook"}, "notifiers[1]")
