"""The notifier seam, and delivery with retries whose outcome is recorded, never lost."""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from watchkeeper.alerts.engine import AlertEvent
from watchkeeper.alerts.history import amend_alert
from watchkeeper.errors import ConfigError
from watchkeeper.store import Store

__all__ = ["Dispatcher", "Notifier", "build_notifier"]

log = logging.getLogger("watchkeeper.alerts")


@runtime_checkable
class Notifier(Protocol):
    """Delivers one alert event; raises on failure (the dispatcher retries)."""

    name: str

    def send(self, event: AlertEvent) -> None:
        """Deliver ``event`` or raise."""


def build_notifier(spec: Mapping[str, Any], where: str) -> Notifier:
    """A notifier from config: ``{type: webhook|slack|email|log, ...}``."""
    from watchkeeper.alerts.notifiers.email import EmailNotifier
    from watchkeeper.alerts.notifiers.webhook import LogNotifier, SlackNotifier, WebhookNotifier

    kind = spec.get("type")
    name = str(spec.get("name", kind))
    if kind == "webhook" and isinstance(spec.get("url"), str):
        return WebhookNotifier(name, spec["url"], timeout=float(spec.get("timeout", 5.0)))
    if kind == "slack" and isinstance(spec.get("url"), str):
        return SlackNotifier(name, spec["url"], timeout=float(spec.get("timeout", 5.0)))
    if kind == "email" and isinstance(spec.get("to"), list):
        return EmailNotifier(
            name,
            host=str(spec.get("host", "127.0.0.1")),
            port=int(spec.get("port", 25)),
            sender=str(spec.get("from", "watchkeeper@localhost")),
            to=[str(t) for t in spec["to"]],
        )
    if kind == "log":
        return LogNotifier(name)
    raise ConfigError(
        f"{where}: expected a notifier {{type: webhook|slack (url), email (to, host, port), "
        f"log}}, got {dict(spec)!r}",
        field=where,
        value=dict(spec),
        expected="type webhook, slack, email or log with its settings",
    )


class Dispatcher:
    """Deliver events to every notifier in a background thread, with retries.

    Each attempt waits ``backoff * 2**i`` seconds (with jitter) after a failure, up to
    ``attempts`` tries. The outcome of each notifier — delivered or failed, attempts,
    the last error — is appended to the alert's evidence in the store under
    ``notifications``, so a failed delivery is visible in the alert's history.
    """

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        store: Store,
        *,
        attempts: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self.notifiers = list(notifiers)
        self.store = store
        self.attempts = attempts
        self.backoff = backoff
        self.delivered = 0
        self.failed = 0
        self._queue: queue.Queue[AlertEvent | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="watchkeeper-notify", daemon=True)
        self._thread.start()

    def __call__(self, event: AlertEvent) -> None:
        self._queue.put(event)

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self._deliver(event)
            except Exception:  # a bug in recording must not stop later deliveries
                log.exception("watchkeeper: recording a notification failed")
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _deliver(self, event: AlertEvent) -> None:
        outcomes = []
        for notifier in self.notifiers:
            error = None
            attempt = 0
            for attempt in range(1, self.attempts + 1):
                try:
                    notifier.send(event)
                    error = None
                    break
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    if attempt < self.attempts:
                        time.sleep(self.backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2))
            ok = error is None
            self.delivered += ok
            self.failed += not ok
            if not ok:
                log.error(
                    "watchkeeper: %s could not deliver %s %s: %s",
                    notifier.name,
                    event.kind,
                    event.rule.name,
                    error,
                )
            outcomes.append(
                {
                    "notifier": notifier.name,
                    "event": event.kind,
                    "ok": ok,
                    "attempts": attempt,
                    "error": error,
                    "at": time.time(),
                }
            )
        amend_alert(
            self.store,
            event.model,
            event.alert_id,
            lambda ev: {**ev, "notifications": [*ev.get("notifications", []), *outcomes]},
        )

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until every queued event is delivered (or given up); True if done."""
        end = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.02)
        return not self._queue.unfinished_tasks

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(30)
