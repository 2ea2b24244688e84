"""The dashboard in a real headless Chromium against a collector filled by a scripted
stream (tests/dashboard_stream.py): the charts hold the stored points, the drifted cells
are the injected ones, clicks lead from overview to model to feature, names are text.
Screenshots go to artifacts/dashboard/."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ARTIFACTS, serve_app
from dashboard_stream import SHIFT_FROM, WINDOWS, XSS, build

pytestmark = pytest.mark.integration

SHOTS = ARTIFACTS / "dashboard"


class _Served:
    def __init__(self, url: str, collector: Any, info: dict[str, Any]) -> None:
        self.url, self.collector, self.info = url, collector, info


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Served]:

    from watchkeeper.server.app import create_app

    collector, info = build(tmp_path_factory.mktemp("dashboard"))
    with serve_app(create_app(collector.config, service=collector)) as url:
        yield _Served(url, collector, info)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.problems = []  # page errors, dialogs (an executed alert()) and failed requests
    pg.on("pageerror", lambda e: pg.problems.append(f"error: {e}"))
    pg.on("dialog", lambda d: (pg.problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.on("response", lambda r: r.status >= 400 and pg.problems.append(f"{r.status} {r.url}"))
    try:
        yield pg
    finally:
        context.close()


def _open(page: Any, url: str, ready: str) -> None:
    page.goto(url)
    page.wait_for_selector(ready, timeout=20_000)
    page.wait_for_load_state("networkidle")


def _shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _stored(served: _Served, name: str, **labels: str) -> dict[tuple[str, float], float]:
    frame = served.collector.monitors["credit"].metrics(name, **labels)
    key = "feature" if "feature" in frame.columns else None
    return {
        (row[key] if key else "", row["window_start"].timestamp()): row["value"]
        for row in frame.to_dict("records")
    }


def _epoch(plotly_time: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(plotly_time).replace(tzinfo=UTC).timestamp()


def test_overview_model_feature_click_through(served: _Served, page: Any) -> None:
    _open(page, served.url + "/", ".card[data-model=credit] .spark .main-svg")
    credit = page.locator(".card[data-model=credit]")
    assert credit.locator(".badge[data-family=inputs]").get_attribute("class") == "badge alert"
    assert credit.locator(".badge[data-family=software]").get_attribute("class") == "badge ok"
    assert "FeatureDrifting" in credit.locator(".firing").inner_text()
    fresh = page.locator(".card[data-model=fresh]")
    assert "No data yet" in fresh.inner_text()
    _shot(page, "overview")

    credit.locator("a.model-link").click()
    page.wait_for_url("**/models/credit?**")
    page.wait_for_selector("#chart-heatmap .main-svg", timeout=20_000)
    page.wait_for_load_state("networkidle")
    _shot(page, "model")

    # counts the collector reports beyond the model's description (rows rejected, too
    # late, labels for unknown ids) show under the title, whatever their names
    entry = next(
        m for m in httpx.get(f"{served.url}/v1/models", timeout=10).json()["models"]
        if m["model"] == "credit"
    )  # fmt: skip
    known = {"model", "version", "window_seconds", "schema", "last_closed_window"}
    counts = page.locator("#ingest-counts")
    if set(entry) - known:
        text = counts.inner_text()
        for key in set(entry) - known:
            assert key.replace("_", " ") in text, (key, text)
    else:
        assert counts.is_hidden()

    # the heatmap holds exactly the stored verdicts, and the drifted cells are the injected
    heat = page.evaluate(
        "() => { const t = document.getElementById('chart-heatmap').data[0];"
        " return {x: t.x, z: t.z, features: JSON.parse("
        "document.getElementById('chart-heatmap').dataset.features)}; }"
    )
    stored = _stored(served, "feature_drifted")
    cells = {}
    for row, feature in enumerate(heat["features"]):
        for col, x in enumerate(heat["x"]):
            if heat["z"][row][col] is not None:
                cells[(feature, _epoch(x))] = heat["z"][row][col]
    assert cells == stored
    assert len(heat["x"]) == WINDOWS
    drifted = {k for k, v in cells.items() if v == 1}
    injected = {(f, t) for f in ("income", "region") for t in served.info["shifted"]}
    assert drifted == injected, sorted(drifted ^ injected)

    # p99 latency line: the stored points, window by window
    p99 = page.evaluate(
        "() => document.getElementById('chart-latency').data"
        ".filter(t => t.name === 'p99').map(t => [t.x, t.y])[0]"
    )
    want = _stored(served, "latency_seconds", quantile="0.99")
    got = {("", _epoch(x)): y for x, y in zip(*p99, strict=True)}
    assert got.keys() == want.keys()
    assert all(math.isclose(got[k], want[k]) for k in want)

    # a real click on income's cell in the first drifted window opens the feature page
    col = SHIFT_FROM
    row = heat["features"].index("income")
    x, y = page.evaluate(
        """([row, col]) => {
            const gd = document.getElementById('chart-heatmap'), fl = gd._fullLayout;
            const box = gd.getBoundingClientRect(), t = gd.data[0];
            return [box.left + fl.xaxis._offset + fl.xaxis.d2p(t.x[col]),
                    box.top + fl.yaxis._offset + fl.yaxis.d2p(t.y[row])];
        }""",
        [row, col],
    )
    page.mouse.click(x, y)
    page.wait_for_url("**/models/credit/features/income?**")
    page.wait_for_selector("#verdict-state", timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert "drifted" in page.locator("#verdict-state").inner_text()
    assert "no drift" not in page.locator("#verdict-state").inner_text()
    explanation = page.locator("#verdict-explanation").inner_text()
    assert "above its threshold" in explanation
    dist = page.evaluate("() => document.getElementById('chart-distribution').data")
    served_dist = httpx.get(
        f"{served.url}/v1/models/credit/features/income/distribution", timeout=10
    ).json()
    edges = served_dist["edges"]
    ref, cur = served_dist["reference"], served_dist["current"]
    assert math.isclose(sum(ref), 1.0) and math.isclose(sum(cur), 1.0)
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    for trace, shares in zip(dist[:2], [ref, cur], strict=True):
        # overlaid on the value axis: each reference bin as wide as it is, height share/width
        assert trace["customdata"] == pytest.approx(shares[1:-1])
        assert trace["x"] == pytest.approx(centres)
        heights = zip(trace["y"], trace["width"], strict=True)
        assert [y * w for y, w in heights] == pytest.approx(shares[1:-1])
    for trace, shares in zip(dist[2:], [ref, cur], strict=True):  # their own panel: shares
        assert trace["xaxis"] == "x2" and trace["x"][0].startswith("below")
        assert trace["y"] == pytest.approx([shares[0], shares[-1]])
    # +1.5 sd for a third of the windows: the top reference bins gain mass
    assert sum(cur[-4:]) > sum(ref[-4:]) + 0.1
    stat = page.evaluate(
        "() => document.getElementById('chart-statistic').data.map(t => [t.name, t.y.length])"
    )
    assert ["statistic", WINDOWS] in stat and ["threshold", WINDOWS] in stat
    _shot(page, "feature-income")
    assert page.problems == []


def test_new_category_and_alerts_page(served: _Served, page: Any) -> None:
    _open(page, served.url + "/models/credit/features/region", "#verdict-state")
    assert "mars" in page.locator("#new-categories").inner_text()
    _open(page, served.url + "/alerts", "#alerts-firing")
    firing = page.locator("#alerts-firing tbody")
    text = firing.inner_text()
    assert "FeatureDrifting" in text and "DatasetDrift" in text
    assert "feature=income" in text and "feature=region" in text
    assert firing.locator("a", has_text="income").count() >= 1  # evidence links
    assert page.locator("#alerts-resolved tbody").inner_text().strip() == "none"
    _shot(page, "alerts")
    # a feature label links to that feature's page, at the window that alerted
    firing.locator("tr[data-rule=FeatureDrifting] a", has_text="region").first.click()
    page.wait_for_url("**/models/credit/features/region?**")
    page.wait_for_selector("#verdict-state", timeout=20_000)
    assert page.problems == []


def test_a_feature_page_opened_from_an_alert_shows_the_window_that_alerted(
    served: _Served, page: Any
) -> None:
    alerts = httpx.get(f"{served.url}/v1/alerts", params={"model": "credit"}, timeout=10).json()
    alert = next(
        a for a in alerts["alerts"]
        if a["rule"] == "FeatureDrifting" and a["labels"].get("feature") == "income"
    )  # fmt: skip
    window = alert["evidence"]["windows"][-1][0]  # the last window the rule judged
    _open(page, served.url + "/alerts", "#alerts-firing")
    row = page.locator("#alerts-firing tr[data-rule=FeatureDrifting]", has_text="feature=income")
    row.locator("a", has_text="income").first.click()
    page.wait_for_url(f"**/models/credit/features/income?*window={window:.0f}*")
    page.wait_for_selector("#verdict-state", timeout=20_000)
    page.wait_for_load_state("networkidle")
    state = page.locator("#verdict-state").inner_text()
    assert state.startswith("Window of the alert (") and state.endswith("drifted"), state
    assert time.strftime("%H:%M", time.gmtime(window)) in state
    assert "The window that alerted" in page.locator("#verdict-window").inner_text()
    # the distributions are that window's, as the API gives them for that window alone
    one = {"range": "custom", "since": window, "until": window + 60}
    want = httpx.get(
        f"{served.url}/v1/models/credit/features/income/distribution", params=one, timeout=10
    ).json()
    assert want["windows"] == 1
    dist = page.evaluate(
        "() => document.getElementById('chart-distribution').data.map(t => [t.name, t.customdata])"
    )
    current = [shares for name, shares in dist if "the alert's window" in name]
    assert current and current[0] == pytest.approx(want["current"][1:-1])
    # the statistic chart's legend says what the alert flags are
    names = page.evaluate("() => document.getElementById('chart-statistic').data.map(t => t.name)")
    assert any(n.startswith("⚑ alert fired") for n in names), names
    _shot(page, "feature-income-alert")
    # back to the latest window
    page.locator("#verdict-window a").click()
    page.wait_for_selector("#verdict-state", timeout=20_000)
    assert "window=" not in page.url
    assert page.locator("#verdict-state").inner_text().startswith("Latest window (")
    assert page.problems == []


def test_names_render_as_text(served: _Served, page: Any) -> None:
    """A feature named <script>alert(1)</script>: no script runs (no dialog), the name
    shows as text on the model page, in the heatmap and on its own page."""
    _open(page, served.url + "/models/credit", "#quality tbody tr")
    assert page.locator("#quality tbody").get_by_text(XSS, exact=True).count() == 1
    assert XSS in page.locator("#chart-heatmap").inner_text()
    page.locator("#quality tbody a", has_text=XSS).click()
    page.wait_for_selector("#verdict-state", timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().endswith(f"/ {XSS}")
    scripts = page.evaluate("() => [...document.scripts].map(s => s.src || s.type)")
    assert all(s.endswith((".js", "application/json")) for s in scripts), scripts
    _shot(page, "feature-xss")
    assert page.problems == []


def test_model_without_data_says_so(served: _Served, page: Any) -> None:
    _open(page, served.url + "/models/fresh", "#chart-latency .nodata")
    assert page.locator("#empty-note").is_visible()
    assert "No closed window yet" in page.locator("#quality").inner_text()
    _open(page, served.url + "/models/fresh/features/income", "#verdict .nodata")
    _shot(page, "model-without-data")
    assert page.problems == []


def test_range_picker_and_shared_urls(served: _Served, page: Any) -> None:
    start = served.info["windows"][0]
    _open(page, served.url + "/models/credit?range=1h&refresh=0", "#chart-heatmap .main-svg")
    page.select_option("#range-select", "custom")
    page.fill("#since-input", time.strftime("%Y-%m-%dT%H:%M", time.gmtime(start + 600)))
    page.fill("#until-input", time.strftime("%Y-%m-%dT%H:%M", time.gmtime(start + 1200)))
    page.click("#controls button")
    page.wait_for_url("**range=custom**")
    page.wait_for_selector("#chart-heatmap .main-svg", timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert f"since={start + 600:.0f}" in page.url and f"until={start + 1200:.0f}" in page.url
    xs = page.evaluate("() => document.getElementById('chart-heatmap').data[0].x")
    assert [_epoch(x) for x in xs] == [start + 60 * w for w in range(10, 20)]
    # the shared URL opens the same view in a fresh page
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_selector("#chart-heatmap .main-svg", timeout=20_000)
    assert other.evaluate("() => document.getElementById('chart-heatmap').data[0].x") == xs
    assert page.problems == []


def test_json_endpoints_and_bad_queries(served: _Served) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as client:
        r = client.get("/v1/models/credit/series", params={"name": "error_rate"})
        assert r.status_code == 200
        (s,) = r.json()["series"]
        want = _stored(served, "error_rate")
        assert {("", t): v for t, v in zip(s["t"], s["v"], strict=True)} == want
        assert (
            client.get("/v1/models/credit/series", params={"name": "x", "range": "2y"}).status_code
            == 422
        )
        assert client.get("/v1/models/credit/series").status_code == 422
        assert client.get("/v1/models/nope/series", params={"name": "x"}).status_code == 404
        assert client.get("/models/nope").status_code == 404
        assert client.get("/models/credit/features/nope").status_code == 404
        assert client.get("/static/../../etc/passwd").status_code == 404
        js = client.get("/static/plotly.min.js")
        assert js.status_code == 200 and len(js.content) > 1_000_000  # bundled, not a CDN link
        page = client.get("/models/credit").text
        assert "cdn" not in page.lower() and "https://" not in page
