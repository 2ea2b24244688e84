"""The one error of a write that may succeed later: the collector is full or busy.

A write refused this way was not acknowledged and nothing of it is kept; the client
should send it again after ``retry_after`` seconds (the HTTP layer answers 503 for a
full disk, 429 for a full ingest queue, with a ``Retry-After`` header).
"""

from __future__ import annotations

from watchkeeper.errors import StoreError

__all__ = ["Unavailable"]


class Unavailable(StoreError):
    """A write refused for now (disk full, ingest queue over its bound); retry later.

    Parameters
    ----------
    message
        One sentence saying what is full and what to do.
    status
        The HTTP status the API answers with: 503 (disk full, still writing) or 429
        (too many writes queued).
    retry_after
        Seconds the client should wait before retrying.
    field
        What is full: ``wal`` or ``queue``.

    Examples
    --------
    >>> e = Unavailable("write-ahead log: disk full", status=503, retry_after=5.0)
    >>> e.status, e.retry_after, e.field
    (503, 5.0, 'wal')
    """

    def __init__(
        self, message: str, *, status: int, retry_after: float, field: str = "wal"
    ) -> None:
        super().__init__(message, field=field, value=None, expected="a retry later")
        self.status = status
        self.retry_after = retry_after
