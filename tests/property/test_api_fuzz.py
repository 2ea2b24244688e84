"""Fuzzing the collector's API: whatever the body, never a 5xx."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.server.app import create_app
from watchkeeper.service.config import parse_config

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
_value = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
_row = st.fixed_dictionaries(
    {"features": st.dictionaries(st.sampled_from(["age", "plan", "x"]), _value, max_size=3)},
    optional={
        "outputs": _value | st.dictionaries(st.text(max_size=5), _value, max_size=2),
        "id": _value,
        "timestamp": _value,
        "latency": _value,
        "error": _value,
        "tags": _json,
    },
)
_bodies = st.one_of(
    _json,
    st.fixed_dictionaries({"rows": st.lists(_row, max_size=5)}),
    st.fixed_dictionaries(
        {"columns": _json}, optional={"outputs": _json, "ids": _json, "timestamps": _json}
    ),
    st.fixed_dictionaries({"ids": _json, "labels": _json}),
    st.fixed_dictionaries({"metrics": _json, "events": _json}),
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with tempfile.TemporaryDirectory(prefix="wk-fuzz-") as name:
        tmp = Path(name)
        rng = np.random.default_rng(0)
        pd.DataFrame(
            {
                "age": rng.normal(40, 10, 1_000),
                "plan": rng.choice(["a", "b"], 1_000),
                "prediction": rng.random(1_000),
            }
        ).to_parquet(tmp / "ref.parquet")
        doc = {"store": "sqlite:///wk.db", "wal_dir": "wal", "fsync": False,
               "models": {"m": {"reference": "ref.parquet", "rollups": []}}}  # fmt: skip
        with TestClient(create_app(parse_config(doc, base=tmp))) as c:
            yield c


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=_bodies,
    endpoint=st.sampled_from(["predictions", "labels", "signals"]),
    model=st.sampled_from(["m", "m", "unknown", "%00", "a b"]),
)
def test_json_bodies_never_get_a_server_error(
    client: TestClient, body: Any, endpoint: str, model: str
) -> None:
    # json.dumps writes NaN and Infinity, which Python's parser (the server's) accepts
    content = json.dumps(body).encode()
    r = client.post(f"/v1/models/{model}/{endpoint}", content=content,
                       headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code < 500, (r.status_code, r.text, body)
    if r.status_code >= 400:
        assert r.json()["errors"][0]["message"] or r.json().get("detail")


@settings(max_examples=60, deadline=None)
@given(
    raw=st.binary(max_size=200),
    ctype=st.sampled_from(["application/json", "application/vnd.apache.arrow.stream",
                           "application/vnd.apache.parquet", "text/csv", "image/png", ""]),
    endpoint=st.sampled_from(["predictions", "labels", "signals", "reference"]),
)  # fmt: skip
def test_raw_bytes_never_get_a_server_error(
    client: TestClient, raw: bytes, ctype: str, endpoint: str
) -> None:
    method = "PUT" if endpoint == "reference" else "POST"
    r = client.request(method, f"/v1/models/m/{endpoint}", content=raw,
                          headers={"content-type": ctype})  # fmt: skip
    assert r.status_code < 500, (r.status_code, r.text, raw, ctype)


@settings(max_examples=60, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(["metric", "since", "until", "window", "version", "label"]),
        st.text(max_size=10),
        max_size=4,
    )
)
def test_queries_never_get_a_server_error(client: TestClient, params: dict[str, str]) -> None:
    r = client.get("/v1/models/m/metrics", params=params)
    assert r.status_code < 500, (r.status_code, r.text, params)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


_HUGE_INT = "9" * 5_000
_hostile_value = st.sampled_from(
    [_deep(100_000), _deep(3_000), _HUGE_INT, "1" * 400, "1e400", "-1e308", '"x"', "null"]
)
_templates = st.sampled_from(
    [
        ("predictions", '{"rows": [{"features": {"age": %s}, "timestamp": 1}]}'),
        ("predictions", '{"rows": [{"features": {"age": 1}, "timestamp": %s}]}'),
        ("predictions", '{"rows": [{"features": {"age": 1}, "tags": {"t": %s}}]}'),
        ("predictions", '{"columns": {"age": [%s]}, "timestamps": [%s]}'),
        ("labels", '{"ids": ["a"], "labels": [%s]}'),
        ("labels", '{"ids": [%s], "labels": [1]}'),
        ("signals", '{"metrics": [{"name": "x", "value": %s}]}'),
        ("signals", '{"events": [{"name": "x", "timestamp": %s}]}'),
        ("silences", '{"matchers": {"a": "b"}, "duration": %s}'),
        ("silences", '{"matchers": {"a": "b"}, "comment": %s}'),
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=_templates, value=_hostile_value)
def test_hostile_values_get_one_json_4xx_line(
    client: TestClient, template: tuple[str, str], value: str
) -> None:
    """Nesting 10^5 deep, integers of 5,000 digits, 400-digit times and durations: the
    parser's limits (RecursionError, int conversion, float overflow) are 4xx, never 5xx."""
    endpoint, shape = template
    body = (shape % ((value,) * shape.count("%s"))).encode()
    path = "/v1/silences" if endpoint == "silences" else f"/v1/models/m/{endpoint}"
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code < 500, (r.status_code, r.text[:200], template, value[:20])
    if r.status_code >= 400:
        (error,) = r.json()["errors"]
        assert "\n" not in error["message"] and len(error["message"]) < 400


@settings(max_examples=30, deadline=None)
@given(version=st.text(min_size=1, max_size=400).filter(lambda v: v not in (".", "..")))
def test_version_names_never_get_a_server_error(client: TestClient, version: str) -> None:
    r = client.put(f"/v1/models/m/versions/{quote(version, safe='')}", content=b"")
    assert r.status_code < 500, (r.status_code, r.text, version)
