"""HTTP errors of the API and how each becomes a JSON 4xx body.

The API answers every error as ``{"errors": [{"path", "message", "expected"}]}``:
:class:`HTTPProblem` for what the HTTP layer itself rejects (a key, a body size, a query
parameter), and any :class:`~watchkeeper.errors.WatchkeeperError` from below (404 for an
unknown model, else 422; :class:`~watchkeeper.service.unavailable.Unavailable`, a full
disk or ingest queue, is 503 or 429 with ``Retry-After``). The dashboard's JSON endpoints
answer a bad query parameter as ``{"error": {"path": "query", "message"}}``
(:class:`BadQuery`), which its pages read.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.service.unavailable import Unavailable

__all__ = ["BadQuery", "HTTPProblem", "error_body", "install_error_handlers"]


class HTTPProblem(Exception):
    """A request the HTTP layer refuses, with its status and the part at fault."""

    def __init__(self, status: int, path: str, message: str, expected: str | None = None):
        super().__init__(message)
        self.status, self.path, self.message, self.expected = status, path, message, expected


class BadQuery(Exception):
    """A query parameter the dashboard endpoints cannot use (422)."""


def error_body(path: str | None, message: str, expected: str | None) -> dict[str, Any]:
    """The API's error document."""
    return {"errors": [{"path": path, "message": message, "expected": expected}]}


def install_error_handlers(app: FastAPI) -> None:
    """Answer :class:`HTTPProblem`, :class:`BadQuery` and watchkeeper's errors as JSON."""

    @app.exception_handler(HTTPProblem)
    async def _problem(_r: Request, exc: HTTPProblem) -> JSONResponse:
        return JSONResponse(error_body(exc.path, exc.message, exc.expected), exc.status)

    @app.exception_handler(Unavailable)
    async def _unavailable(_r: Request, exc: Unavailable) -> JSONResponse:
        # a whole number of seconds, as RFC 9110 has Retry-After
        retry = str(max(1, math.ceil(exc.retry_after)))
        body = error_body(exc.field, exc.message, exc.expected)
        return JSONResponse(body, exc.status, headers={"Retry-After": retry})

    @app.exception_handler(WatchkeeperError)
    async def _watchkeeper_error(_r: Request, exc: WatchkeeperError) -> JSONResponse:
        status = 404 if isinstance(exc, ConfigError) and exc.field == "model" else 422
        return JSONResponse(error_body(exc.field, exc.message, exc.expected), status)

    @app.exception_handler(BadQuery)
    async def _bad_query(_r: Request, exc: BadQuery) -> JSONResponse:
        return JSONResponse({"error": {"path": "query", "message": str(exc)}}, 422)
