"""Alerts: their history, silences, and reloading the rules without a restart."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from watchkeeper.alerts.silences import MAX_SILENCE_SECONDS
from watchkeeper.errors import WatchkeeperError
from watchkeeper.jsonable import json_ready
from watchkeeper.server.deps import Body, ConfigPath, ServiceDep, require_api_key
from watchkeeper.server.errors import HTTPProblem
from watchkeeper.service.config import load_config
from watchkeeper.units import parse_duration

__all__ = ["router"]

router = APIRouter(tags=["alerts"])
_NEEDS_KEY = [Depends(require_api_key)]


@router.get("/v1/alerts")
def list_alerts(
    service: ServiceDep, model: str | None = None, state: str | None = None
) -> dict[str, Any]:
    """Alert history (firing and resolved, newest first) and the pending ones."""
    return {
        "alerts": [
            {
                "id": a.id,
                "model": a.model,
                "rule": a.rule,
                "labels": dict(a.labels),
                "state": a.state,
                "started_at": a.started_at,
                "resolved_at": a.resolved_at,
                "silenced": "silenced_by" in a.evidence,
                "evidence": json_ready(dict(a.evidence)),
            }
            for a in service.store.alerts(model, state)
        ],
        "pending": [
            {"model": m, "rule": r, "labels": dict(labels)}
            for m, r, labels, st in service.alerts.active()
            if st == "pending" and (model is None or m == model)
        ],
    }


def _silence_request(body: bytes) -> tuple[dict[str, str], float, dict[str, Any]]:
    """Matchers, duration in seconds and the whole document of a silence request."""
    try:
        doc = json.loads(body)
    except RecursionError:
        raise HTTPProblem(422, "$", "nested too deeply", "a JSON object") from None
    except (ValueError, UnicodeDecodeError) as exc:  # also an integer of 4,300+ digits
        raise HTTPProblem(422, "$", f"not JSON ({exc})", "a JSON object") from exc
    if not isinstance(doc, dict):
        raise HTTPProblem(422, "$", "not an object", '{"matchers": ..., "duration": ...}')
    matchers = doc.get("matchers")
    if (
        not isinstance(matchers, dict)
        or not matchers
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in matchers.items())
    ):
        raise HTTPProblem(422, "$.matchers", f"got {matchers!r}", "an object of label: value")
    try:
        seconds = parse_duration(doc.get("duration", "1h"), "$.duration")
    except WatchkeeperError as exc:
        raise HTTPProblem(422, "$.duration", exc.message, "a duration such as '2h'") from exc
    if seconds > MAX_SILENCE_SECONDS:
        days = f"{MAX_SILENCE_SECONDS / 86400:.0f} days"
        raise HTTPProblem(
            422, "$.duration", f"{seconds:g} s is longer than {days}", f"at most {days}"
        )
    for key in ("comment", "created_by"):
        if not isinstance(doc.get(key, ""), str):
            raise HTTPProblem(422, f"$.{key}", f"got {type(doc[key]).__name__}", "a string")
    return matchers, seconds, doc


@router.post("/v1/silences", dependencies=_NEEDS_KEY)
async def post_silence(body: Body, service: ServiceDep) -> dict[str, Any]:
    """Hold back notifications of alerts matching every label until it expires:
    ``{"matchers": {"alertname": "FeatureDrifting"}, "duration": "2h", "comment": ""}``."""
    matchers, seconds, doc = _silence_request(body)
    silence = service.silence(
        matchers,
        service.clock.now() + seconds,
        str(doc.get("comment", "")),
        str(doc.get("created_by", "")),
    )
    return {"id": silence.id, "matchers": silence.matchers, "ends_at": silence.ends_at}


@router.get("/v1/silences")
def list_silences(service: ServiceDep) -> dict[str, Any]:
    """Silences, including expired ones."""
    now = service.clock.now()
    return {
        "silences": [
            {
                "id": s.id,
                "matchers": s.matchers,
                "ends_at": s.ends_at,
                "comment": s.comment,
                "active": s.ends_at > now,
            }
            for s in service.silences
        ]
    }


@router.post("/v1/reload", dependencies=_NEEDS_KEY)
async def reload(service: ServiceDep, config_path: ConfigPath) -> dict[str, Any]:
    """Re-read the config file's rules, notifiers and actions (no restart)."""
    if config_path is None:
        raise HTTPProblem(
            409,
            "config",
            "the collector was not started from a file",
            "watchkeeper serve --config FILE",
        )
    new = await run_in_threadpool(load_config, config_path)  # errors name the key: 422
    return await run_in_threadpool(service.reload, new)
