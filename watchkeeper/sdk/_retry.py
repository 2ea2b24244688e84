"""What the SDK does with the collector's answer, and how long it waits before trying again.

Only a 422 is final: the collector read the body and refused its content, so sending it
again cannot help (the collector answers 422, never 400, for a body it cannot read; a 400
comes from something in between and is retried). Everything else a body can meet
is a state of the collector or its configuration that an operator fixes: 401/403 (a key
rotated), 404 (a model added to the config after the service started), 408/409/429, 5xx,
a refused or dropped connection. Those bodies stay spooled and are retried with
exponential backoff and jitter, or after the collector's ``Retry-After`` when it sends
one (429/503 under load or with a full disk). A 413 is split in halves and retried; a
single row over the collector's body limit is set aside like a 422, as it would block
every body behind it.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Mapping

__all__ = ["Outcome", "backoff", "classify", "retry_after"]

#: The longest ``Retry-After`` honoured, seconds (a misconfigured header cannot park
#: the client for a day).
MAX_RETRY_AFTER = 3600.0


class Outcome(enum.Enum):
    """What becomes of a body after one attempt."""

    DELIVERED = "delivered"
    FINAL = "final"  # refused for good: dead-lettered and counted
    SPLIT = "split"  # too large: halves replace it
    RETRY = "retry"  # kept, sent again later


def classify(status: int) -> Outcome:
    """The outcome of an HTTP status.

    Examples
    --------
    >>> [classify(s).value for s in (200, 422, 413, 401, 404, 429, 503)]
    ['delivered', 'final', 'split', 'retry', 'retry', 'retry', 'retry']
    """
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 422:
        return Outcome.FINAL
    if status == 413:
        return Outcome.SPLIT
    return Outcome.RETRY


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None.

    Examples
    --------
    >>> retry_after({"retry-after": "2"}), retry_after({}), retry_after({"retry-after": "x"})
    (2.0, None, None)
    >>> retry_after({"retry-after": "Thu, 01 Jan 1970 00:00:10 GMT"}, now=4.0)
    6.0
    """
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit() and len(value) <= 8:
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def backoff(failures: int, max_backoff: float, base: float = 0.05) -> float:
    """The wait after ``failures`` failed attempts in a row: doubling from ``base`` up to
    ``max_backoff``, with +-20% jitter so many clients do not retry in step.

    Examples
    --------
    >>> 0.04 <= backoff(1, 30.0) <= 0.06 and 24 <= backoff(50, 30.0) <= 36
    True
    """
    return min(max_backoff, base * 2.0 ** min(failures - 1, 30)) * random.uniform(0.8, 1.2)
