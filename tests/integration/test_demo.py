"""``watchkeeper demo --headless``, short and fast, in a subprocess: every incident is
caught by its expected default rule in time, no alert fires outside the incidents, the
retraining action promotes version 2 (and the accuracy recovers), the command exits 0
and leaves no process and no temporary directory behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MARK = "WKDEMO_TEST_MARK"


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


def test_short_headless_demo_detects_every_incident_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    if not Path("/proc/self/environ").exists():
        pytest.fail("this test reads /proc to find leftover processes (Linux)")
    report = tmp_path / "report.json"
    mark = uuid.uuid4().hex
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, MARK: mark, "TMPDIR": str(scratch)}
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable, "-m", "watchkeeper.cli", "demo", "--headless",
            "--duration", "1d", "--speed", "1000", "--port", "0", "--report", str(report),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    output = f"--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    print(f"demo run: {elapsed:.0f} s\n{proc.stdout}")
    assert proc.returncode == 0, output
    assert "incidents and their alerts" in proc.stdout

    summary = json.loads(report.read_text())
    assert len(summary["incidents"]) == 7
    for incident in summary["incidents"]:
        assert incident["detected"], (incident, output)
        assert incident["alert"].split("{")[0] == incident["expected_rule"], incident
        assert incident["delay_windows"] <= incident["max_delay_windows"], incident
    overload = next(i for i in summary["incidents"] if i["key"] == "overload")
    assert any(a.startswith("SlowPredictions") for a in overload["alerts"]), overload
    assert summary["false_alarms"] == [], summary["false_alarms"]

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
