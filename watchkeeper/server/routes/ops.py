"""Operations: liveness, readiness and the Prometheus exposition."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["router"]

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The log is replayed, the store is open and the log takes writes (not while the
    disk is full: a load balancer then sends writes elsewhere)."""
    # not the service dependency: before the lifespan has built it, the answer is 503
    service = getattr(request.app.state, "service", None)
    ready = service is not None and service.accepting
    return JSONResponse(service.status() if service else {"ready": False}, 200 if ready else 503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus exposition."""
    registry: CollectorRegistry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
