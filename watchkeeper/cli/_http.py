"""An HTTP client for a running collector, shared by the commands that talk to one."""

from __future__ import annotations

from typing import Any

__all__ = ["api_client"]


def api_client(url: str, api_key: str | None) -> Any:
    import httpx

    headers = {"X-API-Key": api_key} if api_key else {}
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=10.0)
