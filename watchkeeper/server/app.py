"""The FastAPI application of ``watchkeeper serve``: the routers of the versioned JSON
API, the dashboard and ``/metrics`` around one :class:`~watchkeeper.service.Service`.

Routers, one per concern (:mod:`watchkeeper.server.routes`): ``ingest`` (writes),
``query`` (models and metric points), ``alerts`` (alerts, silences, reload), ``pages``
and ``page_data`` (the dashboard), ``ops`` (``/healthz``, ``/readyz``, ``/metrics``).
They reach the service, the config and the Prometheus registry through ``app.state``
(:mod:`watchkeeper.server.deps`); errors become JSON 4xx bodies
(:mod:`watchkeeper.server.errors`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.concurrency import run_in_threadpool

from watchkeeper import __version__
from watchkeeper.exporters import MonitorCollector
from watchkeeper.server.errors import install_error_handlers
from watchkeeper.server.routes import alerts, ingest, ops, page_data, pages, query
from watchkeeper.service import ServerConfig, Service

__all__ = ["create_app"]


def create_app(
    config: ServerConfig,
    *,
    service: Service | None = None,
    config_path: Path | None = None,
) -> FastAPI:
    """The application; ``service`` is built from ``config`` at startup unless given
    (and closed at shutdown either way). With ``config_path``, ``POST /v1/reload``
    re-reads rules, notifiers and actions."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = service if service is not None else await run_in_threadpool(Service, config)
        app.state.service = running
        exporter = MonitorCollector(running.monitors, lambda: dict(running.counts))
        app.state.registry.register(exporter)
        try:
            yield
        finally:
            app.state.registry.unregister(exporter)
            await run_in_threadpool(running.close)

    app = FastAPI(
        title="watchkeeper collector",
        version=__version__,
        description="Predictions, labels and references in; metric points and "
        "Prometheus metrics out.",
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.config_path = config_path
    app.state.registry = CollectorRegistry(auto_describe=False)
    install_error_handlers(app)
    for routes in (ingest, query, alerts, pages, page_data, ops):
        app.include_router(routes.router)
    return app
