"""Media columns declared in the schema, described in the Monitor and in the SDK client:
profiled and drift-tested as ``column.descriptor`` features; raw media never sent."""

from __future__ import annotations

import threading

import httpx
import numpy as np
import pandas as pd
import pytest

from watchkeeper import Monitor
from watchkeeper.descriptors import Describer
from watchkeeper.monitor.clock import ManualClock
from watchkeeper.schema import Schema
from watchkeeper.sdk.client import Client
from watchkeeper.wire import decode_batch

SCHEMA = {
    "voice": {"kind": "audio", "descriptors": ["rms_dbfs", "duration_seconds"]},
    "photo": {"kind": "image", "descriptors": ["brightness"]},
    "emb": {"kind": "embedding"},
    "query": {"kind": "text", "descriptors": ["oov_rate", "empty"]},
    "prediction": {"kind": "numeric", "role": "output"},
}


def _row(rng: np.random.Generator, *, loud: float = 0.05, words: str = "play music") -> dict:
    return {
        "voice": (loud * rng.standard_normal(800), 8_000),
        "photo": rng.integers(60, 200, (8, 8, 3), dtype=np.uint8),
        "emb": rng.normal(size=6),
        "query": words,
    }


def test_the_schema_holds_descriptor_columns_in_place_of_raw_media() -> None:
    schema = Schema.from_dict(SCHEMA)
    assert schema.names == (
        "voice.duration_seconds", "voice.rms_dbfs", "photo.brightness", "emb.norm",
        "emb.proj1", "emb.proj2", "emb.proj3", "query", "query.empty", "query.oov_rate",
        "prediction",
    )  # fmt: skip
    assert {c.kind for c in schema if c.source is not None} == {"numeric"}
    assert Schema.from_dict(schema.to_dict()) == schema  # stored form reads back equal


def test_rows_batches_and_dataframes_are_described_alike() -> None:
    rng = np.random.default_rng(0)
    rows = [_row(rng) for _ in range(4)]
    d = Describer.for_schema(SCHEMA)
    assert d is not None
    d.fit(rows)
    one = [d(r) for r in rows]
    as_rows = d(rows)
    as_columns = d({k: [r[k] for r in rows] for k in rows[0]})
    as_frame = d(pd.DataFrame({k: [r[k] for r in rows] for k in rows[0]}))
    for batch in (as_rows, as_columns, as_frame):
        assert "voice" not in batch and "photo" not in batch and "emb" not in batch
        for name in ("voice.rms_dbfs", "photo.brightness", "emb.proj2", "query.oov_rate"):
            assert np.allclose(np.asarray(batch[name], dtype=float), [o[name] for o in one])
    assert d(as_columns) is as_columns  # already described: unchanged


def test_a_louder_microphone_drifts_its_loudness_in_the_monitor() -> None:
    rng = np.random.default_rng(1)
    reference = [_row(rng) | {"prediction": 0.5} for _ in range(400)]
    clock = ManualClock(0.0)
    with Monitor(
        "asr", schema=SCHEMA, reference=reference, store="memory://", clock=clock, window="1m"
    ) as m:
        for i in range(240):
            loud = 0.05 if i < 120 else 0.3
            m.log(_row(rng, loud=loud, words="play jazz" if i >= 120 else "play music"), 0.5,
                  timestamps=i / 2)  # fmt: skip
        clock.advance(600)
        m.tick()
        points = m.metrics("feature_drifted")
    assert m.rejected_calls == 0
    drifted = points.pivot_table(index="window_start", columns="feature", values="value")
    assert drifted["voice.rms_dbfs"].tolist() == [0.0, 1.0]
    assert drifted["query.oov_rate"].tolist() == [0.0, 1.0]  # "jazz" is not in the reference
    assert drifted["photo.brightness"].tolist() == [0.0, 0.0]
    assert "voice" not in drifted.columns


def test_the_sdk_client_sends_descriptors_never_the_raw_media() -> None:
    rng = np.random.default_rng(2)
    bodies: list[tuple[bytes, str]] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            bodies.append((request.content, request.headers["content-type"]))
        return httpx.Response(200, json={"accepted": 1})

    describe = Describer.for_schema(SCHEMA)
    assert describe is not None
    describe.fit([_row(rng) for _ in range(10)])
    with Client("http://collector", "asr", transport=httpx.MockTransport(handler),
                describe=describe, flush_interval=0.05) as client:  # fmt: skip
        client.log(_row(rng), 0.5)
        client.log([_row(rng) for _ in range(3)], [0.5] * 3)
        assert client.flush(10)
    assert client.dropped == 0
    features = [decode_batch(body, ctype).features for body, ctype in bodies]
    names = set().union(*features)
    assert {"voice.rms_dbfs", "photo.brightness", "emb.norm", "query", "query.oov_rate"} <= names
    assert not names & {"voice", "photo", "emb"}
    assert sum(len(f["voice.rms_dbfs"]) for f in features) == 4


def test_a_row_without_its_media_has_missing_descriptors() -> None:
    d = Describer.for_schema({"voice": {"kind": "audio", "descriptors": ["rms_dbfs"]}})
    assert d is not None
    row = d({"voice": None, "x": 1.0})
    assert row["x"] == 1.0 and np.isnan(row["voice.rms_dbfs"]) and "voice" not in row


def test_a_bad_image_names_its_column() -> None:
    d = Describer.for_schema({"photo": {"kind": "image"}})
    assert d is not None
    with pytest.raises(Exception, match=r"column 'photo': image: expected H x W"):
        d({"photo": [np.zeros(3), None]})
