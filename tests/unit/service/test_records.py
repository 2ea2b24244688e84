"""The framing of a write-ahead log record: header and body round-trip, byte for byte."""

from __future__ import annotations

import json

import pytest

from watchkeeper import wire
from watchkeeper.errors import StoreError
from watchkeeper.service.records import RecordHeader, decode_record, encode_record


@pytest.mark.parametrize(
    "header",
    [
        RecordHeader("predictions", "churn", wire.PARQUET, "batch-1", 5_000),
        RecordHeader("labels", "churn", wire.JSON, None, 0),
        RecordHeader("signals", "naïve-model_2", wire.JSON, "ключ", 3),
    ],
    ids=["predictions", "labels-without-key", "signals-non-ascii"],
)
@pytest.mark.parametrize("body", [b"", b'{"rows": []}', bytes(range(256)) * 4])
def test_header_and_body_round_trip(header: RecordHeader, body: bytes) -> None:
    assert decode_record(encode_record(header, body)) == (header, body)


def test_the_layout_is_a_length_prefixed_json_header_then_the_body() -> None:
    header = RecordHeader("labels", "churn", wire.JSON, "k", 2)
    payload = encode_record(header, b"BODY")
    size = int.from_bytes(payload[:4], "little")
    assert json.loads(payload[4 : 4 + size]) == {
        "kind": "labels",
        "model": "churn",
        "content_type": wire.JSON,
        "key": "k",
        "n": 2,
    }
    assert payload[4 + size :] == b"BODY"


def test_a_body_that_looks_like_a_header_stays_a_body() -> None:
    inner = encode_record(RecordHeader("labels", "other", wire.JSON, None, 1), b"x")
    header = RecordHeader("predictions", "churn", wire.ARROW_STREAM, None, 1)
    assert decode_record(encode_record(header, inner)) == (header, inner)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        (100).to_bytes(4, "little") + b'{"kind": "labels"}',  # shorter than announced
        (7).to_bytes(4, "little") + b"not json",
        (2).to_bytes(4, "little") + b"{}",  # JSON, but not a header
    ],
    ids=["empty", "short", "not-json", "missing-fields"],
)
def test_an_unreadable_header_is_a_store_error(payload: bytes) -> None:
    with pytest.raises(StoreError, match="write-ahead log record: unreadable header"):
        decode_record(payload)
