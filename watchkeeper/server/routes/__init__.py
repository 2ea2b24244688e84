"""The API's routers, one per concern; :func:`~watchkeeper.server.app.create_app` mounts
them all."""

from __future__ import annotations

__all__: list[str] = []
