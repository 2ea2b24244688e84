"""Versioned bytes for profiles: a checked header, a JSON document, then binary blobs.

Layout (all integers little-endian)::

    b"WKPROF"            6 bytes, magic
    version              uint16, FORMAT_VERSION
    crc32                uint32 of everything after the header
    payload length       uint64
    json length          uint32
    json                 UTF-8; every ``bytes`` value of the state is replaced by
                         {"$blob": [offset, length]} into the blob area
    blobs                concatenated sketch and array bytes

Foreign bytes fail on the magic, bytes from a newer watchkeeper on the version, and any
flipped or truncated byte on the CRC or the lengths, each with a
:class:`~watchkeeper.errors.ProfileFormatError` saying which.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

from watchkeeper.errors import ProfileFormatError

__all__ = ["FORMAT_VERSION", "decode", "encode"]

MAGIC = b"WKPROF"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<6sHIQ")


def _pack(value: Any, blobs: list[bytes], offset: list[int]) -> Any:
    if isinstance(value, bytes | bytearray):
        ref = {"$blob": [offset[0], len(value)]}
        blobs.append(bytes(value))
        offset[0] += len(value)
        return ref
    if isinstance(value, dict):
        return {k: _pack(v, blobs, offset) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_pack(v, blobs, offset) for v in value]
    return value


def _unpack(value: Any, blob_area: bytes) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$blob"}:
            start, length = value["$blob"]
            if start < 0 or start + length > len(blob_area):
                raise ProfileFormatError(
                    "profile bytes: a blob points outside the payload; expected intact bytes",
                    field="blob",
                    value=(start, length),
                    expected=f"within {len(blob_area)} bytes",
                )
            return blob_area[start : start + length]
        return {k: _unpack(v, blob_area) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, blob_area) for v in value]
    return value


def encode(state: dict[str, Any]) -> bytes:
    """Encode a plain state (numbers, strings, lists, dicts, bytes) into profile bytes."""
    blobs: list[bytes] = []
    doc = json.dumps(_pack(state, blobs, [0]), separators=(",", ":")).encode()
    payload = struct.pack("<I", len(doc)) + doc + b"".join(blobs)
    return _HEADER.pack(MAGIC, FORMAT_VERSION, zlib.crc32(payload), len(payload)) + payload


def decode(data: bytes) -> dict[str, Any]:
    """Decode profile bytes to the plain state, checking magic, version, CRC and lengths."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProfileFormatError(
            f"profile bytes: expected bytes, got {type(data).__name__}",
            field="data",
            value=type(data).__name__,
            expected="bytes",
        )
    data = bytes(data)
    if len(data) < _HEADER.size or data[:6] != MAGIC:
        raise ProfileFormatError(
            f"profile bytes: not a watchkeeper profile (starts with {data[:6]!r}); "
            f"expected the magic {MAGIC!r}",
            field="magic",
            value=data[:6],
            expected=repr(MAGIC),
        )
    _magic, version, crc, length = _HEADER.unpack_from(data)
    if version != FORMAT_VERSION:
        raise ProfileFormatError(
            f"profile bytes: format version {version}; expected {FORMAT_VERSION} "
            "(written by a different watchkeeper version)",
            field="version",
            value=version,
            expected=str(FORMAT_VERSION),
        )
    payload = data[_HEADER.size :]
    if len(payload) != length or zlib.crc32(payload) != crc:
        raise ProfileFormatError(
            f"profile bytes: corrupt (length {len(payload)} of {length}, checksum "
            f"{'ok' if zlib.crc32(payload) == crc else 'mismatch'}); expected intact bytes",
            field="payload",
            value=len(payload),
            expected=f"{length} bytes with a matching CRC-32",
        )
    try:
        (doc_len,) = struct.unpack_from("<I", payload)
        doc = json.loads(payload[4 : 4 + doc_len])
        state = _unpack(doc, payload[4 + doc_len :])
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ProfileFormatError):
            raise
        raise ProfileFormatError(
            f"profile bytes: unreadable document ({exc}); expected intact bytes",
            field="payload",
            value=None,
            expected="a JSON document",
        ) from exc
    if not isinstance(state, dict):
        raise ProfileFormatError(
            "profile bytes: the document is not a mapping; expected a profile state",
            field="payload",
            value=type(state).__name__,
            expected="a mapping",
        )
    return state
