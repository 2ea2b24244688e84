"""The FastAPI application of ``watchkeeper serve``: versioned JSON API and ``/metrics``."""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.concurrency import run_in_threadpool

from watchkeeper import __version__, wire
from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.exporters import MonitorCollector
from watchkeeper.jsonable import json_ready
from watchkeeper.server.collector import Ack, Collector
from watchkeeper.server.config import ServerConfig
from watchkeeper.server.dashboard import add_dashboard
from watchkeeper.tables import read_table_bytes
from watchkeeper.units import parse_duration

__all__ = ["create_app"]

ROWS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["features"],
                "properties": {
                    "features": {"type": "object", "additionalProperties": True},
                    "outputs": {},
                    "id": {"type": "string"},
                    "timestamp": {"type": "number"},
                    "latency": {"type": "number", "minimum": 0},
                    "error": {"type": ["string", "null"]},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        },
        "columns": {"type": "object", "additionalProperties": {"type": "array"}},
    },
}
LABELS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ids", "labels"],
    "properties": {
        "ids": {"type": "array", "items": {"type": "string"}},
        "labels": {"type": "array"},
        "timestamps": {"type": "array", "items": {"type": "number"}},
    },
}
SIGNALS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "metrics": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {
                    "name": {"type": "string"},
                    "value": {"type": "number"},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                    "timestamp": {"type": "number"},
                },
            },
        },
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "timestamp": {"type": "number"}},
            },
        },
    },
}
BINARY = {"schema": {"type": "string", "format": "binary"}}


class _HTTPError(Exception):
    def __init__(self, status: int, path: str, message: str, expected: str | None = None):
        self.status, self.path, self.message, self.expected = status, path, message, expected


def _error_body(path: str | None, message: str, expected: str | None) -> dict[str, Any]:
    return {"errors": [{"path": path, "message": message, "expected": expected}]}


