"""The catalogue of metric points (watchkeeper.metrics) against everything that uses the
names: the analysis of real windows, the Prometheus exposition and the dashboard's
JavaScript, so a name written, exported or plotted but not catalogued fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

import watchkeeper
from watchkeeper.errors import ConfigError
from watchkeeper.exporters.prometheus import COUNTERS, WINDOW_START, MonitorCollector
from watchkeeper.metrics import (
    FAMILIES,
    METRICS,
    POINT_NAMES,
    SATURATION,
    MetricSpec,
    family_of,
    metric,
)
from watchkeeper.monitor import Monitor
from watchkeeper.monitor.clock import ManualClock
from watchkeeper.store import MetricPoint

W = 60.0
NOT_PRODUCED: dict[str, str] = {}
"""Catalogued names the scenarios below do not write, each with the reason (none today:
the two scenarios write every name)."""
NOT_METRIC_STRINGS = {
    "plotly_click": "a Plotly event name",
    "window_seconds": "a field of GET /v1/models",
    "last_closed_window": "a field of GET /v1/models",
}
"""Snake-case strings of the dashboard's JavaScript that are not metric point names."""


def _classifier(rng: np.random.Generator) -> Monitor:
    """A binary classifier with a score, one window of every software, input, output and
    custom signal (drift, multivariate drift and its root causes, missing values, a type
    error, values out of range, a new category, empty texts, errors, latency, tags,
    metrics and events), labels joined after the window closed."""
    n_ref = 4_000
    score = rng.beta(2, 5, n_ref)
    texts = np.array([f"the service was {w} today, thank you" for w in ("fine", "slow", "")])
    reference = {
        "age": rng.normal(40, 10, n_ref),
        "city": rng.choice(["paris", "rome", "oslo"], n_ref),
        "comment": rng.choice(texts[:2], n_ref),
        "prediction": np.where(score > 0.5, "churn", "stay"),
        "score": score,
    }
    monitor = Monitor("clf", reference=reference, store="memory://", clock=ManualClock(),
                      grace=0, rollups=(), positive="churn", segments=["city"],
                      multivariate={"n_permutations": 9, "max_iter": 10})  # fmt: skip
    # labelled reference rows for the performance estimate (own generator: the stream
    # below is the same as without it)
    truth = np.where(np.random.default_rng(1).random(n_ref) < reference["score"], "churn", "stay")
    monitor.fit_estimator(reference, truth)
    n = 400
    age = rng.normal(55, 10, n).astype(object)  # drifted
    age[:20] = None  # missing
    age[20:30] = 500.0  # outside the reference's range
    score = rng.beta(2, 5, n)
    ids = [f"c{i}" for i in range(n)]
    monitor.log(
        {
            "age": age,
            "city": rng.choice(["paris", "rome", "oslo", "lima"], n),  # lima is new
            "comment": np.where(rng.random(n) < 0.1, "", rng.choice(texts, n)),  # empty texts
        },
        {"prediction": np.where(score > 0.5, "churn", "stay"), "score": score},
        ids=ids,
        timestamps=rng.uniform(0, W, n),
        latency=rng.uniform(0.005, 0.05, n),
        error=["timeout" if r < 0.05 else None for r in rng.random(n)],
        tags={"route": "/predict"},
    )
    monitor.log({"age": "not a number", "city": "rome", "comment": texts[0]}, timestamps=5.0)
    monitor.log_metric("server_load", 0.7, timestamp=10.0)
    monitor.log_metric("server_load", 0.9, {"host": "a"}, timestamp=11.0)
    monitor.log_event("switched_to_typing", timestamp=12.0)
    for name in SATURATION:  # a service instance's saturation samples
        monitor.log_metric(name, 0.5, {"instance_id": "web-1"}, timestamp=13.0)
    monitor.flush()
    monitor.log_labels(ids, rng.choice(["churn", "stay"], n))
    return monitor


