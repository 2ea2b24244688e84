"""The SDK's bodies: an Arrow body decodes in the collector exactly as the JSON body of the
same rows would, mixed columns fall back to JSON, and a split loses no row."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from watchkeeper import wire
from watchkeeper.sdk import _encode

ROWS: list[_encode.Row] = [
    ({"age": 41, "city": "Oslo", "score": 0.5, "ok": True}, "yes", "r1", 1.0e9, 0.01, None,
     None),
    ({"age": None, "city": "Rome", "score": float("nan"), "ok": False}, {"prediction": "no",
     "p": np.float32(0.25)}, None, 1.0e9 + 1, None, "Timeout", None),
    ({"age": 7, "score": np.float64(2.0)}, None, "r3", 1.0e9 + 2, 0.02, None, None),
]  # fmt: skip


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _decoded(body: bytes) -> wire.Batch:
    return wire.decode_batch(body, _encode.content_type(body))


def test_an_arrow_body_decodes_like_the_json_body_of_the_same_rows() -> None:
    [(n, arrow)] = _encode.encode_rows(ROWS)
    assert n == 3 and _encode.content_type(arrow) == wire.ARROW_STREAM
    tagged = [(*row[:6], {"t": "x"}) for row in ROWS]
    [(_, as_json)] = _encode.encode_rows(tagged)  # tags: JSON
    assert _encode.content_type(as_json) == wire.JSON
    a, j = _decoded(arrow), _decoded(as_json)
    assert a.n_rows == j.n_rows == 3
    assert j.tags == {"t": "x"}
    for field in ("features", "outputs"):
        left, right = getattr(a, field), getattr(j, field)
        assert left.keys() == right.keys()
        for k in left:
            assert all(_same(x, y) for x, y in zip(left[k], right[k], strict=True)), k
    for field in ("ids", "timestamps", "latency", "errors"):
        assert getattr(a, field) == getattr(j, field), field
    assert a.features["score"][1] is None  # NaN travels as missing, as in JSON


def test_a_column_arrow_cannot_hold_goes_as_json() -> None:
    rows = [({"x": 1}, None, None, 1.0, None, None, None),
            ({"x": "a"}, None, None, 2.0, None, None, None)]  # fmt: skip
    [(_, body)] = _encode.encode_rows(rows)
    assert json.loads(body)["columns"] == {"x": [1, "a"]}


def test_split_halves_keep_every_row_in_order() -> None:
    rows = [({"x": float(i)}, None, f"id{i}", 1.0 + i, None, None, None) for i in range(7)]
    [(_, arrow)] = _encode.encode_rows(rows)
    [(_, as_json)] = _encode.encode_rows([(*r[:6], {"t": "x"}) for r in rows])
    signals = _encode.encode_signals(
        [{"name": "m", "value": float(i), "tags": {}, "timestamp": 1.0} for i in range(3)],
        [{"name": "e", "timestamp": 1.0}],
    )
    for body in (arrow, as_json):
        parts = _encode.split(body)
        assert parts is not None and [n for n, _ in parts] == [3, 4]
        ids = [i for _, part in parts for i in _decoded(part).ids or []]
        assert ids == [f"id{i}" for i in range(7)]
    parts = _encode.split(signals)
    assert parts is not None and sum(n for n, _ in parts) == 4
    one = _encode.encode_rows(rows[:1])[0][1]
    assert _encode.split(one) is None


def test_a_batch_goes_as_arrow_and_decodes_like_its_json() -> None:
    import pandas as pd

    frame = pd.DataFrame({"age": [41.0, np.nan, 7.0], "city": ["Oslo", None, "Rome"]})
    args = (frame, np.array([0.1, 0.2, 0.3]), ["a", "b", "c"], np.array([1e9, 1e9 + 1, 1e9 + 2]),
            0.01, None)  # fmt: skip
    n, arrow = _encode.encode_batch(*args, None, 5.0)
    _, as_json = _encode.encode_batch(*args, {"t": "x"}, 5.0)
    assert n == 3 and _encode.content_type(arrow) == wire.ARROW_STREAM
    assert _encode.content_type(as_json) == wire.JSON
    a, j = _decoded(arrow), _decoded(as_json)
    assert a.features == j.features == {"age": [41.0, None, 7.0], "city": ["Oslo", None, "Rome"]}
    assert a.outputs == j.outputs == {"prediction": [0.1, 0.2, 0.3]}
    for field in ("ids", "timestamps", "latency"):
        assert getattr(a, field) == getattr(j, field), field
