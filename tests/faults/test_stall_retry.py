"""A stalled model and a client that retries with the same idempotency key: the write
that was logged but not yet applied is answered 503 (kept, not lost), a retry while it
is in flight is not logged again, and once the model moves the retry gets the
original's answer. The collector runs under uvicorn on 127.0.0.1; the stall is the
model's own lock held, as a long window save holds it."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from _faults import batch, report, write_config
from conftest import free_port, wait_http

from watchkeeper.server.app import create_app
from watchkeeper.service import Service, load_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = 30


def test_a_retry_during_a_stall_is_counted_once(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "watchkeeper.yaml", store=f"sqlite:///{tmp_path}/wk.db", wal_dir="wal"
    )
    cfg = dataclasses.replace(load_config(path), ack_timeout_seconds=0.5)
    service = Service(cfg)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(cfg, service=service), host="127.0.0.1",
                                           port=port, log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/v1/models/churn/predictions"
    body = batch("stalled", ROWS, time.time() - 300)
    headers = {"Idempotency-Key": "stalled-1"}
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz")
        with httpx.Client(timeout=30) as http:
            with service.monitor("churn")._lock:  # the model's apply stalls
                first = http.post(url, json=body, headers=headers)
                assert first.status_code == 503 and first.headers["retry-after"] == "1"
                retry = http.post(url, json=body, headers=headers)
                assert retry.status_code == 503  # still in flight: waited, not logged again
                assert service.wal.next_seq == 2
            deadline = time.monotonic() + 10
            while service.appliers.oldest_pending() is not None and time.monotonic() < deadline:
                time.sleep(0.01)
            again = http.post(url, json=body, headers=headers)
            assert again.status_code == 200, again.text
            assert again.json()["duplicate"] is True and again.json()["seq"] == 1
            assert again.json()["accepted"] == ROWS
        service.monitor("churn").flush()
        stored = service.monitor("churn").metrics("requests")["value"].sum()
    finally:
        server.should_exit = True  # its lifespan closes the service
        thread.join(30)
    report("stall + 2 retries with the same key", ROWS, stored)
