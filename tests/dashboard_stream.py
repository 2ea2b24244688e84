"""A scripted stream for the dashboard tests and benchmark: a collector whose store holds
windows with known incidents, and a model with no data at all.

Model ``credit``: 30 one-minute windows of 400 rows ending an hour ago. Features
``income`` (shifted by +1.5 sd from window ``SHIFT_FROM`` on), ``age``, ``region``
(categorical; a new value ``mars`` from window ``SHIFT_FROM``) and a feature named
``<script>alert(1)</script>`` (XSS probe). Outputs ``prediction`` and ``score``; labels
arrive for every row; latency, errors and a ``server_load`` custom metric.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from watchkeeper.service import Service
from watchkeeper.service.config import EXAMPLE, parse_config

XSS = "<script>alert(1)</script>"
WINDOWS = 30
SHIFT_FROM = 20
ROWS = 400
WINDOW = 60.0


def frame(rng: np.random.Generator, n: int, *, shifted: bool) -> pd.DataFrame:
    income = rng.normal(50.0, 10.0, n) + (15.0 if shifted else 0.0)
    regions = np.array(["north", "south", "east", "west"])
    region = regions[rng.integers(0, 4, n)].astype(object)
    if shifted:
        region[rng.random(n) < 0.3] = "mars"
    return pd.DataFrame(
        {
            "income": income,
            "age": rng.normal(40.0, 12.0, n),
            "region": region,
            XSS: rng.normal(0.0, 1.0, n),
        }
    )


def outputs(rng: np.random.Generator, df: pd.DataFrame) -> dict[str, Any]:
    score = 1.0 / (1.0 + np.exp(-(df["income"].to_numpy() - 50.0) / 10.0))
    return {"prediction": np.where(score > 0.5, "yes", "no"), "score": score}


def build(tmp: Path, *, seed: int = 7) -> tuple[Service, dict[str, Any]]:
    """A collector on a SQLite file in ``tmp`` with the scripted windows closed and the
    default alert rules evaluated on them."""
    rng = np.random.default_rng(seed)
    ref = frame(rng, 5000, shifted=False)
    ref = ref.assign(**outputs(rng, ref))
    ref_path = tmp / "reference.parquet"
    ref.to_parquet(ref_path)
    doc = yaml.safe_load(EXAMPLE)
    doc["store"] = f"sqlite:///{tmp / 'wk.db'}"
    doc["wal_dir"] = str(tmp / "wal")
    doc["api_keys"] = []
    doc["notifiers"] = []
    doc["actions"] = {}
    for rule in doc["rules"]:
        rule.pop("action", None)
    doc["models"] = {
        "credit": {
            "reference": str(ref_path),
            "window": "1m",
            "rollups": [],
            "task": "classification",
            "positive": "yes",
            "drift": {"false_alarm_rate": 0.001, "seed": 1},
        },
        "fresh": {"reference": str(ref_path), "window": "1m"},
    }
    collector = Service(parse_config(doc, base=tmp))
    monitor = collector.monitors["credit"]
    start = (time.time() // 3600 - 2) * 3600  # whole hours: windows align, end in the past
    pending: list[tuple[list[str], Any]] = []
    for w in range(WINDOWS):
        shifted = w >= SHIFT_FROM
        df = frame(rng, ROWS, shifted=shifted)
        out = outputs(rng, df)
        ts = start + w * WINDOW + np.sort(rng.uniform(0, WINDOW - 1, ROWS))
        ids = [f"{w}-{i}" for i in range(ROWS)]
        errors = np.where(rng.random(ROWS) < 0.01, "timeout", None)
        monitor.log(
            df, out, ids=ids, timestamps=ts, latency=rng.gamma(4.0, 0.01, ROWS), error=errors
        )
        monitor.log_metric("server_load", 0.3 + 0.1 * (w % 5) / 5, timestamp=start + w * WINDOW + 1)
        right = rng.random(ROWS) < 0.85
        flipped = np.where(out["prediction"] == "yes", "no", "yes")
        pending.append((ids, np.where(right, out["prediction"], flipped)))
        if len(pending) > 3:  # ground truth arrives three windows late
            monitor.log_labels(*pending.pop(0))
    monitor.flush()
    for ids, truth in pending:
        monitor.log_labels(ids, truth)
    collector.tick()
    info = {
        "start": start,
        "windows": [start + w * WINDOW for w in range(WINDOWS)],
        "shifted": [start + w * WINDOW for w in range(SHIFT_FROM, WINDOWS)],
        "features": ["income", "age", "region", XSS],
    }
    return collector, info
