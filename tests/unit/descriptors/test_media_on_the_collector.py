"""A collector configured with an audio column: it takes the descriptors the SDK client
computes and sends (through the real HTTP routes),
reports their drift per window as features named ``voice.<descriptor>``, and the
dashboard shows them like any feature (model page, feature page, distribution)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn
from conftest import free_port, wait_http

from watchkeeper.descriptors import Describer
from watchkeeper.monitor.clock import ManualClock
from watchkeeper.sdk.client import Client
from watchkeeper.server.app import create_app
from watchkeeper.service import Service
from watchkeeper.service.config import parse_config

SCHEMA = {"voice": {"kind": "audio"}, "transcript": {"kind": "text", "role": "output"}}


def _clips(rng: np.random.Generator, n: int, loud: float) -> list[tuple[np.ndarray, int]]:
    return [(loud * rng.standard_normal(1_600), 16_000) for _ in range(n)]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    rng = np.random.default_rng(0)
    describer = Describer.for_schema(SCHEMA)
    assert describer is not None
    ref = describer.columns({"voice": _clips(rng, 300, 0.05)})
    frame = pd.DataFrame({**ref, "transcript": ["yes", "no"] * 150})
    frame.to_parquet(tmp_path / "reference.parquet")
    doc = {
        "store": "sqlite:///wk.db", "wal_dir": "wal", "fsync": False, "tick_seconds": 3600,
        "models": {"asr": {"schema": SCHEMA, "reference": "reference.parquet", "window": "1m",
                           "grace": "5s", "rollups": [], "max_future_skew": None}},
    }  # fmt: skip
    cfg = parse_config(doc, base=tmp_path)
    clock = ManualClock(0.0)
    service = Service(cfg, clock=clock)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(cfg, service=service), host="127.0.0.1", port=port,
                       log_level="warning")
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/readyz")
        # the SDK client, describing on its sender thread, over HTTP to the real routes
        with Client(url, "asr", describe=describer, flush_interval=0.05) as sdk:
            for w, loud in enumerate((0.05, 0.4)):
                sdk.log({"voice": _clips(rng, 200, loud)}, {"transcript": ["yes"] * 200},
                        timestamps=w * 60 + np.linspace(0, 50, 200))  # fmt: skip
            assert sdk.flush(30) and sdk.sent_rows == 400 and sdk.rejected == 0
        clock.set(200.0)
        service.tick()
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(30)
        service.close()
        for monitor in service.monitors.values():
            monitor.close()  # its analyser thread (Service.close leaves it running)


def test_descriptors_are_features_with_drift_per_window(client: httpx.Client) -> None:
    r = client.get("/v1/models/asr/metrics", params={"metric": "feature_drifted"})
    points = r.json()["points"]
    drifted = {(p["labels"]["feature"], p["window_start"]): p["value"] for p in points}
    assert drifted[("voice.rms_dbfs", 0.0)] == 0.0
    assert drifted[("voice.rms_dbfs", 60.0)] == 1.0
    assert {f for f, _ in drifted} == {
        "voice.duration_seconds", "voice.rms_dbfs", "voice.silence_ratio",
        "voice.clipping_share", "voice.sample_rate_hz",
    }  # fmt: skip


def test_the_dashboard_shows_descriptors_like_features(client: httpx.Client) -> None:
    assert "voice.rms_dbfs" in client.get("/models/asr").text
    page = client.get("/models/asr/features/voice.rms_dbfs")
    assert page.status_code == 200
    dist = client.get("/v1/models/asr/features/voice.rms_dbfs/distribution")
    assert dist.status_code == 200, dist.text
    assert client.get("/models/asr/features/voice").status_code == 404  # raw: not a feature
