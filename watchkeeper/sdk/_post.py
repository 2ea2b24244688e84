"""One request to the collector: a spooled body, its key, and what the answer acknowledges."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from watchkeeper.sdk._encode import content_type
from watchkeeper.sdk.spool import Entry

__all__ = ["accepted", "post"]


class _Once:
    """A body httpx streams once and then forgets (sent with its content-length).

    httpx's request and response form a reference cycle; a body given as ``content=bytes``
    stays in it until a full garbage collection, so dozens of sent bodies would be held at
    once. Streamed through this iterator, the body is released when it has been written.
    """

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def __iter__(self) -> Iterator[bytes]:
        data, self._data = self._data, None
        if data is not None:
            yield data


def post(http: httpx.Client, url: str, entry: Entry, body: bytes, timeout: float) -> httpx.Response:
    """POST ``body`` (spooled as ``entry``) to ``url + entry.path`` with its idempotency key."""
    headers = {
        "content-type": content_type(body),
        "content-length": str(len(body)),
        "Idempotency-Key": entry.key,
    }
    return http.post(url + entry.path, content=_Once(body), headers=headers, timeout=timeout)


def accepted(response: httpx.Response) -> int:
    """The rows a 2xx answer says were accepted (0 when it does not say)."""
    try:
        return int(response.json().get("accepted", 0))
    except (ValueError, AttributeError, TypeError):
        return 0
