"""Disk full: the write-ahead log and the SQLite store on a real 8 MB tmpfs.

A write that meets ENOSPC is answered 503 with Retry-After and nothing of it stays in
the log; ``/readyz`` says not ready; a shutdown while the disk is full keeps the log,
and the next start (with room again) replays it. Every acknowledged row is counted once,
and every refused batch, retried with its key once there is room, is counted once too.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from _faults import Collector, batch, can_mount, fill, report, stored_requests, tmpfs, write_config
from conftest import free_port, missing_component

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = 50


def test_a_full_disk_loses_no_acknowledged_row(tmp_path: Path) -> None:
    if not can_mount():
        missing_component("root, to mount a tmpfs")
    with tmpfs(tmp_path / "disk") as disk:
        config = write_config(
            tmp_path / "watchkeeper.yaml",
            store=f"sqlite:///{disk}/wk.db",
            wal_dir=str(disk / "wal"),
        )
        port = free_port()
        server = Collector(config, port)
        t0 = time.time() - 400  # windows close as the stream goes: the store writes too
        bodies = {f"b{s}": batch(f"b{s}", ROWS, t0 + 5.0 * s) for s in range(60)}
        acked: set[str] = set()
        refused: list[str] = []
        with httpx.Client(timeout=30) as client:

            def post(key: str) -> httpx.Response:
                return client.post(
                    f"{server.url}/v1/models/churn/predictions",
                    json=bodies[key],
                    headers={"Idempotency-Key": key},
                )

            keys = list(bodies)
            for key in keys[:10]:
                assert post(key).status_code == 200
                acked.add(key)
            filler = fill(disk, leave_bytes=48 * 1024)
            for key in keys[10:]:
                r = post(key)
                if r.status_code == 200:
                    acked.add(key)
                    continue
                assert r.status_code == 503, r.text
                assert int(r.headers["retry-after"]) >= 1
                assert "disk full" in r.json()["errors"][0]["message"]
                refused.append(key)
            assert refused, "the disk never filled"
            ready = client.get(f"{server.url}/readyz")
            assert ready.status_code == 503 and ready.json()["wal_error"]
            filler.unlink()  # room again: ready again, before any write succeeds
            assert client.get(f"{server.url}/readyz").status_code == 200
            filler = fill(disk, leave_bytes=48 * 1024)
            for key in list(refused):  # full again: some fit, then 503
                r = post(key)
                if r.status_code == 503:
                    break
                assert r.status_code == 200, r.text
                acked.add(key)
                refused.remove(key)
            assert r.status_code == 503
            assert server.stop()  # shutdown on a full disk: clean, the log kept
            filler.unlink()
            server = Collector(config, port)  # replays what the full disk kept
            for key in refused:  # the client retries what was refused, same keys
                r = post(key)
                assert r.status_code == 200 and not r.json()["duplicate"], r.text
                acked.add(key)
        assert server.stop()
        server = Collector(config, port)
        try:
            report(
                f"disk full ({len(refused)} batches refused with 503, retried)",
                len(acked) * ROWS,
                stored_requests(server.url),
            )
        finally:
            server.stop()
