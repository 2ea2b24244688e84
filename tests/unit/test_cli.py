"""The command line: drift, report and check on two files, and one-line errors with exit
code 2."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from watchkeeper.cli import app

runner = CliRunner()


def _write(tmp_path: Path, name: str, shift: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"age": rng.normal(40 + shift, 10, 5_000), "city": rng.choice(["Oslo", "Rome"], 5_000)}
    )
    path = tmp_path / name
    frame.to_parquet(path)
    return path


def test_drift_command_prints_each_column_verdict(tmp_path: Path) -> None:
    ref = _write(tmp_path, "ref.parquet", 0.0, 1)
    cur = _write(tmp_path, "cur.parquet", 5.0, 2)
    result = runner.invoke(app, ["drift", str(ref), str(cur)])
    assert result.exit_code == 0, result.output
    assert "1 of 2 columns drifted" in result.output
    assert re.search(r"age .*ks_binned.*yes", result.output)


def test_bad_file_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "data.xlsx"
    bad.write_text("x")
    result = runner.invoke(app, ["drift", str(bad), str(bad)])
    assert result.exit_code == 2
    assert "unsupported suffix '.xlsx'" in result.output


def test_drift_is_the_reports_comparison_as_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchkeeper.report.files as files

    compared: list[Any] = []
    compare_files = files.compare_files

    def spy(*args: Any, **kwargs: Any) -> Any:
        compared.append(compare_files(*args, **kwargs))
        return compared[-1]

    monkeypatch.setattr(files, "compare_files", spy)
    ref = _write(tmp_path, "ref.parquet", 0.0, 1)
    cur = _write(tmp_path, "cur.parquet", 5.0, 2)
    args = [str(ref), str(cur), "--false-alarm-rate", "0.05", "--column-method", "city=psi"]
    result = runner.invoke(app, ["drift", *args])
    assert result.exit_code == 0, result.output
    [report] = compared  # the report's comparison, once
    assert result.output.strip().startswith(report.drift.explanation)
    assert [v.method for v in report.drift.columns] == ["ks_binned", "psi"]
    for v in report.drift.columns:  # its statistic and threshold, row by row
        row = f"{v.column} .*{v.method} .*{v.statistic:.4g} .*{v.threshold:.4g}"
        assert re.search(row, result.output), (row, result.output)


def _garbage_csv(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 20)
    return path


def _empty_parquet(tmp_path: Path) -> Path:
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    return path


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "missing.parquet"


def _empty_csv(tmp_path: Path) -> Path:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    return path


def _garbage_parquet(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.parquet"
    path.write_bytes(bytes(range(256)) * 4)
    return path


def _directory(tmp_path: Path) -> Path:
    path = tmp_path / "x.parquet"
    path.mkdir()
    return path


def _header_only_csv(tmp_path: Path) -> Path:
    path = tmp_path / "header.csv"
    path.write_text("age,city\n")
    return path


def _no_rows_parquet(tmp_path: Path) -> Path:
    path = tmp_path / "no-rows.parquet"
    pd.DataFrame({"age": pd.Series([], dtype=float), "city": pd.Series([], dtype=str)}).to_parquet(
        path
    )
    return path


BAD_FILES = [
    _garbage_csv,
    _empty_parquet,
    _missing,
    _empty_csv,
    _garbage_parquet,
    _directory,
    _header_only_csv,
    _no_rows_parquet,
]


@pytest.mark.parametrize("command", ["drift", "report", "check"])
@pytest.mark.parametrize("bad_file", BAD_FILES)
@pytest.mark.parametrize("side", ["reference", "current"])
def test_a_bad_file_is_one_line_naming_it_and_exit_code_2(
    tmp_path: Path, command: str, bad_file: Any, side: str
) -> None:
    good = _write(tmp_path, "good.parquet", 0.0, 1)
    bad = bad_file(tmp_path)
    files = [str(bad), str(good)] if side == "reference" else [str(good), str(bad)]
    out = ["-o", str(tmp_path / "r.html")] if command == "report" else []
    result = runner.invoke(app, [command, *files, *out])
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0, result.output
    # report and check read a directory as a dataset (issue 18): an empty one is named
    # as such; drift compares two files only
    what = "dataset" if bad_file is _directory and command != "drift" else "file"
    assert result.output.startswith(f"error: {what} {str(bad)!r}: "), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("bad_file", "problem"),
    [
        (_directory, "is a directory; expected a data file"),
        (_header_only_csv, "0 rows; expected at least one row to compare"),
        (_no_rows_parquet, "0 rows; expected at least one row to compare"),
        (_garbage_parquet, "not a readable parquet file"),
        (_empty_csv, "not a readable csv file"),
    ],
)
def test_each_bad_current_file_says_what_is_wrong_with_it(
    tmp_path: Path, bad_file: Any, problem: str
) -> None:
    good = _write(tmp_path, "good.parquet", 0.0, 1)
    bad = bad_file(tmp_path)
    for command in ("drift", "check"):
        result = runner.invoke(app, [command, str(good), str(bad)])
        assert result.exit_code == 2, result.output
        if bad_file is _directory and command == "check":  # a dataset with no data file
            problem = "no data file found; expected a file, a directory of"
            assert result.output.startswith(f"error: dataset {str(bad)!r}: {problem}")
            continue
        assert result.output.startswith(f"error: file {str(bad)!r}: {problem}"), result.output


def test_column_mismatches_are_reported_not_hidden(tmp_path: Path) -> None:
    ref = _write(tmp_path, "ref.parquet", 0.0, 1)
    rng = np.random.default_rng(3)
    cur = tmp_path / "cur.parquet"
    pd.DataFrame({"age": rng.normal(40, 10, 1_000), "income": rng.normal(0, 1, 1_000)}).to_parquet(
        cur
    )
    absent = "columns of the reference missing from cur.parquet (not compared): city"
    extra = "columns of cur.parquet missing from the reference (not compared): income"
    html = str(tmp_path / "r.html")
    for args in (["drift"], ["report", "-o", html], ["check", "--allow-absent"]):
        result = runner.invoke(app, [*args, str(ref), str(cur)])
        assert result.exit_code == 0, result.output
        assert absent in result.output and extra in result.output, (args, result.output)


def test_the_report_title_names_reference_then_current(tmp_path: Path) -> None:
    june = _write(tmp_path, "june.parquet", 0.0, 1)
    july = _write(tmp_path, "july.parquet", 0.0, 2)
    html = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(june), str(july), "-o", str(html)])
    assert result.exit_code == 0, result.output
    title = re.search(r"<title>(.*?)</title>", html.read_text(), re.S)
    assert title is not None
    assert title.group(1).startswith("june.parquet (reference) vs july.parquet (current)")


def test_report_files_follow_the_umask(tmp_path: Path) -> None:
    import os

    ref = _write(tmp_path, "ref.parquet", 0.0, 1)
    html, doc = tmp_path / "r.html", tmp_path / "r.json"
    for mask in (0o022, 0o077):
        old = os.umask(mask)
        try:
            result = runner.invoke(
                app, ["report", str(ref), str(ref), "-o", str(html), "--json", str(doc)]
            )
        finally:
            os.umask(old)
        assert result.exit_code == 0, result.output
        for path in (html, doc):
            assert path.stat().st_mode & 0o777 == 0o666 & ~mask, (path, oct(path.stat().st_mode))


def test_json_dash_prints_the_report_on_stdout_and_the_rest_on_stderr(tmp_path: Path) -> None:
    ref = _write(tmp_path, "ref.parquet", 0.0, 1)
    cur = _write(tmp_path, "cur.parquet", 5.0, 2)
    split = CliRunner()
    html = tmp_path / "r.html"
    result = split.invoke(app, ["report", str(ref), str(cur), "-o", str(html), "--json", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["drift"]["drifted_columns"] == ["age"]
    assert "report written to" in result.stderr and not (tmp_path / "-").exists()
    checked = split.invoke(app, ["check", str(ref), str(cur), "--json", "-"])
    assert checked.exit_code == 1
    assert json.loads(checked.stdout)["check"]["passed"] is False
    assert checked.stderr.splitlines()[0].startswith("FAIL dataset_drift")


def test_a_bare_json_option_prints_to_stdout(tmp_path: Path) -> None:
    import subprocess
    import sys

    ref = _write(tmp_path, "ref.parquet", 0.0, 1)
    html = tmp_path / "r.html"
    cmd = [sys.executable, "-m", "watchkeeper.cli", "report", str(ref), str(ref)]
    done = subprocess.run(
        [*cmd, "--json", "-o", str(html)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reference"]["name"] == "ref.parquet"
    assert html.exists()


def test_check_help_shows_whole_option_names_and_the_exit_codes() -> None:
    result = runner.invoke(app, ["check", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for name in ("--max-missing-increase", "--max-new-categories", "--allow-absent"):
        assert name in result.output, result.output
    assert "…" not in result.output
    assert "2 bad input" in text and "1 it failed" in text and "0 the check passed" in text
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_a_reference_without_rows_names_the_file(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.parquet", 0.0, 1)
    header_only = tmp_path / "header.csv"
    header_only.write_text("age,city\n")
    result = runner.invoke(app, ["drift", str(header_only), str(good)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: file {str(header_only)!r}: "), result.output


def test_readme_python_examples_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = [part.split("```", 1)[0] for part in readme.split("```python\n")[1:]]
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)  # the monitor example keeps its store in ./watchkeeper.db
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "watchkeeper.db").exists()


def test_init_writes_a_config_that_serve_accepts(tmp_path: Path) -> None:
    from watchkeeper.service.config import load_config

    path = tmp_path / "watchkeeper.yaml"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0, result.output
    cfg = load_config(path)
    assert list(cfg.models) == ["churn"] and cfg.models["churn"].schema is not None
    again = runner.invoke(app, ["init", str(path)])
    assert again.exit_code == 2 and "exists" in again.output


def test_serve_with_a_bad_config_names_the_key_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("models:\n  churn:\n    window: soon\n    colour: blue\n")
    result = runner.invoke(app, ["serve", "--config", str(path)])
    assert result.exit_code == 2
    assert "models.churn.colour" in result.output


def test_serve_names_a_bad_model_option_by_its_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("store: memory://\nwal_dir: wal\nmodels:\n  churn:\n    window: soon\n")
    result = runner.invoke(app, ["serve", "--config", str(path)])
    assert result.exit_code == 2
    assert "models.churn.window" in result.output and "'soon'" in result.output


def test_serve_accepts_drift_settings_and_names_bad_ones(tmp_path: Path) -> None:
    from watchkeeper.service import Service
    from watchkeeper.service.config import load_config

    good = tmp_path / "good.yaml"
    good.write_text(
        "store: memory://\nwal_dir: wal\nmodels:\n  churn:\n"
        "    schema: {age: numeric}\n    drift: {false_alarm_rate: 0.001, method: psi}\n"
    )
    collector = Service(load_config(good))
    assert collector.monitors["churn"].drift_config.false_alarm_rate == 0.001
    collector.close()
    bad = tmp_path / "bad.yaml"
    bad.write_text("store: memory://\nwal_dir: wal\nmodels:\n  churn:\n    drift: {alpha: 1}\n")
    result = runner.invoke(app, ["serve", "--config", str(bad)])
    assert result.exit_code == 2 and "models.churn.drift.alpha" in result.output


def test_readme_alert_rules_load_as_written() -> None:
    import yaml

    from watchkeeper.alerts.notifiers import build_notifier
    from watchkeeper.alerts.rules import parse_rules
    from watchkeeper.monitor.analysis import POINT_NAMES

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    doc = yaml.safe_load(readme.split("```yaml\n", 1)[1].split("```", 1)[0])
    rules = parse_rules(doc["rules"], known_metrics=set(POINT_NAMES))
    assert len(rules) == 10
    for i, spec in enumerate(doc["notifiers"]):
        build_notifier(spec, f"notifiers[{i}]")


@pytest.mark.integration
def test_exported_prometheus_rules_pass_promtool(tmp_path: Path, promtool: str) -> None:
    import subprocess

    import yaml

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    rules = yaml.safe_load(readme.split("```yaml\n", 1)[1].split("```", 1)[0])["rules"]
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(yaml.safe_dump({"models": {"churn": {}}, "rules": rules}))
    out = tmp_path / "rules.yml"
    result = runner.invoke(
        app,
        [
            "export",
            "prometheus-rules",
            "--config",
            str(config),
            "--output",
            str(out),
            "--window",
            "1m",
        ],
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "not expressible" not in text  # custom metrics are exported (untagged series)
    doc = yaml.safe_load(text)
    exprs = {r["alert"]: r["expr"] for r in doc["groups"][0]["rules"]}
    assert (
        exprs["ServerLoad"] == 'watchkeeper_custom_metric{metric="server_load", stat="max"} > 0.91'
    )
    assert exprs["TypingSurge"].startswith(
        'watchkeeper_custom_metric{metric="typing_share", stat="mean"} > '
    )
    assert exprs["FeatureDrifting"] == (
        'min_over_time(watchkeeper_feature_drifted{feature!=""}[120s]) >= 1'
    )
    assert exprs["LowAccuracy"] == (
        "(watchkeeper_accuracy_degraded >= 1) and on(model, version) "
        "(watchkeeper_label_coverage_ratio > 0.3)"
    )
    check = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 10 rules found" in check.stdout


def test_report_command_writes_html_and_json(tmp_path: Path) -> None:
    ref = _write(tmp_path, "ref.parquet", 0.0, 1)
    cur = _write(tmp_path, "cur.parquet", 5.0, 2)
    html, doc = tmp_path / "out" / "report.html", tmp_path / "report.json"
    html.parent.mkdir()
    result = runner.invoke(app, ["report", str(ref), str(cur), "-o", str(html), "--json", str(doc)])
    assert result.exit_code == 0, result.output
    assert re.search(r"age .*ks_binned.*yes", result.output)
    data = json.loads(doc.read_text())
    assert data["drift"]["drifted_columns"] == ["age"]
    assert data["reference"] == {"name": "ref.parquet", "rows": 5_000}
    page = html.read_text()
    assert "Did the data change?" in page and "cur.parquet" in page
    assert [p.name for p in html.parent.iterdir()] == ["report.html"]  # no temporary left


def test_check_command_exit_codes(tmp_path: Path) -> None:
    ref = _write(tmp_path, "ref.parquet", 0.0, 1)
    same = _write(tmp_path, "same.parquet", 0.0, 2)
    moved = _write(tmp_path, "moved.parquet", 5.0, 3)

    passed = runner.invoke(app, ["check", str(ref), str(same)])
    assert passed.exit_code == 0, passed.output
    assert passed.output.strip().splitlines()[-1].startswith("check passed")

    failed = runner.invoke(app, ["check", str(ref), str(moved), "--column", "age"])
    assert failed.exit_code == 1, failed.output
    lines = failed.output.strip().splitlines()
    assert lines[0].startswith("FAIL dataset_drift: dataset drift: 1 of 2 columns drifted")
    assert lines[1].startswith("FAIL columns: age: drift: ")
    assert lines[-1].startswith("check failed: 2 condition(s) not met")

    # dataset drift alone does not fail once switched off; the critical column still does
    relaxed = runner.invoke(app, ["check", str(ref), str(moved), "--no-dataset-drift"])
    assert relaxed.exit_code == 0, relaxed.output

    out = tmp_path / "check.json"
    runner.invoke(app, ["check", str(ref), str(moved), "--json", str(out)])
    check = json.loads(out.read_text())["check"]
    assert check["passed"] is False and check["failures"][0]["condition"] == "dataset_drift"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{ref}", "{missing}"], "error: file '{missing}': not found"),
        (["{ref}", "{ref}", "--column-method", "age"], "--column-method: expected COLUMN=METHOD"),
        (["{ref}", "{ref}", "--method", "kl"], "unknown drift method 'kl'; expected one of: chi2"),
        (["{ref}", "{ref}", "--max-missing", "3"], "max_missing_ratio: expected a share in"),
        (["{ref}", "{ref}", "--column", "nope"], "unknown column 'nope'; expected one of: age"),
    ],
)
def test_check_bad_input_is_one_line_and_exit_code_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    ref = _write(tmp_path, "ref.parquet", 0.0, 1)
    names = {"ref": str(ref), "missing": str(tmp_path / "nope.parquet")}
    result = runner.invoke(app, ["check", *(a.format(**names) for a in args)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0, result.output
    assert message.format(**names) in result.output


@pytest.mark.parametrize("flag", ["-o", "--output"])
def test_export_grafana_dashboard_writes_the_file_named_by_o_or_output(
    tmp_path: Path, flag: str
) -> None:
    out = tmp_path / "watchkeeper.json"
    result = runner.invoke(app, ["export", "grafana-dashboard", flag, str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["title"] == "watchkeeper"
    assert f"wrote the dashboard to {out}" in result.output


def test_silence_prints_its_end_as_a_utc_time_and_its_matchers(tmp_path: Path) -> None:
    import socket
    import threading
    import time as clock

    import uvicorn

    from watchkeeper.server.app import create_app
    from watchkeeper.service.config import parse_config

    cfg = parse_config(
        {"store": "sqlite:///wk.db", "wal_dir": "wal", "fsync": False, "models": {"m": {}}},
        base=tmp_path,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = clock.monotonic() + 30
        while not server.started and clock.monotonic() < deadline:
            clock.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        args = ["silence", "--match", "rule=FeatureDrifting", "--match", "feature=age"]
        result = runner.invoke(app, [*args, "--for", "2h", "--url", url])
    finally:
        server.should_exit = True
        thread.join(30)
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert re.fullmatch(
        r"silence \d+ until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: rule=FeatureDrifting, feature=age",
        line,
    ), line
