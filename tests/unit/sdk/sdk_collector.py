"""A real collector (`watchkeeper serve`'s app under uvicorn in a thread) for the SDK tests."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import uvicorn
from conftest import wait_http

from watchkeeper.server.app import create_app
from watchkeeper.service.config import parse_config


class Collector:
    """The collector on 127.0.0.1:``port``; can be stopped and restarted with new settings."""

    def __init__(self, tmp_path: Path, port: int) -> None:
        rng = np.random.default_rng(0)
        ref = tmp_path / "reference.parquet"
        if not ref.exists():
            pd.DataFrame(
                {"age": rng.normal(40, 10, 2_000), "prediction": rng.choice(["a", "b"], 2_000)}
            ).to_parquet(ref)
        self.tmp_path = tmp_path
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server: uvicorn.Server | None = None
        self.configure()

    def configure(self, models: tuple[str, ...] = ("m",), **top: Any) -> None:
        """Settings for the next start: the models served and top-level keys
        (``api_keys``, ``limits``)."""
        model = {"reference": "reference.parquet", "grace": "1s", "rollups": []}
        doc = {
            "store": "sqlite:///wk.db",
            "wal_dir": "wal",
            "fsync": False,
            "tick_seconds": 0.2,
            "models": {name: dict(model) for name in models},
            **top,
        }
        self.config = parse_config(doc, base=self.tmp_path)

    def start(self) -> None:
        cfg = uvicorn.Config(create_app(self.config), host="127.0.0.1", port=self.port,
                             log_level="warning")  # fmt: skip
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_http(f"{self.url}/readyz")

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(30)
            self.server = None

    def requests(self, model: str = "m") -> float:
        import httpx

        points = httpx.get(f"{self.url}/v1/models/{model}/metrics", params={"metric": "requests"})
        return sum(p["value"] for p in points.json()["points"])
