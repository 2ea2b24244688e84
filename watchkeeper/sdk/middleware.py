"""A pure ASGI middleware: request metrics per route template, and optional model logging.

:class:`WatchkeeperMiddleware` wraps any ASGI application (FastAPI, Starlette or a bare
callable) without importing a web framework. For every HTTP request it updates, on the
given ``prometheus_client`` registry:

=========================================  ==========================  =====================
name (as exposed)                          type, labels                answers
=========================================  ==========================  =====================
``http_request_count_total``               counter: method, route,     rate, errors by
                                           status                      status
``http_request_duration_seconds``          histogram: method, route    latency quantiles
``http_requests_in_flight``                gauge                       saturation
``http_request_exceptions_total``          counter: method, route,     unhandled exceptions
                                           exception
``watchkeeper_middleware_errors_total``    counter: stage (route,      failures of the
                                           metrics, extract, log,      middleware itself
                                           resources)
=========================================  ==========================  =====================

With a ``monitor`` and an ``extract`` function it also hands each prediction to the
monitor, after the response has been sent.

With an SDK :class:`~watchkeeper.sdk.client.Client` (as ``monitor``, or as ``resources``)
it also feeds the client's saturation sampler (:mod:`watchkeeper.sdk.resources`): requests
in flight, their queue time from the proxy's ``X-Request-Start`` header, and the lag of
the event loop it runs on.

The middleware composes small parts: the ASGI type aliases (:mod:`~watchkeeper.sdk._asgi`),
the options' checks (:mod:`~watchkeeper.sdk._middleware_options`), the route template
(:mod:`~watchkeeper.sdk._routes`) and the Prometheus metrics
(:mod:`~watchkeeper.sdk._request_metrics`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry

from watchkeeper.errors import ConfigError
from watchkeeper.sdk._asgi import ASGIApp, Message, Receive, Scope, Send
from watchkeeper.sdk._middleware_options import Extract, SupportsLog, check_options
from watchkeeper.sdk._request_metrics import DURATION_BUCKETS, RequestMetrics
from watchkeeper.sdk._request_stats import RequestStats, queue_seconds
from watchkeeper.sdk._routes import UNMATCHED, route_template
from watchkeeper.sdk.resources import ResourceSampler

__all__ = [
    "DURATION_BUCKETS",
    "UNMATCHED",
    "ASGIApp",
    "Extract",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "SupportsLog",
    "WatchkeeperMiddleware",
    "route_template",
]

log = logging.getLogger("watchkeeper.sdk")


class _Body:
    """Chunks of one body, up to a size; past it the body is dropped and marked too large."""

    __slots__ = ("chunks", "limit", "size", "too_large")

    def __init__(self, limit: int) -> None:
        self.chunks: list[bytes] = []
        self.limit = limit
        self.size = 0
        self.too_large = False

    def add(self, chunk: bytes) -> None:
        if self.too_large or not chunk:
            return
        self.size += len(chunk)
        if self.size > self.limit:
            self.too_large = True
            self.chunks.clear()
        else:
            self.chunks.append(chunk)

    def value(self) -> bytes:
        return b"".join(self.chunks)


class WatchkeeperMiddleware:
    """Count, time and optionally model-log every HTTP request of an ASGI application.

    Parameters
    ----------
    app
        The ASGI application to wrap.
    monitor
        Where predictions are logged: anything with ``log(features, outputs, *, latency,
        error)``, such as :class:`watchkeeper.monitor.Monitor`. Needs ``extract``.
    registry
        The Prometheus registry of the metrics; ``prometheus_client.REGISTRY`` by default.
        Middlewares on one registry share its metrics.
    extract
        ``extract(request_body, response_body, scope) -> (features, outputs) | None``,
        called after each response with the bodies as bytes and the scope as the router
        left it (``scope["path_params"]``, ``scope["route"]``); ``None`` logs nothing.
        Needs ``monitor``.
    max_body_bytes
        The most bytes of a request or response body kept for ``extract``; a request with
        a larger body is not logged to the monitor (its metrics are still updated).
    namespace
        Prefix of the ``http_*`` metric names (``"svc"`` gives
        ``svc_http_request_count_total``); ``watchkeeper_middleware_errors_total`` keeps
        its name.
    resources
        The saturation sampler to feed (a :class:`~watchkeeper.sdk.resources.ResourceSampler`
        or a client holding one); by default the ``monitor``'s when it is an SDK client.

    Raises
    ------
    ConfigError
        If exactly one of ``monitor`` and ``extract`` is given, ``max_body_bytes`` is not
        an integer >= 0, a metric name is held on ``registry`` by another collector, or
        ``resources`` holds no sampler.

    Notes
    -----
    The route label is the route template (``/predict/{model_id}``), so its values are
    as many as the routes; a request no route matched is :data:`UNMATCHED`. Methods
    outside the standard nine are labelled ``other``. An application mounted under a
    prefix (``app.mount("/v1", sub)``) is labelled with the sub-application's template,
    without the prefix.

    The status is the one the application sent; when it raised before sending one the
    status is 500, the exception is counted by class name, and the exception goes on
    to the server unchanged. A streamed response that fails after its start keeps the
    status it started with.

    Model logging sees the request body as far as the application read it and the
    response body as sent (compressed, if the application compresses). ``extract`` and
    ``monitor.log`` run on the request's task once the response is complete, so the
    client never waits for them; their exceptions are logged to ``watchkeeper.sdk``
    (the first of each stage as a warning, later ones at debug level) and counted in
    ``watchkeeper_middleware_errors_total{stage="extract"|"log"}``, and never reach
    the client. ``error`` is the exception's class name, ``"http_5xx"`` for a 5xx
    response, else ``None``; ``latency`` is seconds from the call to the end of the
    response.

    Examples
    --------
    >>> from fastapi import FastAPI
    >>> from fastapi.testclient import TestClient
    >>> from prometheus_client import CollectorRegistry
    >>> api = FastAPI()
    >>> @api.get("/items/{item_id}")
    ... def item(item_id: int) -> dict[str, int]:
    ...     return {"id": item_id}
    >>> registry = CollectorRegistry()
    >>> api.add_middleware(WatchkeeperMiddleware, registry=registry)
    >>> with TestClient(api) as client:
    ...     for i in range(3):
    ...         _ = client.get(f"/items/{i}")
    >>> registry.get_sample_value(
    ...     "http_request_count_total",
    ...     {"method": "GET", "route": "/items/{item_id}", "status": "200"},
    ... )
    3.0
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        monitor: SupportsLog | None = None,
        registry: CollectorRegistry | None = None,
        extract: Extract | None = None,
        max_body_bytes: int = 1_000_000,
        namespace: str = "",
        resources: Any = None,
    ) -> None:
        check_options(monitor, extract, max_body_bytes, namespace)
        self.app = app
        self.monitor = monitor
        self.extract = extract
        self.max_body_bytes = max_body_bytes
        self.registry = REGISTRY if registry is None else registry
        self._metrics = RequestMetrics(self.registry, namespace)
        self._warned: set[str] = set()
        self._sampler = _sampler_of(monitor if resources is None else resources)
        if resources is not None and self._sampler is None:
            raise ConfigError(
                f"resources: expected a ResourceSampler or an SDK Client that samples, "
                f"got {type(resources).__name__}",
                field="resources",
                value=resources,
                expected="a ResourceSampler or a Client with resources on",
            )
        self._requests: RequestStats | None = None
        if self._sampler is not None:
            self._requests = self._sampler.requests
            self._requests.attached = True
        self._loop: object = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection; scopes other than ``http`` pass straight through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        exception: str | None = None
        logging_on = self.monitor is not None
        request_body = _Body(self.max_body_bytes) if logging_on else None
        response_body = _Body(self.max_body_bytes) if logging_on else None

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = int(message["status"])
            elif response_body is not None:
                if kind == "http.response.body":
                    response_body.add(message.get("body", b""))
                else:  # pathsend, zerocopy: a body we do not see
                    response_body.too_large = True
            await send(message)

        async def receive_wrapper() -> Message:
            message = await receive()
            if request_body is not None and message["type"] == "http.request":
                request_body.add(message.get("body", b""))
            return message

        self._metrics.in_flight.inc()
        requests = self._requests
        if requests is not None:
            self._started(requests, scope)
        start = time.perf_counter()
        try:
            await self.app(scope, receive_wrapper if logging_on else receive, send_wrapper)
        except Exception as exc:
            exception = type(exc).__name__
            raise
        finally:
            elapsed = time.perf_counter() - start
            self._metrics.in_flight.dec()
            if requests is not None:
                requests.finished()
            status = status or 500
            route = self._route(scope)
            self._record(scope, route, status, elapsed, exception)
            if request_body is not None and response_body is not None:
                self._log_prediction(scope, request_body, response_body, status, elapsed, exception)

    def _started(self, requests: RequestStats, scope: Scope) -> None:
        try:
            requests.started(queue_seconds(scope.get("headers", ()), time.time()))
            loop = asyncio.get_running_loop()
            if loop is not self._loop and self._sampler is not None:
                self._loop = loop
                self._sampler.watch_loop(loop)
        except Exception:
            self._failed("resources")

    def _route(self, scope: Scope) -> str:
        try:
            return route_template(scope)
        except Exception:
            self._failed("route")
            return UNMATCHED

    def _record(
        self, scope: Scope, route: str, status: int, elapsed: float, exception: str | None
    ) -> None:
        try:
            self._metrics.record(scope.get("method", ""), route, status, elapsed, exception)
        except Exception:
            self._failed("metrics")

    def _log_prediction(
        self,
        scope: Scope,
        request_body: _Body,
        response_body: _Body,
        status: int,
        elapsed: float,
        exception: str | None,
    ) -> None:
        if request_body.too_large or response_body.too_large:
            log.debug(
                "%s %s: body over max_body_bytes=%d or not buffered; prediction not logged",
                scope.get("method"),
                scope.get("path"),
                self.max_body_bytes,
            )
            return
        extract, monitor = self.extract, self.monitor
        if extract is None or monitor is None:  # given together, checked in __init__
            return
        try:
            extracted = extract(request_body.value(), response_body.value(), scope)
            if extracted is None:
                return
            features, outputs = extracted
        except Exception:
            self._failed("extract")
            return
        error = exception if exception is not None else ("http_5xx" if status >= 500 else None)
        try:
            monitor.log(features, outputs, latency=elapsed, error=error)
        except Exception:
            self._failed("log")

    def _failed(self, stage: str) -> None:
        """Count and log a failure of the middleware; called inside an ``except`` block."""
        first = stage not in self._warned
        self._warned.add(stage)
        try:
            self._metrics.errors.labels(stage).inc()
        except Exception:  # the counter failing must not reach the client either
            log.debug("WatchkeeperMiddleware: counting a %s failure failed", stage, exc_info=True)
        log.log(
            logging.WARNING if first else logging.DEBUG,
            "WatchkeeperMiddleware: %s failed; the response is unchanged%s",
            stage,
            " (later failures of this stage are logged at DEBUG and counted in "
            "watchkeeper_middleware_errors_total)"
            if first
            else "",
            exc_info=True,
        )


def _sampler_of(source: Any) -> ResourceSampler | None:
    """The sampler of ``source``: itself, or an SDK client's (``None`` for a Monitor)."""
    if isinstance(source, ResourceSampler):
        return source
    sampler = getattr(source, "resources", None)
    return sampler if isinstance(sampler, ResourceSampler) else None
