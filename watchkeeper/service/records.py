"""The framing of one write-ahead log record: which write it was, then its body as sent.

A record is the request body exactly as the client sent it, behind a small JSON header
saying what kind of write it was, for which model, in which content type, under which
idempotency key and how many rows or values it holds::

    u32 little-endian header length | header (UTF-8 JSON) | body

The body is kept as received, not re-encoded, so replaying it after a restart decodes
the same bytes the first attempt did. The log itself adds the sequence number and the
checksum around this payload (:mod:`watchkeeper.service.wal`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from watchkeeper.errors import StoreError

__all__ = ["RecordHeader", "WriteKind", "decode_record", "encode_record"]

WriteKind = Literal["predictions", "labels", "signals"]
_LENGTH = 4


@dataclass(frozen=True)
class RecordHeader:
    """What a logged write was.

    Parameters
    ----------
    kind
        ``predictions``, ``labels`` or ``signals``.
    model
        The model written to.
    content_type
        The body's media type (labels and signals are always JSON).
    key
        The client's idempotency key, if it sent one.
    n
        Rows (predictions), ids (labels) or metrics plus events (signals) in the body.
    """

    kind: WriteKind
    model: str
    content_type: str
    key: str | None
    n: int
    not_before: float | None = None
    """Event times accepted, from (the server's clock at ingestion minus the model's
    ``max_past_age``); ``None`` in records written before bounds were kept."""
    not_after: float | None = None
    """Event times accepted, until (the clock plus ``max_future_skew``)."""
    clamp: bool = False
    """Rows after ``not_after`` are stamped at it rather than rejected (the model's
    ``future_rows: clamp``), as decided when the write came in."""


def encode_record(header: RecordHeader, body: bytes) -> bytes:
    """The log payload of one write.

    Examples
    --------
    >>> h = RecordHeader("labels", "churn", "application/json", None, 2)
    >>> decode_record(encode_record(h, b'{"ids": []}')) == (h, b'{"ids": []}')
    True
    """
    doc: dict[str, object] = {
        "kind": header.kind,
        "model": header.model,
        "content_type": header.content_type,
        "key": header.key,
        "n": header.n,
    }
    if header.not_before is not None:
        doc["not_before"] = header.not_before
    if header.not_after is not None:
        doc["not_after"] = header.not_after
    if header.clamp:
        doc["clamp"] = True
    text = json.dumps(doc).encode()
    return len(text).to_bytes(_LENGTH, "little") + text + body


def decode_record(payload: bytes) -> tuple[RecordHeader, bytes]:
    """The header and body of a log payload written by :func:`encode_record`.

    Raises
    ------
    StoreError
        If the payload is shorter than its header says or the header is not the JSON
        object :func:`encode_record` writes (the log's checksum makes this a bug, not
        a torn write).
    """
    size = int.from_bytes(payload[:_LENGTH], "little")
    end = _LENGTH + size
    try:
        if len(payload) < end:
            raise ValueError(f"header of {size} bytes in a payload of {len(payload)}")
        doc = json.loads(payload[_LENGTH:end])
        header = RecordHeader(
            kind=doc["kind"],
            model=doc["model"],
            content_type=doc["content_type"],
            key=doc.get("key"),
            n=int(doc["n"]),
            not_before=_bound(doc.get("not_before")),
            not_after=_bound(doc.get("not_after")),
            clamp=doc.get("clamp") is True,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"write-ahead log record: unreadable header ({exc}); expected a length-prefixed "
            "JSON header with kind, model, content_type, key and n",
            field="wal",
            value=payload[:64],
            expected="a record written by encode_record",
        ) from exc
    return header, payload[end:]


def _bound(value: object) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float):
        raise ValueError(f"bound {value!r} is not a number")
    return float(value)
