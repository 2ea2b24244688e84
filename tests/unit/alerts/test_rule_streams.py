"""Every example rule fires on a stream built to break it, and resolves after recovery;
the default rules stay quiet on a stationary stream of 1,000 windows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from watchkeeper.alerts.engine import AlertEngine, AlertEvent
from watchkeeper.alerts.rules import parse_rules
from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.monitor.analysis import POINT_NAMES
from watchkeeper.service.config import EXAMPLE
from watchkeeper.store.sql import SQLStore

W = 60.0
README_RULES = yaml.safe_load(
    (Path(__file__).parents[3] / "README.md").read_text().split("```yaml\n", 1)[1].split("```")[0]
)["rules"]


def _monitor(tmp_path: Path) -> tuple[Monitor, np.random.Generator]:
    rng = np.random.default_rng(11)
    n = 20_000
    ref = {
        "age": rng.normal(40, 10, n),
        "income": rng.lognormal(10, 0.5, n),
        "city": rng.choice(["a", "b", "c"], n),
        "prediction": rng.choice(["no", "yes"], n, p=[0.7, 0.3]),
    }
    store = SQLStore(f"sqlite:///{tmp_path / 'wk.db'}")
    return Monitor(
        "m",
        reference=ref,
        store=store,
        clock=ManualClock(),
        max_future_skew=None,
        grace=0,
        rollups=(),
        outputs=["prediction"],
    ), rng


Breaker = Callable[[dict, np.ndarray, dict], None]


def _window(
    m: Monitor, rng: np.random.Generator, w: int, breaker: Breaker | None, n: int = 400
) -> None:
    feats = {
        "age": rng.normal(40, 10, n),
        "income": rng.lognormal(10, 0.5, n),
        "city": rng.choice(["a", "b", "c"], n),
    }
    preds = rng.choice(["no", "yes"], n, p=[0.7, 0.3]).astype(object)
    extra: dict = {
        "latency": rng.exponential(0.05, n),
        "error": None,
        "truth": None,
        "server_load": 0.5,
        "typing_share": 0.2,
    }
    if breaker is not None:
        breaker(feats, preds, extra)
    if "keep" in extra:  # traffic drops: only the first rows arrive
        n = int(n * extra["keep"])
        feats = {k: v[:n] for k, v in feats.items()}
        preds = preds[:n]
        extra["latency"] = extra["latency"][:n]
    ids = [f"{w}-{i}" for i in range(n)]
    m.log(
        feats,
        preds,
        ids=ids,
        timestamps=w * W + rng.uniform(0, W, n),
        latency=extra["latency"],
        error=extra["error"],
    )
    m.log_metric("server_load", extra["server_load"], timestamp=w * W + 1)
    m.log_metric("typing_share", extra["typing_share"], timestamp=w * W + 1)
    truth = extra["truth"] if extra["truth"] is not None else preds  # a perfect model
    m.log_labels(ids, truth)
    m.tick((w + 1) * W)


def _shift(f: dict, p: np.ndarray, e: dict) -> None:
    f["age"] = f["age"] + 15
    f["income"] = f["income"] * 3


BREAKERS: dict[str, Breaker] = {
    "ServerLoad": lambda f, p, e: e.update(server_load=0.97),
    "HighErrorRate": lambda f, p, e: e.update(
        error=np.where(np.arange(len(p)) % 5 == 0, "timeout", None)
    ),
    "SlowPredictions": lambda f, p, e: e.update(latency=np.full(len(p), 2.0)),
    "FeatureDrifting": lambda f, p, e: f.update(age=f["age"] + 15),
    "DatasetDrift": _shift,
    "EmptyOutputs": lambda f, p, e: p.__setitem__(slice(0, len(p) // 4), ""),
    "FeatureMissing": lambda f, p, e: f["age"].__setitem__(slice(0, len(p) // 3), np.nan),
    "LowAccuracy": lambda f, p, e: e.update(truth=np.where(p == "yes", "no", "yes")),
    "TypingSurge": lambda f, p, e: e.update(typing_share=0.6),
    "TrafficDrop": lambda f, p, e: e.update(keep=0.2),
}


@pytest.mark.parametrize("rule", README_RULES, ids=[r["name"] for r in README_RULES])
def test_each_readme_rule_fires_on_its_breaking_stream_and_resolves(
    rule: dict, tmp_path: Path
) -> None:
    (parsed,) = parse_rules([rule], known_metrics=set(POINT_NAMES))
    m, rng = _monitor(tmp_path)
    events: list[AlertEvent] = []
    engine = AlertEngine([parsed], m.store, notify=events.append)
    start, stop = 62, 72  # break windows 62..71, after an hour of normal traffic
    for w in range(82):
        _window(m, rng, w, BREAKERS[rule["name"]] if start <= w < stop else None)
        engine.evaluate("m", "1", W, now=(w + 1) * W)
    kinds = [(e.kind, round(e.at / W)) for e in events]
    assert [k for k, _ in kinds] == ["firing", "resolved"], kinds
    fired, resolved = kinds[0][1], kinds[1][1]
    # windows are evaluated at their end: window `start` ends at start + 1
    deadline = start + parsed.over + parsed.for_seconds / W + 1
    assert start + 1 <= fired <= deadline, (fired, deadline)
    assert stop + 1 <= resolved <= stop + parsed.over + parsed.resolve_after_seconds / W + 1


@pytest.mark.slow
def test_the_default_rules_stay_quiet_on_a_stationary_stream(tmp_path: Path) -> None:
    rules = parse_rules(yaml.safe_load(EXAMPLE)["rules"], known_metrics=set(POINT_NAMES))
    m, rng = _monitor(tmp_path)
    events: list[AlertEvent] = []
    engine = AlertEngine(rules, m.store, notify=events.append)
    for w in range(1_000):
        _window(m, rng, w, None, n=200)
        engine.evaluate("m", "1", W, now=(w + 1) * W)
    assert events == [], [(e.rule.name, dict(e.labels), e.at / W) for e in events]
    single = m.metrics("feature_drifted")["value"].sum()
    print(f"single-window drift verdicts over 1,000 windows x 3 features: {single:.0f}")
