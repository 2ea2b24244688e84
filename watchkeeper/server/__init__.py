"""The HTTP layer of ``watchkeeper serve``: the FastAPI app assembling one router per
concern around the web-free :class:`~watchkeeper.service.Service`."""

from __future__ import annotations

__all__: list[str] = []
