"""The Grafana dashboard's structure, the export command, and the files in deploy/.

Whether each query parses and returns data is checked against a real Prometheus in
tests/integration/test_grafana_queries.py.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from conftest import missing_component
from typer.testing import CliRunner

from watchkeeper.cli import app
from watchkeeper.exporters.grafana import FAMILIES, grafana_dashboard, panel_queries
from watchkeeper.exporters.prometheus import COUNTERS, EXPORTED, SUMMARIES

DEPLOY = Path(__file__).parents[3] / "deploy"
runner = CliRunner()


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def _variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard["templating"]["list"]}


def test_template_variables_pick_the_datasource_then_model_and_version() -> None:
    variables = _variables(grafana_dashboard())
    assert list(variables) == ["datasource", "model", "version", "feature", "job"]
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    model, version = variables["model"], variables["version"]
    assert model["type"] == version["type"] == "query"
    assert model["definition"] == "label_values(watchkeeper_predictions_total, model)"
    assert version["definition"] == (
        'label_values(watchkeeper_predictions_total{model=~"$model"}, version)'
    )
    for variable in list(variables.values())[1:]:
        assert variable["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert variable["query"]["query"] == variable["definition"]
        assert variable["includeAll"] and variable["allValue"] == ".*"


def test_models_restrict_the_model_variable() -> None:
    assert _variables(grafana_dashboard())["model"]["regex"] == ""
    restricted = _variables(grafana_dashboard(models=["churn", "fraud-v2"]))["model"]
    assert restricted["regex"] == r"/^(?:churn|fraud\-v2)$/"


def test_every_panel_and_query_uses_the_datasource_variable() -> None:
    for panel in _panels(grafana_dashboard()):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"]


def test_panel_ids_are_unique_and_titles_too() -> None:
    dashboard = grafana_dashboard()
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    titles = [p["title"] for p in _panels(dashboard)]
    assert len(titles) == len(set(titles))


def test_panels_fit_the_grid_and_do_not_overlap() -> None:
    boxes = [p["gridPos"] for p in grafana_dashboard()["panels"]]
    for box in boxes:
        assert box["x"] >= 0 and box["x"] + box["w"] <= 24
    for a, b in itertools.combinations(boxes, 2):
        apart = (
            a["x"] + a["w"] <= b["x"]
            or b["x"] + b["w"] <= a["x"]
            or a["y"] + a["h"] <= b["y"]
            or b["y"] + b["h"] <= a["y"]
        )
        assert apart, (a, b)


def test_rows_group_the_panels_by_family() -> None:
    dashboard = grafana_dashboard()
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert rows == [title for title, _ in FAMILIES]
    families = [title.split(":")[0].split(" (")[0].lower() for title in rows]
    assert families == ["software", "software", "inputs", "outputs", "performance", "alerts"]
    order = [p["title"] for p in dashboard["panels"]]
    for title, panels in FAMILIES:
        start = order.index(title) + 1
        assert order[start : start + len(panels)] == [p.title for p in panels]


def test_watchkeeper_queries_are_filtered_by_model_and_version() -> None:
    selector = re.compile(r"\b(watchkeeper_\w+|ALERTS)(\{[^}]*\})?")
    for title, expr in panel_queries(grafana_dashboard()):
        for match in selector.finditer(expr):
            matchers = match[2] or ""
            assert 'model=~"$model"' in matchers and 'version=~"$version"' in matchers, (
                title,
                expr,
            )


def test_middleware_queries_are_filtered_by_job() -> None:
    for title, expr in panel_queries(grafana_dashboard()):
        for match in re.finditer(r"\bhttp_\w+(\{[^}]*\})?", expr):
            assert 'job=~"$job"' in (match[1] or ""), (title, expr)


def test_every_watchkeeper_metric_queried_is_exposed() -> None:
    exposed = {prom for prom, _help, _labels in EXPORTED.values()}
    exposed |= set(SUMMARIES)
    exposed |= {f"{prom}_total" for prom, _help in COUNTERS.values()}
    exposed.add("watchkeeper_window_start_timestamp_seconds")
    queried = {
        name
        for _title, expr in panel_queries(grafana_dashboard())
        for name in re.findall(r"\bwatchkeeper_\w+", expr)
    }
    assert queried <= exposed, queried - exposed


def test_families_cover_the_signals_of_the_built_in_dashboard() -> None:
    queried = " ".join(expr for _title, expr in panel_queries(grafana_dashboard()))
    for name in (
        "watchkeeper_latency_seconds",
        "watchkeeper_throughput_per_second",
        "watchkeeper_error_ratio",
        "http_requests_in_flight",  # saturation
        "watchkeeper_output_value",
        "watchkeeper_output_empty_ratio",
        "watchkeeper_feature_drift_score",
        "watchkeeper_feature_drifted",
        "watchkeeper_dataset_drift_share",
        "watchkeeper_feature_missing_ratio",
        "watchkeeper_performance",
        "watchkeeper_label_coverage_ratio",
        "watchkeeper_estimated_performance",
        "ALERTS",
    ):
        assert name in queried


def test_panel_queries_reads_collapsed_rows_too() -> None:
    dashboard = grafana_dashboard()
    flat = panel_queries(dashboard)
    panels = dashboard["panels"]
    second_row = next(i for i, p in enumerate(panels) if i and p["type"] == "row")
    panels[0]["collapsed"] = True  # Grafana then keeps the row's panels inside it
    panels[0]["panels"] = panels[1:second_row]
    dashboard["panels"] = [panels[0], *panels[second_row:]]
    assert sorted(panel_queries(dashboard)) == sorted(flat)


def test_cli_writes_the_same_json_as_the_function(tmp_path: Path) -> None:
    expected = grafana_dashboard(title="ML models", models=["churn"])
    result = runner.invoke(
        app, ["export", "grafana-dashboard", "--title", "ML models", "--model", "churn"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected
    out = tmp_path / "dash.json"
    result = runner.invoke(app, ["export", "grafana-dashboard", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote the dashboard to {out}" in result.stdout
    assert json.loads(out.read_text()) == grafana_dashboard()
    assert [p.name for p in tmp_path.iterdir()] == ["dash.json"]


def test_committed_dashboard_equals_a_fresh_export() -> None:
    result = runner.invoke(app, ["export", "grafana-dashboard"])
    assert result.exit_code == 0, result.output
    committed = (DEPLOY / "grafana" / "dashboards" / "watchkeeper.json").read_text()
    assert committed == result.stdout, (
        "deploy/grafana/dashboards/watchkeeper.json is stale; regenerate it with: "
        "watchkeeper export grafana-dashboard --output deploy/grafana/dashboards/watchkeeper.json"
    )


def test_committed_rules_equal_a_fresh_export() -> None:
    config = DEPLOY / "watchkeeper" / "watchkeeper.yaml"
    result = runner.invoke(app, ["export", "prometheus-rules", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (DEPLOY / "prometheus" / "rules.yml").read_text() == result.stdout, (
        "deploy/prometheus/rules.yml is stale; regenerate it with: watchkeeper export "
        "prometheus-rules --config deploy/watchkeeper/watchkeeper.yaml "
        "--output deploy/prometheus/rules.yml"
    )


def test_promtool_accepts_the_prometheus_config_and_its_rules(promtool: str) -> None:
    done = subprocess.run(
        [promtool, "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 1 rule files found" in done.stdout


def test_amtool_accepts_the_alertmanager_config() -> None:
    amtool = shutil.which("amtool")
    if amtool is None:
        missing_component("amtool (Debian package prometheus-alertmanager)")
    assert amtool is not None
    done = subprocess.run(
        [amtool, "check-config", str(DEPLOY / "alertmanager" / "alertmanager.yml")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_file_runs_the_four_services_from_files_that_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"watchkeeper", "prometheus", "alertmanager", "grafana"}
    assert services["grafana"]["image"].startswith("grafana/grafana-oss:")
    build = services["watchkeeper"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    mounts: dict[str, str] = {}
    for service in services.values():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), volume
                mounts[target] = source
    # what the mounted configs point at inside the containers
    provider = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/watchkeeper.yaml").read_text()
    )
    dashboards = provider["providers"][0]["options"]["path"]
    assert (DEPLOY / mounts[dashboards] / "watchkeeper.json").is_file()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert '"--config", "/etc/watchkeeper/watchkeeper.yaml"' in dockerfile
    assert (DEPLOY / mounts["/etc/watchkeeper"] / "watchkeeper.yaml").is_file()
    prometheus = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == ["watchkeeper:8000"]
