"""The dashboard's pages and static files, served from the watchkeeper.assets package."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_api import _config

from watchkeeper.server.app import create_app
from watchkeeper.service.config import parse_config

ASSETS = files("watchkeeper.assets")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(parse_config(_config(tmp_path), base=tmp_path))) as c:
        yield c


@pytest.mark.parametrize(
    ("name", "media"),
    [("dashboard.js", "text/javascript"), ("charts.js", "text/javascript"),
     ("dashboard.css", "text/css")],
)  # fmt: skip
def test_static_files_are_the_packaged_assets(client: TestClient, name: str, media: str) -> None:
    r = client.get(f"/static/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    assert r.headers["cache-control"] == "max-age=3600"
    assert r.content == (ASSETS / "static" / name).read_bytes()


def test_only_known_static_files_are_served(client: TestClient) -> None:
    for name in ("base.html", "report.js", "..%2F__init__.py", "nope.js"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 404, name


@pytest.mark.parametrize(
    ("url", "marker"),
    [
        ("/", 'src="/static/charts.js"'),
        ("/models/churn", "churn"),
        ("/models/churn/features/age", "age"),
        ("/alerts", "alerts"),
    ],
)
def test_pages_render_from_the_packaged_templates(
    client: TestClient, url: str, marker: str
) -> None:
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert marker in r.text


def test_an_unknown_model_or_feature_page_is_404(client: TestClient) -> None:
    assert client.get("/models/nope").status_code == 404
    assert client.get("/models/churn/features/nope").status_code == 404


def test_the_feature_page_knows_the_window_size_to_show_an_alerts_window(
    client: TestClient,
) -> None:
    import json
    import re

    r = client.get("/models/churn/features/age", params={"window": "120"})
    assert r.status_code == 200
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', r.text)
    assert found is not None
    page = json.loads(found.group(1))
    assert page["window_seconds"] == 60.0 and page["feature"] == "age"


def test_a_refresh_of_thousands_of_digits_is_ignored_not_a_500(client: TestClient) -> None:
    r = client.get("/", params={"refresh": "9" * 5_000})
    assert r.status_code == 200
