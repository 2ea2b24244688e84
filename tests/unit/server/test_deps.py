"""The routes' dependencies: the API key on every write, checked before the body; the
body limit on declared and streamed lengths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_api import _config

from watchkeeper.server.app import create_app
from watchkeeper.service.config import parse_config

WRITES = [
    ("POST", "/v1/models/churn/predictions"),
    ("POST", "/v1/models/churn/labels"),
    ("POST", "/v1/models/churn/signals"),
    ("PUT", "/v1/models/churn/reference"),
    ("PUT", "/v1/models/churn/versions/2"),
    ("POST", "/v1/silences"),
    ("POST", "/v1/reload"),
]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    doc = _config(tmp_path, api_keys=["s3cret"], limits={"max_body_bytes": 1_000})
    with TestClient(create_app(parse_config(doc, base=tmp_path))) as c:
        yield c


@pytest.mark.parametrize(("method", "url"), WRITES)
def test_every_write_needs_the_key_before_its_body_is_read(
    client: TestClient, method: str, url: str
) -> None:
    r = client.request(method, url, content=b"x" * 5_000)  # over the limit too
    assert r.status_code == 401
    assert r.json()["errors"] == [
        {"path": "headers.x-api-key", "message": "an API key is required", "expected": "X-API-Key"}
    ]
    r = client.request(method, url, content=b"{}", headers={"X-API-Key": "guess"})
    assert r.status_code == 403 and r.json()["errors"][0]["message"] == "the API key is not valid"


def test_an_unknown_model_is_404_before_the_body_is_read(client: TestClient) -> None:
    r = client.post(
        "/v1/models/nope/predictions", content=b"x" * 5_000, headers={"X-API-Key": "s3cret"}
    )
    assert r.status_code == 404 and r.json()["errors"][0]["path"] == "model"


def test_a_declared_length_over_the_limit_is_413(client: TestClient) -> None:
    r = client.post(
        "/v1/models/churn/predictions", content=b"x" * 1_001, headers={"X-API-Key": "s3cret"}
    )
    assert r.status_code == 413
    assert r.json()["errors"] == [
        {"path": "body", "message": "1001 bytes is over the limit", "expected": "<= 1000"}
    ]


def test_a_streamed_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no content-length: the limit counts as it reads
        for _ in range(5):
            yield b"x" * 300

    r = client.post(
        "/v1/models/churn/predictions", content=chunks(), headers={"X-API-Key": "s3cret"}
    )
    assert r.status_code == 413
    assert r.json()["errors"][0]["message"] == "more than 1000 bytes"


def test_reads_need_no_key(client: TestClient) -> None:
    for url in ("/v1/models", "/v1/alerts", "/v1/silences", "/healthz", "/readyz"):
        assert client.get(url).status_code == 200, url