def _regressor(rng: np.random.Generator) -> Monitor:
    """A regression model with its labels: the regression metrics (per segment too)."""
    n_ref = 2_000
    reference = {"rooms": rng.normal(3, 1, n_ref), "region": rng.choice(["n", "s"], n_ref),
                 "prediction": rng.normal(300, 50, n_ref)}  # fmt: skip
    monitor = Monitor("reg", reference=reference, store="memory://", clock=ManualClock(),
                      grace=0, rollups=(), task="regression", segments=["region"])  # fmt: skip
    noise = np.random.default_rng(2).normal(0, 10, n_ref)  # the estimator's labelled rows
    monitor.fit_estimator(reference, reference["prediction"] + noise)
    n = 200
    predictions = rng.normal(300, 50, n)
    ids = [f"r{i}" for i in range(n)]
    monitor.log({"rooms": rng.normal(3, 1, n), "region": rng.choice(["n", "s"], n)},
                {"prediction": predictions}, ids=ids, timestamps=rng.uniform(0, W, n))  # fmt: skip
    monitor.flush()
    monitor.log_labels(ids, predictions + rng.normal(0, 10, n))
    return monitor


def _embedder(rng: np.random.Generator) -> Monitor:
    """A model with an embedding column: the per-window embedding drift."""
    monitor = Monitor("emb", schema={"emb": {"kind": "embedding"}}, store="memory://",
                      reference={"emb": rng.normal(size=(300, 8))}, clock=ManualClock(),
                      grace=0, rollups=())  # fmt: skip
    monitor.log({"emb": rng.normal(size=(100, 8)) + 1.0}, timestamps=rng.uniform(0, W, 100))
    monitor.flush()
    return monitor


@pytest.fixture(scope="module")
def monitors() -> Iterator[dict[str, Monitor]]:
    rng = np.random.default_rng(7)
    built = {m.model: m for m in (_classifier(rng), _regressor(rng), _embedder(rng))}
    yield built
    for monitor in built.values():
        monitor.close()


@pytest.fixture(scope="module")
def written(monitors: dict[str, Monitor]) -> list[MetricPoint]:
    return [p for m in monitors.values() for p in m.store.query_points(m.model)]


def test_analysis_writes_only_catalogued_names_with_their_labels(
    written: list[MetricPoint],
) -> None:
    assert written
    for point in written:
        spec = metric(point.name)  # raises for a name not in the catalogue
        keys = set(point.labels)
        if spec.tagged:  # the user's tags come on top of the declared labels
            assert set(spec.labels) <= keys, point
        else:
            assert keys == set(spec.labels), point


def test_every_catalogued_name_is_written_by_a_scenario_or_excused(
    written: list[MetricPoint],
) -> None:
    missing = POINT_NAMES - {p.name for p in written}
    assert missing == set(NOT_PRODUCED), missing ^ set(NOT_PRODUCED)


def test_prometheus_names_are_unique_per_series_and_prefixed() -> None:
    exported = [spec for spec in METRICS if spec.prometheus is not None]
    series = [(spec.prometheus, spec.prometheus_metric) for spec in exported]
    assert len(series) == len(set(series))
    for spec in exported:
        assert spec.prometheus is not None
        assert re.fullmatch(r"watchkeeper_[a-z0-9_]+", spec.prometheus), spec
        assert not spec.prometheus.endswith("_total"), spec  # gauges and summaries
    shared: dict[str, MetricSpec] = {}
    for spec in exported:  # points sharing a name are one family: same help and labels
        assert spec.prometheus is not None
        first = shared.setdefault(spec.prometheus, spec)
        assert (first.help, first.prometheus_labels) == (spec.help, spec.prometheus_labels)
        assert (first.prometheus_metric is None) == (spec.prometheus_metric is None)


def test_counters_are_prefixed_and_exposed_with_total(monitors: dict[str, Monitor]) -> None:
    families = _exposition(monitors)
    for prom, _help in COUNTERS.values():
        assert prom.startswith("watchkeeper_")
        assert families[prom].type == "counter"
        assert {s.name for s in families[prom].samples} == {f"{prom}_total"}
    for family in families.values():
        if family.type != "counter":
            assert not any(s.name.endswith("_total") for s in family.samples), family.name


