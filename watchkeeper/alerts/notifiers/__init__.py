"""Where alerts go: webhooks (Alertmanager format), Slack-compatible webhooks, e-mail,
and the log; a :class:`Dispatcher` retries each delivery and records the outcome."""

from __future__ import annotations

from watchkeeper.alerts.notifiers.base import Dispatcher, Notifier, build_notifier
from watchkeeper.alerts.notifiers.email import EmailNotifier
from watchkeeper.alerts.notifiers.webhook import (
    LogNotifier,
    SlackNotifier,
    WebhookNotifier,
    alertmanager_payload,
)

__all__ = [
    "Dispatcher",
    "EmailNotifier",
    "LogNotifier",
    "Notifier",
    "SlackNotifier",
    "WebhookNotifier",
    "alertmanager_payload",
    "build_notifier",
]
