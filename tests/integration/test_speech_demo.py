"""``watchkeeper demo --scenario speech`` in a subprocess: a keyword model on synthesised
audio, described by the SDK client (raw audio never reaches the collector), judged by
``watchkeeper init``'s default rules. Every incident (louder background noise, clipping
microphone, sample-rate change, empty transcripts, users switching to typing, an
accent-like spectral shift seen by the accuracy) is caught
by its expected rule in time, no other alert fires, and the command exits 0 leaving no
temporary directory. Runs on a manual clock, so a loaded machine makes it slower, never
wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_speech_demo_catches_every_incident_without_false_alarms(tmp_path: Path) -> None:
    report = tmp_path / "speech.json"
    before = set(Path(tempfile.gettempdir()).glob("wk-speech-*"))
    proc = subprocess.run(
        [sys.executable, "-m", "watchkeeper.cli", "demo", "--scenario", "speech",
         "--report", str(report)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(report.read_text())
    assert [i["key"] for i in doc["incidents"]] == [
        "background_noise", "clipping", "sample_rate", "empty_transcripts", "typing", "accent",
    ]  # fmt: skip
    for incident in doc["incidents"]:
        assert incident["detected"], incident
        assert incident["delay_windows"] <= incident["max_delay_windows"], incident
    assert doc["false_alarms"] == [] and doc["rows_not_delivered"] == 0
    assert "false alarms: none" in proc.stdout
    assert "leaked" not in proc.stderr  # every sketch freed: no thread left holding one
    assert set(Path(tempfile.gettempdir()).glob("wk-speech-*")) == before


def test_an_unknown_scenario_is_one_line_and_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "watchkeeper.cli", "demo", "--scenario", "video"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --scenario: unknown scenario 'video'; expected one of: tabular, speech"
    ]
