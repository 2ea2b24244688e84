"""The middleware's Prometheus metrics: requests, durations, in-flight, exceptions, errors.

Metrics are made once per registry and shared by every middleware on it (two apps, an
app built twice in tests), instead of failing on prometheus_client's duplicate-name
check. See :class:`~watchkeeper.sdk.middleware.WatchkeeperMiddleware` for the names.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from watchkeeper.errors import ConfigError

__all__ = ["DURATION_BUCKETS", "RequestMetrics"]

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
"""Upper bounds, in seconds, of the request-duration histogram (``+Inf`` is added)."""

_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")
)
_OTHER_METHOD = "other"  # any other method string: the client chooses it, so it is no label

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


class RequestMetrics:
    """The request metrics of one middleware, on ``registry``, names prefixed by ``namespace``.

    Parameters
    ----------
    registry
        The Prometheus registry; metrics already made on it by another middleware are
        shared.
    namespace
        Prefix of the ``http_*`` metric names; ``watchkeeper_middleware_errors_total``
        keeps its name.

    Raises
    ------
    ConfigError
        If a metric name is held on ``registry`` by another collector.

    Examples
    --------
    >>> registry = CollectorRegistry()
    >>> metrics = RequestMetrics(registry, "")
    >>> metrics.record("BREW", "/pot", 418, 0.01, None)
    >>> registry.get_sample_value(
    ...     "http_request_count_total", {"method": "other", "route": "/pot", "status": "418"}
    ... )
    1.0
    """

    def __init__(self, registry: CollectorRegistry, namespace: str) -> None:
        reg, ns = registry, namespace
        self.requests = _shared(
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
        self.duration = _shared(
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
        self.in_flight = _shared(
            reg,
            _full_name(ns, "http_requests_in_flight"),
            lambda: Gauge(
                "http_requests_in_flight",
                "HTTP requests being handled now.",
                namespace=ns,
                registry=reg,
            ),
        )
        self.exceptions = _shared(
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
        self.errors = _shared(
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

    def record(
        self, method: str, route: str, status: int, elapsed: float, exception: str | None
    ) -> None:
        """Count one finished request and observe its duration; methods outside the
        standard nine are labelled ``other``."""
        if method not in _METHODS:
            method = _OTHER_METHOD
        key = (method, route, status)
        requests = self._request_children.get(key)
        if requests is None:
            requests = self.requests.labels(method, route, str(status))
            self._request_children[key] = requests
        requests.inc()
        duration = self._duration_children.get((method, route))
        if duration is None:
            duration = self.duration.labels(method, route)
            self._duration_children[(method, route)] = duration
        duration.observe(elapsed)
        if exception is not None:
            self.exceptions.labels(method, route, exception).inc()
