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
``watchkeeper_middleware_errors_total``    counter: stage              failures of the
                                                                       middleware itself
=========================================  ==========================  =====================

With a ``monitor`` and an ``extract`` function it also hands each prediction to the
monitor, after the response has been sent.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol, TypeAlias, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from watchkeeper.errors import ConfigError

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

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]
Extract: TypeAlias = Callable[[bytes, bytes, Any], tuple[Any, Any] | None]
"""``extract(request_body, response_body, scope) -> (features, outputs)``, or ``None`` to
log nothing for this request. ``scope`` is the ASGI scope (a ``dict`` from every server);
it is typed ``Any`` so that a function annotated ``dict``, ``Mapping`` or Starlette's
``Scope`` all fit."""

UNMATCHED = "<unmatched>"
"""Route label of a request no route template matched (404s, redirects of the router)."""

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
"""Upper bounds, in seconds, of the request-duration histogram (``+Inf`` is added)."""

_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")
)
_OTHER_METHOD = "other"  # any other method string: the client chooses it, so it is no label
_FULL, _PARTIAL = 2, 1  # starlette.routing.Match values, compared without importing starlette

log = logging.getLogger("watchkeeper.sdk")


class SupportsLog(Protocol):
    """What the middleware logs predictions to: watchkeeper's ``Monitor`` or an SDK client."""

    def log(
        self, features: Any, outputs: Any = None, *, latency: Any = None, error: Any = None
    ) -> object:
        """Record one prediction."""
        ...


# -- metrics, shared by every middleware on one registry ------------------------------

_M = TypeVar("_M", Counter, Gauge, Histogram)
_lock = threading.Lock()
_registered: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)


def _shared(registry: CollectorRegistry, name: str, build: Callable[[], _M]) -> _M:
    """The metric ``name`` on ``registry``: the one an earlier middleware made, or a new one.

    Two middlewares on one registry (two apps, an app built twice in tests) share their
    metrics instead of failing on prometheus_client's duplicate-name check.
    """
    with _lock:
        made = _registered.setdefault(registry, {})
        if name not in made:
            try:
                made[name] = build()
            except ValueError as exc:  # the name is held by a collector we did not make
                raise ConfigError(
                    f"registry: the metric name {name!r} is already registered by another "
                    "collector; expected it free for WatchkeeperMiddleware (or pass a "
                    "namespace)",
                    field="registry",
                    value=name,
                    expected="a registry without this metric name",
                ) from exc
        metric: _M = made[name]
        return metric


def _full_name(namespace: str, name: str) -> str:
    return f"{namespace}_{name}" if namespace else name


# -- route templates ----------------------------------------------------------------


def _match_level(match: Any) -> int:
    name = getattr(match, "name", None)
    if name == "FULL" or (name is None and getattr(match, "value", None) == _FULL):
        return _FULL
    if name == "PARTIAL" or (name is None and getattr(match, "value", None) == _PARTIAL):
        return _PARTIAL
    return 0


def _template(route: Any) -> str | None:
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return None
    return path or "/"  # Mount("/") keeps an empty path


def route_template(scope: Scope) -> str:
    """The route template of a handled request, never its raw path.

    The router of FastAPI and Starlette stores the matched route in ``scope["route"]``;
    without it, the application's ``routes`` (``scope["app"].routes``) are matched
    again, a full match preferred to a partial one (a wrong method: 405). Anything else
    is :data:`UNMATCHED`.

    Parameters
    ----------
    scope
        The HTTP scope, as the application left it.

    Returns
    -------
    str
        A template such as ``/predict/{model_id}``, or :data:`UNMATCHED`.
    """
    found = _template(scope.get("route"))
    if found is not None:
        return found
    routes = getattr(scope.get("app"), "routes", None)
    if routes is None:
        return UNMATCHED
    partial: str | None = None
    for route in routes:
        matches = getattr(route, "matches", None)
        if matches is None:
            continue
        level = _match_level(matches(scope)[0])
        if level == _FULL:
            found = _template(route)
            if found is not None:
                return found
        elif level == _PARTIAL and partial is None:
            partial = _template(route)
    return partial or UNMATCHED


