"""The route template of an ASGI request, read from the router without importing it.

A metric labelled by raw path has as many series as there are URLs; labelled by route
template (``/predict/{model_id}``) it has as many as there are routes.
"""

from __future__ import annotations

from typing import Any

from watchkeeper.sdk._asgi import Scope

__all__ = ["UNMATCHED", "route_template"]

UNMATCHED = "<unmatched>"
"""Route label of a request no route template matched (404s, redirects of the router)."""

_FULL, _PARTIAL = 2, 1  # starlette.routing.Match values, compared without importing starlette


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
