"""The collector service (``watchkeeper serve``): FastAPI app, write-ahead log, config."""

from __future__ import annotations

__all__: list[str] = []
