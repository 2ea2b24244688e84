"""``watchkeeper demo --headless``, short and fast, in a subprocess, with the machine
loaded (``stress-ng --cpu 4`` beside it, as when other work shares the machine): every
incident is caught by its expected default rule in time, no alert that no incident
explains fires (a collector falling behind the replay would raise some), the retraining
action promotes version 2 (and the accuracy recovers), the command exits 0 and leaves no
process and no temporary directory behind. The replay paces itself to the collector, so
the load makes it slower, never wrong."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import ARTIFACTS, missing_component

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MARK = "WKDEMO_TEST_MARK"
SHOTS = ARTIFACTS / "demo"


def _processes_marked(mark: str) -> list[tuple[int, str]]:
    """Processes whose environment carries ``MARK=mark``: the demo and its children."""
    found = []
    needle = f"{MARK}={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append((int(entry.name), cmd))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def _wait_for_line(lines: list[str], text: str, proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(lines):
            if text in line:
                return line
        if proc.poll() is not None:
            raise AssertionError(f"the demo exited ({proc.returncode}):\n{''.join(lines)}")
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} line within {timeout} s:\n{''.join(lines)}")


def _look_at_the_dashboard(browser: Any, url: str) -> None:
    """The demo's own dashboard, still up: every incident's alert is listed with its
    evidence, the heatmap shows the drifted features, version 2's series are there, the
    unit change's alert opens the window that alerted. Screenshots go to artifacts/demo/
    (clean data, for the README: docs/demo-dashboard.png is model.png,
    docs/demo-feature.png feature-distance_m.png, docs/dashboard-alerts.png alerts.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{url}/alerts")
        page.wait_for_selector("#alerts-resolved", timeout=30_000)
        page.wait_for_load_state("networkidle")
        text = page.locator("#alert-tables").inner_text()
        for rule in ["FeatureDrifting", "FeatureMissing", "LowAccuracy", "ServerLoad",
                     "SlowPredictions", "EmptyOutputs"]:  # fmt: skip
            assert rule in text, rule
        assert "action retrain: done" in text  # the retraining, linked to its alert
        page.screenshot(path=str(SHOTS / "alerts.png"), full_page=True)
        page.goto(f"{url}/models/credit-risk?range=1d")
        page.wait_for_selector("#chart-heatmap .main-svg", timeout=30_000)
        page.wait_for_load_state("networkidle")
        heat = page.evaluate(
            "() => { const t = document.getElementById('chart-heatmap').data[0];"
            " return t.y.map((f, i) => [f, t.z[i].some(v => v === 1)]); }"
        )
        drifted = {f for f, any_drift in heat if any_drift}
        assert {"loan_amount", "distance_m", "product"} <= drifted, heat
        names = page.evaluate(
            "() => document.getElementById('chart-performance').data.map(t => t.name)"
        )
        assert any("(v2)" in n for n in names), names
        page.screenshot(path=str(SHOTS / "model.png"), full_page=True)
        aucs = page.evaluate(
            "() => document.getElementById('chart-performance').data"
            ".filter(t => t.name.startsWith('roc_auc')).map(t => t.y.filter(v => v !== null))"
        )
        # score is P(bad) and bad the positive class: AUC well above 0.5 (not inverted)
        assert aucs and all(sorted(auc)[len(auc) // 2] > 0.7 for auc in aucs), aucs
        # the unit change on distance_m's page, opened from its alert: the window that
        # alerted, drifted, with rows far above the reference's range
        page.goto(f"{url}/alerts")
        page.wait_for_selector("#alerts-resolved", timeout=30_000)
        row = page.locator("tr[data-rule=FeatureDrifting]", has_text="feature=distance_m")
        row.locator("a", has_text="distance_m").first.click()
        page.wait_for_url("**/features/distance_m?*window=*")
        page.wait_for_selector("#chart-distribution .main-svg", timeout=30_000)
        page.wait_for_load_state("networkidle")
        state = page.locator("#verdict-state").inner_text()
        assert state.startswith("Window of the alert") and state.endswith("drifted"), state
        bars = page.evaluate(
            "() => document.getElementById('chart-distribution').data"
            ".map(t => [t.name, t.showlegend !== false, t.customdata])"
        )
        outside = [shares for name, legend, shares in bars if not legend and "alert" in name]
        assert outside and outside[0][1] > 0.5, bars  # most of that window is above the max
        page.screenshot(path=str(SHOTS / "feature-distance_m.png"), full_page=True)
        page.goto(f"{url}/")
        page.wait_for_selector(".card .spark .main-svg", timeout=30_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
        assert problems == []
    finally:
        page.close()


@pytest.fixture
def loaded_machine() -> Any:
    """``stress-ng --cpu 4``: four busy workers beside the demo, for as long as it runs."""
    binary = shutil.which("stress-ng")
    if binary is None:
        missing_component("stress-ng")
    stress = subprocess.Popen(
        [str(binary), "--cpu", "4", "--timeout", "1200s", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield stress
    finally:
        stress.terminate()
        try:
            stress.wait(30)
        except subprocess.TimeoutExpired:
            stress.kill()
            stress.wait(10)


def test_short_headless_demo_detects_every_incident_and_leaves_nothing_running(
    tmp_path: Path, browser: Any, loaded_machine: subprocess.Popen[bytes]
) -> None:
    if not Path("/proc/self/environ").exists():
        pytest.fail("this test reads /proc to find leftover processes (Linux)")
    assert loaded_machine.poll() is None, "stress-ng did not keep running"
    report = tmp_path / "report.json"
    mark = uuid.uuid4().hex
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, MARK: mark, "TMPDIR": str(scratch)}
    env["COLUMNS"] = "200"  # one event per line in the captured output
    started = time.monotonic()
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "watchkeeper.cli", "demo", "--headless", "--keep-running",
                "--duration", "1d", "--speed", "1000", "--port", "0", "--report", str(report),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )  # fmt: skip
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
        reader.start()
        try:
            url = _wait_for_line(lines, "still running", proc, timeout=900).split("dashboard ")[1]
            elapsed = time.monotonic() - started
            assert loaded_machine.poll() is None, "stress-ng stopped before the demo ended"
            _look_at_the_dashboard(browser, url.split("/;")[0].strip())
        finally:
            proc.send_signal(signal.SIGINT)  # Ctrl-C ends --keep-running
            proc.wait(timeout=60)
            reader.join(10)
            if proc.stdout is not None:
                proc.stdout.close()
    stdout = "".join(lines)
    output = f"--- stdout\n{stdout[-6000:]}\n--- stderr\n{stderr.read_text()[-3000:]}"
    print(f"demo run: {elapsed:.0f} s\n{stdout}")
    assert proc.returncode == 0, output
    assert "incidents and their alerts" in stdout

    summary = json.loads(report.read_text())
    assert len(summary["incidents"]) == 7
    for incident in summary["incidents"]:
        assert incident["detected"], (incident, output)
        assert incident["alert"].split("{")[0] == incident["expected_rule"], incident
        assert incident["delay_windows"] <= incident["max_delay_windows"], incident
    overload = next(i for i in summary["incidents"] if i["key"] == "overload")
    assert any(a.startswith("SlowPredictions") for a in overload["alerts"]), overload
    assert summary["false_alarms"] == [], summary["false_alarms"]
    assert summary["pacing"]["holds"] >= 0  # how long the replay waited is reported

    assert summary["promoted_version"] == "2"
    retraining = summary["retraining"]
    assert retraining["alert"] == "LowAccuracy"
    assert retraining["status"] == "done" and retraining["promoted"] == "2", retraining
    accuracy = summary["accuracy"]
    assert accuracy["v1_before_drift"] > 0.8 > accuracy["v1_after_drift"]
    assert accuracy["v2"] > 0.8
    assert summary["traffic"]["failed_requests"] == 0

    deadline = time.monotonic() + 10  # children stop before the demo exits; allow stragglers
    while (left := _processes_marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], left
    assert list(scratch.iterdir()) == []  # the work directory is gone too
