"""Changing a stored alert: one read-modify-write at a time.

The engine (resolution), the dispatcher (notification outcomes), the action runner
(retraining outcomes) and silences all add to the same alert's evidence, from different
threads; each change goes through :func:`amend_alert`, under one lock, so none is lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from watchkeeper.store import Store

__all__ = ["amend_alert"]

_LOCK = threading.Lock()


def amend_alert(
    store: Store,
    model: str,
    alert_id: int,
    amend: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    state: str | None = None,
    resolved_at: float | None = None,
) -> bool:
    """Replace an alert's evidence by ``amend(evidence)`` (and its state, when given);
    False when the alert is not in the store."""
    with _LOCK:
        record = next((a for a in store.alerts(model) if a.id == alert_id), None)
        if record is None:
            return False
        store.update_alert(
            record.id,
            state=record.state if state is None else state,
            resolved_at=record.resolved_at if resolved_at is None else resolved_at,
            evidence=amend(dict(record.evidence)),
        )
        return True
