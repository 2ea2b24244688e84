"""FastAPI dependencies of the routes: the service, the API key check, the body limit.

The service and the config live on ``app.state`` (set by :func:`~watchkeeper.server.app.
create_app` and its lifespan), so a router needs no closure over them. A write route
lists :func:`require_api_key` among its dependencies and takes its body as
:data:`Body`; both refuse before the handler runs, in that order (a missing key is 401
whatever the body's size).
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from watchkeeper.monitor import Monitor
from watchkeeper.server.errors import HTTPProblem
from watchkeeper.service import ServerConfig, Service

__all__ = [
    "Body",
    "Config",
    "ConfigPath",
    "ModelMonitor",
    "ServiceDep",
    "get_config",
    "get_config_path",
    "get_service",
    "model_monitor",
    "read_body",
    "require_api_key",
]


async def get_service(request: Request) -> Service:
    """The running service (built by the app's lifespan)."""
    service: Service = request.app.state.service
    return service


async def get_config(request: Request) -> ServerConfig:
    """The config the app was created with (limits and API keys)."""
    config: ServerConfig = request.app.state.config
    return config


async def get_config_path(request: Request) -> Path | None:
    """The config file the service was started from, if any (for ``/v1/reload``)."""
    path: Path | None = request.app.state.config_path
    return path


ServiceDep = Annotated[Service, Depends(get_service)]
Config = Annotated[ServerConfig, Depends(get_config)]
ConfigPath = Annotated[Path | None, Depends(get_config_path)]


async def require_api_key(request: Request, config: Config) -> None:
    """Refuse a write without a configured key: ``X-API-Key`` or ``Authorization:
    Bearer`` (401 when absent, 403 when not one of ``api_keys``; open when none are)."""
    keys = config.api_keys
    if not keys:
        return
    given = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if given is None and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    if not given:
        raise HTTPProblem(401, "headers.x-api-key", "an API key is required", "X-API-Key")
    # constant time, so a key cannot be guessed from how long a refusal takes
    if not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
        raise HTTPProblem(403, "headers.x-api-key", "the API key is not valid", "a key")


async def model_monitor(model: str, service: ServiceDep) -> Monitor:
    """The monitor of the path's ``model`` (404 if it is not configured)."""
    return service.monitor(model)


async def read_body(request: Request, config: Config) -> bytes:
    """The request body, refused with 413 past ``limits.max_body_bytes``: at once when
    the declared length is over, else as soon as the streamed bytes are."""
    limit = config.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPProblem(413, "body", f"{declared} bytes is over the limit", f"<= {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPProblem(413, "body", f"more than {limit} bytes", f"<= {limit}")
        chunks.append(chunk)
    return b"".join(chunks)


ModelMonitor = Annotated[Monitor, Depends(model_monitor)]
Body = Annotated[bytes, Depends(read_body)]
