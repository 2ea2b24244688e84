"""Two collectors on one real PostgreSQL store writing the same model, one SIGKILLed
mid-stream and restarted: each writes its own partial windows (``writer``), merged on
read, and every acknowledged row is counted once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from _faults import Collector, batch, report, stored_requests, write_config
from conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = 40
BATCHES = 20


def _stream(url: str, prefix: str, t0: float, acked: list[int]) -> None:
    """Send BATCHES batches with keys, retrying each until it is acknowledged."""
    with httpx.Client(timeout=10) as http:
        for s in range(BATCHES):
            body = batch(f"{prefix}{s}", ROWS, t0 + 4.0 * s)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    r = http.post(f"{url}/v1/models/churn/predictions", json=body,
                                  headers={"Idempotency-Key": f"{prefix}{s}"})  # fmt: skip
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                if r.status_code == 200:
                    acked.append(s)
                    break
                assert r.status_code in (429, 503), r.text
                time.sleep(1)


def test_two_collectors_on_postgresql_one_killed(tmp_path: Path, postgres_url: str) -> None:
    configs = [
        write_config(
            tmp_path / f"c{i}.yaml",
            store=postgres_url,
            wal_dir=str(tmp_path / f"wal{i}"),
            writer=f"collector-{i}",
        )
        for i in (1, 2)
    ]
    ports = [free_port(), free_port()]
    servers = [Collector(c, p) for c, p in zip(configs, ports, strict=True)]
    acked: tuple[list[int], list[int]] = ([], [])
    t0 = time.time() - 300
    threads = [
        threading.Thread(target=_stream, args=(s.url, f"w{i}-", t0, acked[i]))
        for i, s in enumerate(servers)
    ]
    try:
        for t in threads:
            t.start()
        while len(acked[1]) < BATCHES // 2:
            time.sleep(0.01)
        servers[1].kill()  # mid-stream; its client retries until it is back
        servers[1] = Collector(configs[1], ports[1])
        for t in threads:
            t.join(120)
        assert [len(a) for a in acked] == [BATCHES, BATCHES]
        assert all(s.stop() for s in servers)
        servers = [Collector(configs[0], ports[0])]
        report(
            "two collectors on PostgreSQL, one SIGKILLed",
            2 * BATCHES * ROWS,
            stored_requests(servers[0].url),
        )
    finally:
        for s in servers:
            if s.proc.poll() is None:
                s.stop()