def _exposition(monitors: dict[str, Monitor]) -> dict[str, Metric]:
    registry = CollectorRegistry()
    registry.register(MonitorCollector(monitors))
    text = generate_latest(registry).decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_the_exporter_exposes_exactly_the_catalogues_prometheus_names(
    monitors: dict[str, Monitor],
) -> None:
    families = _exposition(monitors)
    not_points = {WINDOW_START} | {prom for prom, _help in COUNTERS.values()}
    exposed = {
        sample.name
        for name, family in families.items()
        if name not in not_points
        for sample in family.samples
    }
    catalogued = {spec.prometheus for spec in METRICS if spec.prometheus is not None}
    assert exposed == catalogued, exposed ^ catalogued
    for spec in METRICS:
        if spec.prometheus is None or spec.prometheus not in families:
            continue  # a summary's count and sum points: samples of its family
        family = families[spec.prometheus]
        assert family.documentation == spec.help
        for sample in family.samples:
            if sample.name == spec.prometheus:
                assert set(sample.labels) == {"model", "version", *spec.prometheus_labels}
                if spec.prometheus_metric is not None:
                    assert sample.labels["metric"] in {
                        s.prometheus_metric for s in METRICS if s.prometheus == spec.prometheus
                    }


def test_metric_looks_up_a_name_and_names_the_known_ones_when_it_is_unknown() -> None:
    assert metric("error_rate").prometheus == "watchkeeper_error_ratio"
    with pytest.raises(ConfigError, match="unknown metric point 'latency'") as info:
        metric("latency")
    assert "latency_seconds" in str(info.value)
    assert info.value.field == "metric"


def test_every_family_has_points_and_family_of_reads_the_catalogue() -> None:
    assert {family_of(name) for name in POINT_NAMES} == set(FAMILIES)
    for spec in METRICS:
        assert family_of(spec.name) == spec.family
    assert family_of("estimated_mae") == "performance"  # any estimated_* name
    assert family_of("not_catalogued") == "inputs"


def test_a_spec_with_an_unknown_family_or_unit_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"x\.family: expected one of: software"):
        MetricSpec("x", "business", (), "count", None, "?")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"x\.unit"):
        MetricSpec("x", "inputs", (), "furlongs", None, "?")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"x\.prometheus_metric"):
        MetricSpec("x", "inputs", (), "count", None, "?", prometheus_metric="x")


# -- the dashboard's JavaScript ---------------------------------------------------------

_QUOTED = re.compile(r"""["']([A-Za-z0-9_]+)["']""")


def _dashboard_scripts() -> list[Path]:
    """The static scripts of the package, wherever the assets live (``dashboard/static``
    or ``assets/static``)."""
    return sorted(Path(watchkeeper.__file__).parent.glob("**/static/*.js"))


def _names_in_script(source: str) -> set[str]:
    """Metric point names a script asks for or picks out of a series."""
    names = {
        token
        for token in _QUOTED.findall(source)
        if re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+", token) and token not in NOT_METRIC_STRINGS
    }
    names |= set(re.findall(r"""\bpick\(\w+(?:\.\w+)*, ["'](\w+)["']""", source))
    for array in re.findall(r"\bname: \[([^\]]*)\]", source):
        # a quoted "_suffix" is appended to a prefix, read below
        names |= {token for token in _QUOTED.findall(array) if not token.startswith("_")}
        for spread in re.findall(r"\.\.\.([A-Z_]+)", array):
            declared = re.search(rf"\bconst {spread} = \[([^\]]*)\]", source)
            assert declared is not None, spread
            names |= set(_QUOTED.findall(declared[1]))
    # names built from a prefix: prefix + "_threshold"
    prefixes = {p for line in re.findall(r"const prefix = [^;]*;", source)
                for p in _QUOTED.findall(line)}  # fmt: skip
    for suffix in re.findall(r"""\bprefix \+ ["'](_\w+)["']""", source):
        names |= {prefix + suffix for prefix in prefixes}
    return names


def test_every_metric_name_in_the_dashboard_scripts_is_catalogued() -> None:
    scripts = _dashboard_scripts()
    assert any(p.name == "dashboard.js" for p in scripts), scripts
    found = {name: path.name for path in scripts for name in _names_in_script(path.read_text())}
    # the parser still reads the script's shape: names of each kind of use are found
    assert {"latency_seconds", "accuracy", "estimated_f1", "feature_drift_p_value"} <= set(found)
    unknown = {name: where for name, where in found.items() if name not in POINT_NAMES}
    assert not unknown, f"names not in watchkeeper.metrics: {unknown}"
