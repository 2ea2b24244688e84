"""Alerts and silences in SQL: the statements that write them and the records read back.

Labels, matchers and evidence are stored as JSON text; evidence values JSON cannot
hold are stored as their ``str``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from watchkeeper.store import _tables as t
from watchkeeper.store.base import AlertRecord, SilenceRecord, labels_key

__all__ = ["alert", "insert_alert", "insert_silence", "silence", "update_alert"]


def insert_alert(
    model: str,
    rule: str,
    labels: Mapping[str, str],
    state: str,
    started_at: float,
    evidence: Mapping[str, Any],
) -> Any:
    """The statement inserting an open alert, returning its id."""
    return (
        sa.insert(t.alerts)
        .values(
            model=model,
            rule=rule,
            labels=labels_key(labels),
            state=state,
            started_at=started_at,
            resolved_at=None,
            evidence=json.dumps(evidence, default=str),
        )
        .returning(t.alerts.c.id)
    )


def update_alert(
    alert_id: int, state: str, resolved_at: float | None, evidence: Mapping[str, Any]
) -> Any:
    """The statement updating alert ``alert_id``'s state, resolution time and evidence."""
    return (
        sa.update(t.alerts)
        .where(t.alerts.c.id == alert_id)
        .values(state=state, resolved_at=resolved_at, evidence=json.dumps(evidence, default=str))
    )


def alert(r: Any) -> AlertRecord:
    """The record of a ``wk_alerts`` row."""
    return AlertRecord(
        int(r.id),
        r.model,
        r.rule,
        json.loads(r.labels),
        r.state,
        float(r.started_at),
        None if r.resolved_at is None else float(r.resolved_at),
        json.loads(r.evidence),
    )


def insert_silence(
    matchers: Mapping[str, str],
    ends_at: float,
    *,
    comment: str,
    created_by: str,
    created_at: float,
) -> Any:
    """The statement inserting a silence, returning its id."""
    return (
        sa.insert(t.silences)
        .values(
            matchers=labels_key(matchers),
            ends_at=ends_at,
            comment=comment,
            created_by=created_by,
            created_at=created_at,
        )
        .returning(t.silences.c.id)
    )


def silence(r: Any) -> SilenceRecord:
    """The record of a ``wk_silences`` row."""
    return SilenceRecord(
        int(r.id),
        json.loads(r.matchers),
        float(r.ends_at),
        r.comment,
        r.created_by,
        float(r.created_at),
    )
