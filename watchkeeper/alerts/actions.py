"""Retraining actions: what a firing rule starts, with a cooldown and one run per model.

An action, declared in the config and named by a rule's ``action``::

    actions:
      retrain:
        command: [python, retrain.py]   # or webhook: http://127.0.0.1:9000/retrain
        cooldown: 1h                    # no new run for the model within this time
        timeout: 1h
        promote: true                   # exit 0 + a last stdout line {"version": ..,
                                        #   "reference": path} registers that version

The command gets the alert's context as JSON on stdin (model, version, rule, labels,
window, evidence); a webhook gets it as the POST body. The outcome — started, skipped
(already running, cooldown), exit code, output tail, promoted version — is recorded in
the alert's evidence under ``action``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from watchkeeper.alerts.engine import AlertEvent
from watchkeeper.alerts.history import amend_alert
from watchkeeper.errors import ConfigError
from watchkeeper.store import Store
from watchkeeper.units import parse_duration

__all__ = ["Action", "ActionRunner", "parse_actions"]

log = logging.getLogger("watchkeeper.alerts")


@dataclass(frozen=True)
class Action:
    """A validated action."""

    name: str
    command: tuple[str, ...] = ()
    webhook: str | None = None
    cooldown_seconds: float = 3600.0
    timeout_seconds: float = 3600.0
    promote: bool = False


def parse_actions(doc: Any) -> dict[str, Action]:
    """Validate the ``actions:`` mapping; errors name ``actions.<name>.<key>``."""
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise ConfigError(
            f"actions: expected a mapping of name to action, got {doc!r}",
            field="actions",
            value=doc,
            expected="a mapping",
        )
    out = {}
    for name, spec in doc.items():
        where = f"actions.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"{where}: expected a mapping, got {spec!r}",
                field=where,
                value=spec,
                expected="a mapping",
            )
        unknown = set(spec) - {"command", "webhook", "cooldown", "timeout", "promote"}
        if unknown:
            key = sorted(unknown)[0]
            raise ConfigError(
                f"{where}.{key}: unknown setting; expected command, webhook, "
                "cooldown, timeout or promote",
                field=f"{where}.{key}",
                value=key,
                expected="command, webhook, cooldown, timeout, promote",
            )
        command = spec.get("command") or []
        if isinstance(command, str):
            command = command.split()
        webhook = spec.get("webhook")
        if not command and not isinstance(webhook, str):
            raise ConfigError(
                f"{where}: expected a command (list) or a webhook (URL)",
                field=where,
                value=dict(spec),
                expected="command or webhook",
            )
        out[str(name)] = Action(
            name=str(name),
            command=tuple(str(c) for c in command),
            webhook=webhook if isinstance(webhook, str) else None,
            cooldown_seconds=parse_duration(spec.get("cooldown", "1h"), f"{where}.cooldown"),
            timeout_seconds=parse_duration(spec.get("timeout", "1h"), f"{where}.timeout"),
            promote=bool(spec.get("promote", False)),
        )
    return out


class ActionRunner:
    """Start actions for firing alerts, at most one running per model.

    Parameters
    ----------
    actions
        By name, from :func:`parse_actions`.
    store
        Where the outcome is recorded (the alert's evidence).
    promote
        Called as ``promote(model, version, reference_path)`` after a command that asked
        for it exits 0.
    """

    def __init__(
        self,
        actions: Mapping[str, Action],
        store: Store,
        *,
        promote: Callable[[str, str, str | None], object] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.actions = dict(actions)
        self.store = store
        self.promote = promote
        self.clock = clock
        self._running: dict[str, threading.Thread] = {}
        self._last_start: dict[str, float] = {}
        self._lock = threading.Lock()
        self.runs: list[dict[str, Any]] = []

    def __call__(self, event: AlertEvent) -> None:
        name = event.rule.action
        if event.kind != "firing" or name is None:
            return
        action = self.actions.get(name)
        if action is None:
            self._record(event, {"action": name, "status": "unknown action"})
            return
        now = self.clock()
        with self._lock:
            running = self._running.get(event.model)
            if running is not None and running.is_alive():
                self._record(event, {"action": name, "status": "skipped: already running"})
                return
            last = self._last_start.get(event.model)
            if last is not None and now - last < action.cooldown_seconds:
                self._record(
                    event, {"action": name, "status": "skipped: cooldown", "last_started": last}
                )
                return
            self._last_start[event.model] = now
            thread = threading.Thread(
                target=self._run,
                args=(action, event),
                name=f"watchkeeper-action-{event.model}",
                daemon=True,
            )
            self._running[event.model] = thread
        self._record(event, {"action": name, "status": "started", "started_at": now})
        thread.start()

    def context(self, event: AlertEvent) -> dict[str, Any]:
        return {
            "model": event.model,
            "version": event.version,
            "rule": event.rule.name,
            "labels": dict(event.labels),
            "at": event.at,
            "evidence": dict(event.evidence),
        }

    def _run(self, action: Action, event: AlertEvent) -> None:
        outcome: dict[str, Any] = {"action": action.name}
        payload = json.dumps(self.context(event), default=str)
        try:
            if action.webhook:
                r = httpx.post(
                    action.webhook,
                    content=payload,
                    headers={"content-type": "application/json"},
                    timeout=min(action.timeout_seconds, 60),
                )
                outcome |= {
                    "status": "done" if r.is_success else "failed",
                    "http_status": r.status_code,
                }
            else:
                proc = subprocess.run(
                    list(action.command),
                    input=payload,
                    capture_output=True,
                    text=True,
                    timeout=action.timeout_seconds,
                )
                outcome |= {
                    "status": "done" if proc.returncode == 0 else "failed",
                    "exit_code": proc.returncode,
                    "stdout": proc.stdout[-2000:],
                    "stderr": proc.stderr[-2000:],
                }
                if proc.returncode == 0 and action.promote and self.promote is not None:
                    outcome |= self._promote(event, proc.stdout)
        except Exception as exc:  # recorded, never lost
            outcome |= {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        outcome["finished_at"] = self.clock()
        self._record(event, outcome)

    def _promote(self, event: AlertEvent, stdout: str) -> dict[str, Any]:
        lines = [line for line in stdout.strip().splitlines() if line.strip()]
        try:
            result = json.loads(lines[-1]) if lines else {}
            version = str(result["version"])
        except (ValueError, KeyError, TypeError):
            return {
                "promoted": None,
                "promote_error": 'last stdout line is not {"version": ..., "reference": ...}',
            }
        assert self.promote is not None
        try:
            self.promote(event.model, version, result.get("reference"))
        except Exception as exc:
            return {"promoted": None, "promote_error": f"{type(exc).__name__}: {exc}"}
        return {"promoted": version}

    def _record(self, event: AlertEvent, outcome: dict[str, Any]) -> None:
        self.runs.append(outcome)
        amend_alert(
            self.store,
            event.model,
            event.alert_id,
            lambda ev: {**ev, "action": {**ev.get("action", {}), **outcome}},
        )

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for running actions (tests, shutdown)."""
        end = time.monotonic() + timeout
        for thread in list(self._running.values()):
            thread.join(max(0.0, end - time.monotonic()))
