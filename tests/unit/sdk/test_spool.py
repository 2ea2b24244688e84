"""The spool: bounded by ``spool_max_bytes`` (oldest dropped and counted), read one body
at a time, and what it keeps arrives once."""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import httpx
from conftest import free_port
from scripted_server import scripted_server

from watchkeeper.sdk.client import Client
from watchkeeper.sdk.spool import Spool


def _spooled_rows(directory: Path) -> int:
    return sum(
        int(f.read_bytes().partition(b"\n")[0].split(b" ")[1]) for f in directory.glob("*.body")
    )


def test_spool_max_bytes_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there yet: an outage
    spool = tmp_path / "spool"
    t0 = time.time() - 300
    client = Client(f"http://127.0.0.1:{port}", "m", batch_size=50, flush_interval=0.05,
                    spool_dir=spool, spool_max_bytes=20_000, max_backoff=0.2)  # fmt: skip
    for i in range(2_000):
        client.log({"age": float(i % 50)}, "a", ids=f"r{i}", timestamps=t0 + i * 1e-3)
    assert not client.flush(1.0)
    on_disk = sum(f.stat().st_size for f in spool.glob("*.body"))
    assert on_disk <= 20_000
    assert client.spool_dropped > 0
    assert client.spool_dropped + _spooled_rows(spool) == 2_000  # every row accounted for
    with scripted_server(port=port) as server:  # the collector is back
        assert client.flush(30)
        client.close()
        assert client.sent_rows + client.spool_dropped == 2_000
        ids = [key for _, _, key, _ in server.arrivals]
        assert len(ids) == len(set(ids))  # each body once


def test_a_spool_is_read_one_body_at_a_time(tmp_path: Path) -> None:
    body = b'{"columns": {"x": ["' + b"a" * 250_000 + b'"]}, "timestamps": [1.0]}'
    writer = Spool(tmp_path / "spool", max_bytes=2**30)
    for _ in range(40):  # 40 bodies of 250 kB: 10 MB on disk
        writer.add("/v1/models/m/predictions", 1, body)
    with scripted_server() as server:
        httpx.post(f"{server.url}/warm-up", content=b"{}")  # httpx's lazy imports, untraced
        tracemalloc.start()
        try:
            client = Client(server.url, "m", flush_interval=0.05, spool_dir=tmp_path / "spool")
            assert client.flush(30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        client.close()
        assert len(server.arrivals) == 41
    # the sender's body and its copy in httpx, the server's copy and its parse: not 40
    assert peak < 6 * len(body)
    assert not list((tmp_path / "spool").glob("*.body"))


def test_a_restarted_spool_keeps_its_order_and_its_bound(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=100)
    for i in range(5):
        spool.add("/p", i + 1, b"x" * 30)
    assert len(spool) == 2 and spool.dropped_rows == 1 + 2 + 3
    again = Spool(tmp_path, max_bytes=50)
    assert [again.peek() is not None, len(again), again.dropped_rows] == [True, 1, 4]
    first = again.peek()
    assert first is not None and first.rows == 5 and again.read(first) == b"x" * 30


def test_a_half_written_body_from_a_crash_is_cleared_not_sent(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".0001-a.tmp", tmp_path / ".0002-b.tmp"
    stale.write_bytes(b"/p 3\n{")
    fresh.write_bytes(b"/p 3\n{")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    spool = Spool(tmp_path, max_bytes=1_000)
    assert len(spool) == 0 and not stale.exists() and fresh.exists()
