"""Client SDK and ASGI middleware."""

from __future__ import annotations

__all__: list[str] = []
