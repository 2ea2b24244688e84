"""The middleware's options: what it logs predictions to, and their checks at construction.

A bad option fails when the application is built, with a
:class:`~watchkeeper.errors.ConfigError` naming it, rather than on the first request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeAlias

from watchkeeper.errors import ConfigError

__all__ = ["Extract", "SupportsLog", "check_options"]

Extract: TypeAlias = Callable[[bytes, bytes, Any], tuple[Any, Any] | None]
"""``extract(request_body, response_body, scope) -> (features, outputs)``, or ``None`` to
log nothing for this request. ``scope`` is the ASGI scope (a ``dict`` from every server);
it is typed ``Any`` so that a function annotated ``dict``, ``Mapping`` or Starlette's
``Scope`` all fit."""


class SupportsLog(Protocol):
    """What the middleware logs predictions to: watchkeeper's ``Monitor`` or an SDK client."""

    def log(
        self, features: Any, outputs: Any = None, *, latency: Any = None, error: Any = None
    ) -> object:
        """Record one prediction."""
        ...


def check_options(
    monitor: SupportsLog | None, extract: Extract | None, max_body_bytes: int, namespace: str
) -> None:
    """Check the middleware's options, as documented on
    :class:`~watchkeeper.sdk.middleware.WatchkeeperMiddleware`.

    Raises
    ------
    ConfigError
        If exactly one of ``monitor`` and ``extract`` is given, ``monitor`` has no
        ``log()``, ``extract`` is not callable, ``max_body_bytes`` is not an integer
        >= 0, or ``namespace`` is not a string.

    Examples
    --------
    >>> check_options(None, None, -1, "")
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: max_body_bytes: expected an integer >= 0, got -1
    """
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
