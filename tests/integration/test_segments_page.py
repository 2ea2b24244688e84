"""The segments view in a real headless Chromium: the model page of a collector whose
accuracy dropped only in ``region=south`` ranks south first, flags it, shows its counts,
interval and confusion matrix; the offline report's segments section does the same.
Screenshots go to artifacts/segments/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ARTIFACTS, serve_app

from watchkeeper.service import Service
from watchkeeper.service.config import EXAMPLE, parse_config

pytestmark = pytest.mark.integration

SHOTS = ARTIFACTS / "segments"
REGIONS = ["north", "east", "west", "south"]
WINDOWS, ROWS, WINDOW = 4, 1500, 60.0


def _frame(rng: np.random.Generator, n: int, south_accuracy: float) -> pd.DataFrame:
    region = rng.choice(REGIONS, n, p=[0.4, 0.25, 0.25, 0.1])
    label = rng.choice(["yes", "no"], n)
    right = rng.random(n) < np.where(region == "south", south_accuracy, 0.9)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "region": region,
            "channel": rng.choice(["web", "app"], n),
            "label": label,
            "prediction": np.where(right, label, np.where(label == "yes", "no", "yes")),
        }
    )


def _collector(tmp: Path) -> Service:
    rng = np.random.default_rng(21)
    ref_path = tmp / "reference.parquet"
    _frame(rng, 6000, 0.9).drop(columns="label").to_parquet(ref_path)
    doc = yaml.safe_load(EXAMPLE)
    doc.update(store=f"sqlite:///{tmp / 'wk.db'}", wal_dir=str(tmp / "wal"), api_keys=[])
    doc.update(notifiers=[], actions={}, rules=[])
    doc["models"] = {
        "shop": {
            "reference": str(ref_path),
            "window": "1m",
            "rollups": [],
            "task": "classification",
            "segments": ["region", "channel"],
        }
    }
    collector = Service(parse_config(doc, base=tmp))
    monitor = collector.monitors["shop"]
    start = (time.time() // 3600 - 2) * 3600
    for w in range(WINDOWS):
        df = _frame(rng, ROWS, 0.5 if w >= 2 else 0.9)
        ids = [f"{w}-{i}" for i in range(ROWS)]
        ts = start + w * WINDOW + np.sort(rng.uniform(0, WINDOW - 1, ROWS))
        monitor.log(df[["age", "region", "channel"]], {"prediction": df["prediction"]},
                    ids=ids, timestamps=ts)  # fmt: skip
        monitor.flush()
        monitor.log_labels(ids, df["label"].to_numpy(object))
    collector.tick()
    return collector


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Service]]:

    from watchkeeper.server.app import create_app

    collector = _collector(tmp_path_factory.mktemp("segments"))
    try:
        with serve_app(create_app(collector.config, service=collector)) as url:
            yield url, collector
    finally:
        collector.close()


def _shot(page: Any, name: str, selector: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.locator(selector).screenshot(path=str(path))
    return path


def test_model_page_ranks_south_first_with_counts_interval_and_confusion(
    served: tuple[str, Service], browser: Any
) -> None:
    url, collector = served
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"error: {e}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.goto(url + "/models/shop?range=1d")
    page.wait_for_selector("#segments-table tbody tr", timeout=20_000)
    page.wait_for_selector("#segment-confusion-table", timeout=20_000)
    page.wait_for_load_state("networkidle")
    rows = page.locator("#segments-table tbody tr")
    first = rows.first
    assert first.get_attribute("data-segment") == "region=south"
    cells = first.locator("td").all_inner_texts()
    assert cells[0] == "1" and cells[7] == "weak"
    stored = collector.monitors["shop"].metrics(
        "segment_labelled_rows", segment_column="region", segment="south"
    )
    assert cells[3] == str(int(stored["value"].iloc[-1]))  # the latest labelled window's count
    assert " to " in cells[6]
    weak = [r.get_attribute("data-segment") for r in rows.all() if "weak" in r.inner_text()]
    assert weak == ["region=south"]
    assert "south" in page.locator("#segment-confusion h3").inner_text()
    # clicking another segment shows its confusion matrix
    page.locator("#segments-table tr[data-segment='channel=web']").click()
    page.wait_for_function(
        "document.querySelector('#segment-confusion h3').textContent.includes('web')"
    )
    page.locator("#segments-table tr[data-segment='region=south']").click()
    page.wait_for_function(
        "document.querySelector('#segment-confusion h3').textContent.includes('south')"
    )
    _shot(page, "model-segments", "main")
    assert problems == []
    context.close()


def test_report_page_shows_the_segments_section(tmp_path: Path, browser: Any) -> None:
    from typer.testing import CliRunner

    from watchkeeper.cli import app

    rng = np.random.default_rng(4)
    ref, cur = _frame(rng, 6000, 0.9), _frame(rng, 3000, 0.5)
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        app,
        ["report", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"),
         "-o", str(out), "--segment", "region", "--segment", "channel"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "segment region=south" in result.output
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(out.as_uri())
    page.wait_for_selector("#segments .segment-row")
    first = page.locator("#segments .segment-row").first
    assert first.get_attribute("data-segment") == "south"
    assert "weak" in first.inner_text()
    _shot(page, "report-segments", "#segments")
    page.close()
