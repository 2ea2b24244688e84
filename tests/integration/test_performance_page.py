"""The performance chart in a real headless Chromium: a collector whose model was given
an estimator (``fit_estimator``) and a scripted stream — covariate shift the estimate
follows, then concept drift it cannot see — with labels three windows late. The chart
shows each window's estimate, its interval as a band and the realised value, the stored
points exactly; the page states the assumption. Screenshot: artifacts/performance/."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import ARTIFACTS, serve_app

from watchkeeper.service import Service
from watchkeeper.service.config import EXAMPLE, parse_config

pytestmark = pytest.mark.integration

WINDOWS = 24
SHIFT_FROM = 8  # the inputs move: the estimate follows
CONCEPT_FROM = 16  # the truth changes, the scores do not: the realised line leaves the band
LATE = 3  # labels arrive this many windows late
ROWS = 500


def _rows(rng: np.random.Generator, n: int, shift: float, concept: bool) -> tuple[dict, Any]:
    x = rng.normal(shift, 1.0, n)
    true = 1 / (1 + np.exp(-2 * x))
    score = true**1.3
    y = rng.uniform(size=n) < (0.5 if concept else true)
    return {"x": x, "prediction": np.where(score >= 0.5, "yes", "no"), "score": score}, np.where(
        y, "yes", "no"
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    import pandas as pd

    from watchkeeper.server.app import create_app

    tmp = tmp_path_factory.mktemp("performance")
    rng = np.random.default_rng(3)
    ref, truth = _rows(rng, 10_000, 0.0, False)
    pd.DataFrame(ref).to_parquet(tmp / "reference.parquet")
    doc = yaml.safe_load(EXAMPLE)
    doc.update(store=f"sqlite:///{tmp / 'wk.db'}", wal_dir=str(tmp / "wal"), api_keys=[],
               notifiers=[], actions={})  # fmt: skip
    for rule in doc["rules"]:
        rule.pop("action", None)
    doc["models"] = {
        "credit": {
            "reference": str(tmp / "reference.parquet"),
            "window": "1m",
            "rollups": [],
            "task": "classification",
            "positive": "yes",
        }
    }
    collector = Service(parse_config(doc, base=tmp))
    monitor = collector.monitors["credit"]
    monitor.fit_estimator(ref, truth)
    start = (time.time() // 3600 - 2) * 3600
    pending = []
    for w in range(WINDOWS):
        rows, labels = _rows(rng, ROWS, 0.8 if w >= SHIFT_FROM else 0.0, w >= CONCEPT_FROM)
        ids = [f"{w}-{i}" for i in range(ROWS)]
        ts = start + w * 60 + np.sort(rng.uniform(0, 59, ROWS))
        monitor.log({"x": rows["x"]}, {k: rows[k] for k in ("prediction", "score")}, ids=ids,
                    timestamps=ts)  # fmt: skip
        pending.append((ids, labels))
        if len(pending) > LATE:
            monitor.log_labels(*pending.pop(0))
    monitor.flush()  # the last LATE windows keep only their estimate
    collector.tick()
    try:
        with serve_app(create_app(collector.config, service=collector)) as url:
            yield url, monitor
    finally:
        collector.close()


def _epoch(plotly_time: str) -> float:
    return datetime.fromisoformat(plotly_time).replace(tzinfo=UTC).timestamp()


def _stored(monitor: Any, name: str, **labels: str) -> dict[float, float]:
    frame = monitor.metrics(name, **labels)
    return {r["window_start"].timestamp(): r["value"] for r in frame.to_dict("records")}


def test_performance_chart_shows_estimate_band_and_realised(
    served: tuple[str, Any], browser: Any
) -> None:
    url, monitor = served
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url + "/models/credit?range=1d")
    page.wait_for_selector("#chart-performance .main-svg", timeout=20_000)
    page.wait_for_load_state("networkidle")
    traces = page.evaluate(
        "() => document.getElementById('chart-performance').data"
        ".map(t => ({name: t.name, x: t.x, y: t.y, fill: t.fill || null}))"
    )
    by_name = {t["name"]: t for t in traces}

    def series(name: str) -> dict[float, float]:
        t = by_name[name]
        return {_epoch(x): y for x, y in zip(t["x"], t["y"], strict=True) if y is not None}

    estimated = _stored(monitor, "estimated_accuracy")
    realised = _stored(monitor, "accuracy")
    upper = _stored(monitor, "estimated_bound", metric="accuracy", bound="upper")
    assert len(estimated) == WINDOWS and len(realised) == WINDOWS - LATE
    for name, want in (("estimated accuracy", estimated), ("accuracy", realised)):
        got = series(name)
        assert got.keys() == want.keys(), name
        assert all(math.isclose(got[k], want[k]) for k in want), name
    band = [t for t in traces if t["name"] == "accuracy estimate 95% interval"]
    assert len(band) == 2 and band[1]["fill"] == "tonexty"
    got_upper = {_epoch(x): y for x, y in zip(band[1]["x"], band[1]["y"], strict=True)}
    assert got_upper.keys() == upper.keys()
    assert all(math.isclose(got_upper[k], upper[k]) for k in upper)
    # covariate shift: realised inside the band; concept drift: outside, every window
    outside = _stored(monitor, "estimate_outside", metric="accuracy")
    starts = sorted(estimated)
    assert sum(outside[s] for s in starts[:CONCEPT_FROM]) <= 1
    assert all(outside[s] == 1 for s in starts[CONCEPT_FROM : WINDOWS - LATE])
    assumption = page.locator("#estimate-assumption").inner_text()
    assert "P(y|x)" in assumption and "concept drift" in assumption
    shots = ARTIFACTS / "performance"
    shots.mkdir(parents=True, exist_ok=True)
    page.locator("#chart-performance").screenshot(path=str(shots / "performance-chart.png"))
    page.screenshot(path=str(shots / "model-page.png"), full_page=True)
    assert problems == []
    context.close()
    assert Path(shots / "performance-chart.png").stat().st_size > 10_000
