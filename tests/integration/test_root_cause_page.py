"""Why did it change, in a real headless Chromium: the root-cause ranking on the alert
page, the model page and the offline report, and example rows on the feature page, for
a correlation flip no single feature shows (two features whose correlation turns from
+0.8 to -0.8, every marginal unchanged). Screenshots: artifacts/root_cause/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import ARTIFACTS, serve_app

from watchkeeper.report import add_multivariate, compare_frames, render_html, sample_batches
from watchkeeper.report.multivariate import report_schema
from watchkeeper.service import Service
from watchkeeper.service.config import parse_config
from watchkeeper.stats.multivariate import MultivariateConfig

pytestmark = pytest.mark.integration

SHOTS = ARTIFACTS / "root_cause"
PAIR = {"income", "spend"}
WINDOW, WINDOWS, FLIP_FROM, ROWS = 60.0, 6, 4, 1_000
MV = {"n_permutations": 9, "max_iter": 15, "max_rows": 500}


def _frame(rng: np.random.Generator, n: int, rho: float) -> pd.DataFrame:
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "tenure": rng.normal(5, 2, n),
            "income": x,
            "spend": rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n),
            "plan": rng.choice(["free", "pro", "team"], n),
        }
    )


class _Served:
    def __init__(self, url: str, collector: Service, flipped: list[float]) -> None:
        self.url, self.collector, self.flipped = url, collector, flipped


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Served]:

    from watchkeeper.server.app import create_app

    tmp = tmp_path_factory.mktemp("root_cause")
    rng = np.random.default_rng(17)
    ref = _frame(rng, 5_000, 0.8)
    ref["prediction"] = rng.choice(["buy", "leave"], len(ref))
    ref.to_parquet(tmp / "reference.parquet")
    doc = {
        "store": f"sqlite:///{tmp / 'wk.db'}",
        "wal_dir": str(tmp / "wal"),
        "fsync": False,
        "tick_seconds": 3600,
        "models": {
            "shop": {
                "reference": str(tmp / "reference.parquet"),
                "window": "1m",
                "rollups": [],
                "task": "classification",
                "multivariate": MV,
            }
        },
        "rules": [
            {
                "name": "MultivariateDrift",
                "metric": "multivariate_drifted",
                "labels": {"method": "pca"},
                "op": ">=",
                "threshold": 1,
                "summary": "the rows as a whole changed (features behind it: see the evidence)",
            }
        ],
    }
    collector = Service(parse_config(doc, base=tmp))
    monitor = collector.monitors["shop"]
    start = (time.time() // 3600 - 2) * 3600
    labels: list[tuple[list[str], Any]] = []
    for w in range(WINDOWS):
        df = _frame(rng, ROWS, -0.8 if w >= FLIP_FROM else 0.8)
        if w >= FLIP_FROM:
            df.loc[:4, "age"] = 400.0  # a few values far outside the reference's range
        ts = start + w * WINDOW + np.sort(rng.uniform(0, WINDOW - 1, ROWS))
        ids = [f"{w}-{i}" for i in range(ROWS)]
        predicted = rng.choice(["buy", "leave"], ROWS)
        monitor.log(df, {"prediction": predicted}, ids=ids, timestamps=ts)
        labels.append((ids, np.where(rng.random(ROWS) < 0.1, "leave", predicted)))
    monitor.flush()
    for ids, truth in labels:
        monitor.log_labels(ids, truth)
    collector.tick()
    flipped = [start + w * WINDOW for w in range(FLIP_FROM, WINDOWS)]
    with serve_app(create_app(collector.config, service=collector)) as url:
        yield _Served(url, collector, flipped)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.problems = []
    pg.on("pageerror", lambda e: pg.problems.append(f"error: {e}"))
    pg.on("response", lambda r: r.status >= 400 and pg.problems.append(f"{r.status} {r.url}"))
    try:
        yield pg
    finally:
        context.close()


def _shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _ranked(page: Any, table: str) -> list[str]:
    return page.evaluate(
        f"() => [...document.querySelectorAll('{table} tbody tr')].map(r => r.dataset.feature)"
    )


def test_alert_page_ranks_the_pair_first(served: _Served, page: Any) -> None:
    page.goto(served.url + "/alerts")
    page.wait_for_selector("#alerts-firing .causes-table tbody tr", timeout=20_000)
    ranked = _ranked(page, "#alerts-firing .causes-table")
    assert set(ranked[:2]) == PAIR, ranked
    assert "MultivariateDrift" in page.locator("#alerts-firing").inner_text()
    _shot(page, "alerts")
    assert page.problems == []


def test_model_page_shows_the_verdicts_and_the_ranking(served: _Served, page: Any) -> None:
    page.goto(served.url + "/models/shop")
    page.wait_for_selector("#root-cause-table tbody tr", timeout=20_000)
    assert set(_ranked(page, "#root-cause-table")[:2]) == PAIR
    verdicts = page.locator("#multivariate-verdicts li")
    assert verdicts.count() == 2
    assert all(c == "bad" for c in verdicts.evaluate_all("l => l.map(x => x.className)"))
    page.wait_for_selector("#misclassified-table tbody tr", timeout=20_000)
    rows = page.evaluate(
        "() => [...document.querySelectorAll('#misclassified-table tbody tr')].map("
        "r => [...r.cells].map(c => c.textContent))"
    )
    heads = page.locator("#misclassified-table th").all_inner_texts()
    pred, label = heads.index("prediction"), heads.index("label")
    assert rows and all(r[pred] == "buy" and r[label] == "leave" for r in rows), rows
    page.locator("#root-causes").scroll_into_view_if_needed()
    _shot(page, "model")
    assert page.problems == []


def test_feature_page_shows_example_rows_outside_the_reference(served: _Served, page: Any) -> None:
    at = int(served.flipped[-1])
    page.goto(f"{served.url}/models/shop/features/age?window={at}")
    page.wait_for_selector("#example-table tbody tr", timeout=20_000)
    cells = page.locator("#example-table td.bad").all_inner_texts()
    assert [float(c) for c in cells].count(400.0) == 5, cells  # the injected rows
    assert "outside the reference's range" in page.locator("#example-rows").inner_text()
    _shot(page, "feature")
    assert page.problems == []


def test_report_page_shows_the_ranking(tmp_path: Path, page: Any) -> None:
    rng = np.random.default_rng(3)
    ref, cur = _frame(rng, 10_000, 0.8), _frame(rng, 4_000, -0.8)
    report = compare_frames(ref, cur, reference_name="june.parquet", current_name="july.parquet")
    schema = report_schema(report)
    report = add_multivariate(
        report,
        sample_batches([ref], schema),
        sample_batches([cur], schema),
        MultivariateConfig(**MV),
    )
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    page.goto(path.as_uri())
    page.wait_for_selector("#root-cause-table tbody tr", timeout=20_000)
    assert set(_ranked(page, "#root-cause-table")[:2]) == PAIR
    assert "No dataset drift" in page.locator("#verdict-state").inner_text()
    page.locator("#root-causes").scroll_into_view_if_needed()
    _shot(page, "report")
    assert page.problems == []
