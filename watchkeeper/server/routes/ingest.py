"""Writes: predictions, labels and signals (acknowledged once in the write-ahead log),
a model's reference and a new version.

A write needs an API key when keys are configured and a body within the size limit
(both dependencies); the service checks the body before logging it, so a bad one is a
4xx and never stored.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from starlette.concurrency import run_in_threadpool

from watchkeeper import wire
from watchkeeper.server import openapi
from watchkeeper.server.deps import (
    Body,
    ModelMonitor,
    ServiceDep,
    model_monitor,
    require_api_key,
)
from watchkeeper.service import Ack, Service
from watchkeeper.tables import read_table_bytes

__all__ = ["router"]

# in this order, before a handler reads its body: 401/403 for the key, 404 for the model
router = APIRouter(tags=["ingest"], dependencies=[Depends(require_api_key), Depends(model_monitor)])

IdempotencyKey = Annotated[str | None, Header(alias="idempotency-key")]


def _ack(ack: Ack) -> dict[str, Any]:
    """The answer: what was taken, and what was not and why (rows outside the event
    time bounds, rows too late for any window, labels of unknown ids)."""
    return {
        "accepted": ack.rows,
        "seq": ack.seq,
        "duplicate": ack.duplicate,
        "rejected": ack.rejected.to_dict(),
        "clamped": ack.clamped.count,
        "late_dropped": ack.late_dropped,
        "unknown_ids": ack.unknown_ids,
    }


async def _answer(service: Service, done: Future[Ack]) -> dict[str, Any]:
    """Wait for a logged write to be applied without holding a worker thread, so writes
    stalled behind one model leave the thread pool to the others."""
    waiting = asyncio.wrap_future(done)
    try:
        # shielded: a timeout must not cancel the write, which a retry may still wait on
        ack = await asyncio.wait_for(asyncio.shield(waiting), service.config.ack_timeout_seconds)
    except TimeoutError:
        raise service.ingest.still_applying() from None
    return _ack(ack)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip()


@router.post(
    "/v1/models/{model}/predictions",
    openapi_extra=openapi.PREDICTIONS_BODY,
    responses=openapi.WRITE_RESPONSES,
)
async def post_predictions(
    model: str,
    body: Body,
    service: ServiceDep,
    key: IdempotencyKey = None,
    content_type: Annotated[str, Header(include_in_schema=False)] = wire.JSON,
) -> dict[str, Any]:
    """A batch of predictions; acknowledged once durable in the write-ahead log."""
    ingest = service.ingest
    return await _answer(
        service, await run_in_threadpool(ingest.submit_predictions, model, body, content_type, key)
    )


@router.post(
    "/v1/models/{model}/labels",
    openapi_extra=openapi.LABELS_BODY,
    responses=openapi.WRITE_RESPONSES,
)
async def post_labels(
    model: str, body: Body, service: ServiceDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Ground truth for earlier predictions, joined by id."""
    return await _answer(
        service, await run_in_threadpool(service.ingest.submit_labels, model, body, key)
    )


@router.post(
    "/v1/models/{model}/signals",
    openapi_extra=openapi.SIGNALS_BODY,
    responses=openapi.WRITE_RESPONSES,
)
async def post_signals(
    model: str, body: Body, service: ServiceDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Custom metrics and events (business or user signals), counted per window."""
    return await _answer(
        service, await run_in_threadpool(service.ingest.submit_signals, model, body, key)
    )


@router.put("/v1/models/{model}/reference", openapi_extra=openapi.REFERENCE_BODY)
async def put_reference(
    monitor: ModelMonitor,
    body: Body,
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> dict[str, Any]:
    """Replace the model's reference (a table of features and outputs)."""
    frame = read_table_bytes(body, _media_type(content_type))
    ref_id = await run_in_threadpool(monitor.set_reference, frame)
    return {"reference_id": ref_id, "rows": len(frame)}


@router.put("/v1/models/{model}/versions/{version}", openapi_extra=openapi.REFERENCE_BODY)
async def put_version(
    model: str,
    version: str,
    body: Body,
    service: ServiceDep,
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> dict[str, Any]:
    """Register and monitor a new version (after a retraining), with its reference
    table as the body (an empty body keeps the current reference)."""
    frame = read_table_bytes(body, _media_type(content_type)) if body else None
    monitor = await run_in_threadpool(service.register_version, model, version, frame)
    return {
        "model": model,
        "version": monitor.version,
        "reference_id": monitor.reference.id if monitor.reference else None,
    }