def create_app(
    config: ServerConfig,
    *,
    collector: Collector | None = None,
    config_path: Path | None = None,
) -> FastAPI:
    """The application; ``collector`` is built from ``config`` at startup unless given.
    With ``config_path``, ``POST /v1/reload`` re-reads rules, notifiers and actions."""
    state: dict[str, Collector] = {}
    registry = CollectorRegistry(auto_describe=False)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        c = collector if collector is not None else await run_in_threadpool(Collector, config)
        state["collector"] = c
        exporter = MonitorCollector(c.monitors, lambda: dict(c.counts))
        registry.register(exporter)
        try:
            yield
        finally:
            registry.unregister(exporter)
            await run_in_threadpool(c.close)

    app = FastAPI(
        title="watchkeeper collector",
        version=__version__,
        description="Predictions, labels and references in; metric points and "
        "Prometheus metrics out.",
        lifespan=lifespan,
    )

    def get() -> Collector:
        return state["collector"]

    @app.exception_handler(_HTTPError)
    async def _http_error(_r: Request, exc: _HTTPError) -> JSONResponse:
        return JSONResponse(_error_body(exc.path, exc.message, exc.expected), exc.status)

    @app.exception_handler(WatchkeeperError)
    async def _wk_error(_r: Request, exc: WatchkeeperError) -> JSONResponse:
        status = 404 if isinstance(exc, ConfigError) and exc.field == "model" else 422
        return JSONResponse(_error_body(exc.field, exc.message, exc.expected), status)

    def check_key(request: Request) -> None:
        keys = config.api_keys
        if not keys:
            return
        given = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if given is None and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not given:
            raise _HTTPError(401, "headers.x-api-key", "an API key is required", "X-API-Key")
        if not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
            raise _HTTPError(403, "headers.x-api-key", "the API key is not valid", "a key")

    async def read_body(request: Request) -> bytes:
        limit = config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _HTTPError(413, "body", f"{declared} bytes is over the limit", f"<= {limit}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _HTTPError(413, "body", f"more than {limit} bytes", f"<= {limit}")
            chunks.append(chunk)
        return b"".join(chunks)

    def ack(a: Ack) -> dict[str, Any]:
        return {"accepted": a.rows, "seq": a.seq, "duplicate": a.duplicate}

    body_doc = {
        "requestBody": {
            "required": True,
            "content": {
                wire.JSON: {"schema": ROWS_SCHEMA},
                wire.ARROW_STREAM: BINARY,
                wire.PARQUET: BINARY,
            },
        }
    }

    @app.post("/v1/models/{model}/predictions", openapi_extra=body_doc, tags=["ingest"])
    async def post_predictions(model: str, request: Request) -> dict[str, Any]:
        """A batch of predictions; acknowledged once durable in the write-ahead log."""
        check_key(request)
        get().monitor(model)
        body = await read_body(request)
        ctype = request.headers.get("content-type", wire.JSON)
        key = request.headers.get("idempotency-key")
        return ack(await run_in_threadpool(get().write_predictions, model, body, ctype, key))

    labels_doc = {
        "requestBody": {"required": True, "content": {wire.JSON: {"schema": LABELS_SCHEMA}}}
    }

    @app.post("/v1/models/{model}/labels", openapi_extra=labels_doc, tags=["ingest"])
    async def post_labels(model: str, request: Request) -> dict[str, Any]:
        """Ground truth for earlier predictions, joined by id."""
        check_key(request)
        get().monitor(model)
        body = await read_body(request)
        key = request.headers.get("idempotency-key")
        return ack(await run_in_threadpool(get().write_labels, model, body, key))

    signals_doc = {
        "requestBody": {"required": True, "content": {wire.JSON: {"schema": SIGNALS_SCHEMA}}}
    }

    @app.post("/v1/models/{model}/signals", openapi_extra=signals_doc, tags=["ingest"])
    async def post_signals(model: str, request: Request) -> dict[str, Any]:
        """Custom metrics and events (business or user signals), counted per window."""
        check_key(request)
        get().monitor(model)
        body = await read_body(request)
        key = request.headers.get("idempotency-key")
        return ack(await run_in_threadpool(get().write_signals, model, body, key))

    reference_doc = {
        "requestBody": {
            "required": True,
            "content": {wire.PARQUET: BINARY, wire.ARROW_STREAM: BINARY, "text/csv": BINARY},
        }
    }

    @app.put("/v1/models/{model}/reference", openapi_extra=reference_doc, tags=["ingest"])
    async def put_reference(model: str, request: Request) -> dict[str, Any]:
        """Replace the model's reference (a table of features and outputs)."""
        check_key(request)
        monitor = get().monitor(model)
        body = await read_body(request)
        ctype = request.headers.get("content-type", "").split(";")[0].strip()
        frame = read_table_bytes(body, ctype)
        ref_id = await run_in_threadpool(monitor.set_reference, frame)
        return {"reference_id": ref_id, "rows": len(frame)}

    @app.put("/v1/models/{model}/versions/{version}", openapi_extra=reference_doc, tags=["ingest"])
    async def put_version(model: str, version: str, request: Request) -> dict[str, Any]:
        """Register and monitor a new version (after a retraining), with its reference
        table as the body (an empty body keeps the current reference)."""
        check_key(request)
        c = get()
        c.monitor(model)
        body = await read_body(request)
        ref_path = None
        if body:
            ctype = request.headers.get("content-type", "").split(";")[0].strip()
            frame = read_table_bytes(body, ctype)
            directory = Path(c.config.wal_dir).parent / "references"
            directory.mkdir(parents=True, exist_ok=True)
            ref_path = str(directory / f"{model}-{version}.parquet")
            frame.to_parquet(ref_path)
        monitor = await run_in_threadpool(c.promote, model, version, ref_path)
        return {
            "model": model,
            "version": monitor.version,
            "reference_id": monitor._reference.id if monitor._reference else None,
        }

    @app.get("/v1/models", tags=["query"])
    def list_models() -> dict[str, Any]:
        """Every configured model, its version, window and schema."""
        out = []
        for name, m in get().monitors.items():
            out.append(
                {
                    "model": name,
                    "version": m.version,
                    "window_seconds": m.window_seconds,
                    "schema": m.schema.to_dict() if m.schema else None,
                    "last_closed_window": m.last_closed,
                }
            )
        return {"models": out}

    @app.get("/v1/models/{model}/metrics", tags=["query"])
    def get_metrics(
        model: str,
        metric: str | None = None,
        since: float | None = None,
        until: float | None = None,
        window: str | None = None,
        version: str | None = None,
        label: list[str] = Query(default=[]),  # noqa: B008 - FastAPI's idiom
    ) -> dict[str, Any]:
        """Metric points; ``label=feature:age`` filters (repeatable); times are epoch s."""
        monitor = get().monitor(model)
        labels = {}
        for item in label:
            k, sep, v = item.partition(":")
            if not sep or not k:
                raise _HTTPError(422, "query.label", f"{item!r} is not key:value", "key:value")
            labels[k] = v
        for name, value in (("since", since), ("until", until)):
            if value is not None and not math.isfinite(value):
                raise _HTTPError(422, f"query.{name}", f"{value!r}", "a finite epoch time")
        frame = monitor.metrics(
            metric, since=since, until=until, window=window, version=version, **labels
        )
        points = []
        for row in frame.to_dict("records"):
            value = row.pop("value")
            point = {
                "window_start": row.pop("window_start").timestamp(),
                "window_end": row.pop("window_end").timestamp(),
                "version": row.pop("version"),
                "name": row.pop("name"),
                "value": None if value is None or math.isnan(value) else value,
                "reference_id": None
                if row.get("reference_id") is None or str(row["reference_id"]) == "<NA>"
                else int(row["reference_id"]),
                "labels": {
                    k: v for k, v in row.items() if k != "reference_id" and v is not None and v == v
                },
            }
            points.append(point)
        return {"model": model, "points": points}

    @app.get("/v1/alerts", tags=["alerts"])
    def list_alerts(model: str | None = None, state: str | None = None) -> dict[str, Any]:
        """Alert history (firing and resolved, newest first) and the pending ones."""
        c = get()
        records = c.store.alerts(model, state)
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
                for a in records
            ],
            "pending": [
                {"model": m, "rule": r, "labels": dict(labels)}
                for m, r, labels, st in c.alerts.active()
                if st == "pending" and (model is None or m == model)
            ],
        }

    @app.post("/v1/silences", tags=["alerts"])
    async def post_silence(request: Request) -> dict[str, Any]:
        """Hold back notifications of alerts matching every label until it expires:
        ``{"matchers": {"alertname": "FeatureDrifting"}, "duration": "2h", "comment": ""}``."""
        check_key(request)
        body = await read_body(request)
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _HTTPError(422, "$", f"not JSON ({exc})", "a JSON object") from exc
        if not isinstance(doc, dict):
            raise _HTTPError(422, "$", "not an object", '{"matchers": ..., "duration": ...}')
        matchers = doc.get("matchers")
        if (
            not isinstance(matchers, dict)
            or not matchers
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in matchers.items())
        ):
            raise _HTTPError(422, "$.matchers", f"got {matchers!r}", "an object of label: value")
        c = get()
        try:
            seconds = parse_duration(doc.get("duration", "1h"), "$.duration")
        except WatchkeeperError as exc:
            raise _HTTPError(422, "$.duration", exc.message, "a duration such as '2h'") from exc
        silence = c.silence(
            matchers,
            c.clock.now() + seconds,
            str(doc.get("comment", "")),
            str(doc.get("created_by", "")),
        )
        return {"id": silence.id, "matchers": silence.matchers, "ends_at": silence.ends_at}

    @app.get("/v1/silences", tags=["alerts"])
    def list_silences() -> dict[str, Any]:
        """Silences, including expired ones."""
        now = get().clock.now()
        return {
            "silences": [
                {
                    "id": s.id,
                    "matchers": s.matchers,
                    "ends_at": s.ends_at,
                    "comment": s.comment,
                    "active": s.ends_at > now,
                }
                for s in get().silences
            ]
        }

    @app.post("/v1/reload", tags=["alerts"])
    async def reload(request: Request) -> dict[str, Any]:
        """Re-read the config file's rules, notifiers and actions (no restart)."""
        check_key(request)
        if config_path is None:
            raise _HTTPError(
                409,
                "config",
                "the collector was not started from a file",
                "watchkeeper serve --config FILE",
            )
        from watchkeeper.server.config import load_config

        new = await run_in_threadpool(load_config, config_path)  # errors name the key: 422
        return await run_in_threadpool(get().reload, new)

    add_dashboard(app, get)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        """The log is replayed and the store is open."""
        c = state.get("collector")
        ready = c is not None and c.ready
        return JSONResponse(c.status() if c else {"ready": False}, 200 if ready else 503)

    @app.get("/metrics", tags=["ops"])
    def metrics() -> Response:
        """Prometheus exposition."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