# -- the middleware -------------------------------------------------------------------


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

    Raises
    ------
    ConfigError
        If exactly one of ``monitor`` and ``extract`` is given, ``max_body_bytes`` is not
        an integer >= 0, or a metric name is held on ``registry`` by another collector.

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
    ) -> None:
        if (monitor is None) != (extract is None):
            given, missing = ("monitor", "extract") if extract is None else ("extract", "monitor")
            raise ConfigError(
                f"{missing}: expected it together with {given!r}, got None; the middleware "
                "logs predictions only with both",
                field=missing,
                value=None,
                expected=f"given together with {given!r}",
            )
        if monitor is not None and not callable(getattr(monitor, "log", None)):
            raise ConfigError(
                f"monitor: expected an object with a log() method, got {type(monitor).__name__}",
                field="monitor",
                value=monitor,
                expected="an object with log(features, outputs, *, latency, error)",
            )
        if extract is not None and not callable(extract):
            raise ConfigError(
                f"extract: expected a function, got {extract!r} ({type(extract).__name__})",
                field="extract",
                value=extract,
                expected="extract(request_body, response_body, scope)",
            )
        if (
            isinstance(max_body_bytes, bool)
            or not isinstance(max_body_bytes, int)
            or max_body_bytes < 0
        ):
            raise ConfigError(
                f"max_body_bytes: expected an integer >= 0, got {max_body_bytes!r}",
                field="max_body_bytes",
                value=max_body_bytes,
                expected="an integer >= 0",
            )
        if not isinstance(namespace, str):
            raise ConfigError(
                f"namespace: expected a string, got {namespace!r}",
                field="namespace",
                value=namespace,
                expected="a string, possibly empty",
            )
        self.app = app
        self.monitor = monitor
        self.extract = extract
        self.max_body_bytes = max_body_bytes
        self.registry = REGISTRY if registry is None else registry
        reg, ns = self.registry, namespace
        self._requests = _shared(
            reg,
            _full_name(ns, "http_request_count"),
            lambda: Counter(
                "http_request_count",
                "HTTP requests by method, route template and status.",
                ("method", "route", "status"),
                namespace=ns,
                registry=reg,
            ),
        )
        self._duration = _shared(
            reg,
            _full_name(ns, "http_request_duration_seconds"),
            lambda: Histogram(
                "http_request_duration_seconds",
                "Time from the request to the end of its response, by method and route.",
                ("method", "route"),
                namespace=ns,
                registry=reg,
                buckets=DURATION_BUCKETS,
            ),
        )
        self._in_flight = _shared(
            reg,
            _full_name(ns, "http_requests_in_flight"),
            lambda: Gauge(
                "http_requests_in_flight",
                "HTTP requests being handled now.",
                namespace=ns,
                registry=reg,
            ),
        )
        self._exceptions = _shared(
            reg,
            _full_name(ns, "http_request_exceptions"),
            lambda: Counter(
                "http_request_exceptions",
                "Exceptions raised by the application, by method, route and class name.",
                ("method", "route", "exception"),
                namespace=ns,
                registry=reg,
            ),
        )
        self._errors = _shared(
            reg,
            "watchkeeper_middleware_errors",
            lambda: Counter(
                "watchkeeper_middleware_errors",
                "Failures inside WatchkeeperMiddleware (route, metrics, extract, log); "
                "never seen by clients.",
                ("stage",),
                registry=reg,
            ),
        )
        # label children by key: .labels() hashes and locks on every call
        self._request_children: dict[tuple[str, str, int], Any] = {}
        self._duration_children: dict[tuple[str, str], Any] = {}
        self._warned: set[str] = set()

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

        self._in_flight.inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive_wrapper if logging_on else receive, send_wrapper)
        except Exception as exc:
            exception = type(exc).__name__
            raise
        finally:
            elapsed = time.perf_counter() - start
            self._in_flight.dec()
            status = status or 500
            route = self._route(scope)
            self._record(scope, route, status, elapsed, exception)
            if request_body is not None and response_body is not None:
                self._log_prediction(scope, request_body, response_body, status, elapsed, exception)

    def _route(self, scope: Scope) -> str:
        try:
            return route_template(scope)
        except Exception:
            self._failed("route")
            return UNMATCHED

    def _record(
        self, scope: Scope, route: str, status: int, elapsed: float, exception: str | None
    ) -> None:
        method = scope.get("method", "")
        if method not in _METHODS:
            method = _OTHER_METHOD
        try:
            key = (method, route, status)
            requests = self._request_children.get(key)
            if requests is None:
                requests = self._requests.labels(method, route, str(status))
                self._request_children[key] = requests
            requests.inc()
            duration = self._duration_children.get((method, route))
            if duration is None:
                duration = self._duration.labels(method, route)
                self._duration_children[(method, route)] = duration
            duration.observe(elapsed)
            if exception is not None:
                self._exceptions.labels(method, route, exception).inc()
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
            self._errors.labels(stage).inc()
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
