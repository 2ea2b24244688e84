"""Collector benchmark: HTTP ingestion on loopback, the SDK's cost to the caller, and the
middleware's added latency.

A real ``watchkeeper serve`` process (write-ahead log with fsync, SQLite store) gets
batches of 1,000 rows x 25 features from a bounded load generator (4 threads, a fixed
duration): JSON (columnar and row shapes) and Arrow IPC bodies. Printed: rows/s and the
p50/p99 latency of a request. Baseline: the same bodies decoded in-process
(``json.loads`` / ``pyarrow`` reading), the floor for any server. Then the SDK's
``Client.log`` cost per call in the caller's thread (vs ``list.append`` of the same
arguments), with the collector up (the sender thread encoding and posting meanwhile) and
down (spooling to a directory and backing off), how long ``close`` takes and whether the
sender thread ended; and the middleware's added latency per request through uvicorn
(with vs without).

Run: ``python benchmarks/bench_server.py`` (``--seconds N`` per format, default 20;
``--only "Arrow IPC"`` for the ingestion of one format alone). The machine's load average
is printed before and after: figures taken beside other work are lower bounds.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import yaml

sys.path.insert(0, os.path.dirname(__file__))
from bench_core import make_frame  # the same 25-column data

from watchkeeper import wire
from watchkeeper.sdk.client import Client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


def bodies(n: int = 1_000) -> dict[str, tuple[bytes, str]]:
    frame = make_frame(n, seed=7)
    now = time.time()
    ts = np.linspace(now - 1, now, n)
    columns = {
        "columns": {c: frame[c].tolist() for c in frame.columns},
        "outputs": np.random.default_rng(7).random(n).tolist(),
        "timestamps": ts.tolist(),
    }
    rows = {
        "rows": [
            {"features": rec, "outputs": 0.5, "timestamp": t}
            for rec, t in zip(frame.to_dict("records"), ts.tolist(), strict=True)
        ]
    }
    table = pa.Table.from_pandas(
        frame.assign(**{"output.prediction": 0.5, "_timestamp": ts}), preserve_index=False
    )
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return {
        "JSON columns": (json.dumps(columns).encode(), wire.JSON),
        "JSON rows": (json.dumps(rows).encode(), wire.JSON),
        "Arrow IPC": (sink.getvalue(), wire.ARROW_STREAM),
    }


def load(url: str, body: bytes, ctype: str, seconds: float, threads: int = 4) -> tuple:
    """Post ``body`` from ``threads`` clients for ``seconds``: rows/s, p50, p99, and the
    slowest request as (seconds, its wall-clock start in seconds past the minute), since
    a stall of the collector shows up as a few very slow requests."""
    latencies: list[float] = []
    slowest = [0.0, 0.0]
    count = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker() -> None:
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < end:
                t0, wall = time.perf_counter(), time.time()
                r = client.post(url, content=body, headers={"content-type": ctype})
                dt = time.perf_counter() - t0
                r.raise_for_status()
                with lock:
                    latencies.append(dt)
                    if dt > slowest[0]:
                        slowest[:] = [dt, wall % 60]
                    count[0] += int(r.json()["accepted"])

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    return (
        count[0] / elapsed,
        np.quantile(latencies, 0.5),
        np.quantile(latencies, 0.99),
        tuple(slowest),
    )


@contextlib.contextmanager
def collector() -> Iterator[str]:
    """A ``watchkeeper serve`` process (WAL with fsync, SQLite store); yields its URL."""
    work = Path(tempfile.mkdtemp(prefix="wk-bench-serve-"))
    ref = make_frame(20_000, seed=1).assign(prediction=np.random.default_rng(1).random(20_000))
    ref.to_parquet(work / "ref.parquet")
    (work / "wk.yaml").write_text(
        yaml.safe_dump(
            {
                "store": "sqlite:///wk.db",
                "wal_dir": "wal",
                "models": {"m": {"reference": "ref.parquet", "window": "1m"}},
            }
        )
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "watchkeeper.cli",
            "serve",
            "--config",
            str(work / "wk.yaml"),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait(f"http://127.0.0.1:{port}/readyz")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


def bench_ingestion(base: str, seconds: float, only: str | None = None) -> None:
    url = f"{base}/v1/models/m/predictions"
    for name, (body, ctype) in bodies().items():
        if only is not None and name != only:
            continue
        rate, p50, p99, (worst, at) = load(url, body, ctype, seconds)
        t0 = time.perf_counter()
        for _ in range(20):
            if ctype == wire.JSON:
                json.loads(body)
            else:
                pa.ipc.open_stream(pa.BufferReader(body)).read_all().to_pylist()
        decode = 20_000 / (time.perf_counter() - t0)
        print(
            f"HTTP ingestion, {name}, 1,000-row batches x 25 features, 4 clients: "
            f"{rate:,.0f} rows/s, request p50 {p50 * 1e3:.0f} ms, p99 {p99 * 1e3:.0f} ms, "
            f"slowest {worst:.2f} s (sent at :{at:04.1f} past the minute; 1-minute windows) "
            f"| baseline in-process decode only: {decode:,.0f} rows/s"
        )


def bench_sdk(url: str | None, n: int = 100_000) -> None:
    """``Client.log`` per call against the collector at ``url``, or an unreachable one."""
    rows = make_frame(n, seed=3).to_dict("records")
    spool = tempfile.mkdtemp(prefix="wk-bench-spool-")
    client = Client(url or f"http://127.0.0.1:{free_port()}", "m", spool_dir=spool)
    costs = np.empty(len(rows))
    for i, row in enumerate(rows):
        t0 = time.perf_counter_ns()
        client.log(row, 0.5, latency=0.01)
        costs[i] = time.perf_counter_ns() - t0
    base: list[tuple[object, ...]] = []
    t_base = np.empty(len(rows))
    for i, row in enumerate(rows):
        t0 = time.perf_counter_ns()
        base.append((row, 0.5, 0.01))
        t_base[i] = time.perf_counter_ns() - t0
    t0 = time.perf_counter()
    client.close(timeout=1.0)
    closing = time.perf_counter() - t0
    state = "up" if url else "down"
    print(
        f"SDK Client.log() one row of 25 features, caller's thread, collector {state}: "
        f"median {np.median(costs) / 1e3:.1f} us, p99 {np.quantile(costs, 0.99) / 1e3:.1f} us, "
        f"max {costs.max() / 1e3:.0f} us | baseline list.append median "
        f"{np.median(t_base) / 1e3:.2f} us, p99 {np.quantile(t_base, 0.99) / 1e3:.2f} us; "
        f"close(timeout=1) {closing:.2f} s, sender thread ended: "
        f"{not client._thread.is_alive()}, sent {client.sent_rows:,} rows, "
        f"{client.spool.rows:,} rows ({client.spool.bytes / 1e6:.1f} MB) left spooled, "
        f"{n - client.sent_rows - client.spool.rows:,} rows lost"
    )


def bench_middleware(n: int = 2_000) -> None:
    import uvicorn
    from fastapi import FastAPI
    from prometheus_client import CollectorRegistry

    from watchkeeper.sdk.middleware import WatchkeeperMiddleware

    def app(with_middleware: bool) -> FastAPI:
        a = FastAPI()

        @a.post("/predict/{v}")
        def predict(v: str) -> dict[str, float]:
            return {"score": 0.5}

        if with_middleware:
            a.add_middleware(WatchkeeperMiddleware, registry=CollectorRegistry())
        return a

    results = {}
    for flag in (False, True):
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app(flag), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_up = time.monotonic() + 30
        while not server.started and time.monotonic() < wait_up:
            time.sleep(0.05)
        with httpx.Client() as c:
            for _ in range(200):
                c.post(f"http://127.0.0.1:{port}/predict/a")
            times = []
            for i in range(n):
                t0 = time.perf_counter()
                c.post(f"http://127.0.0.1:{port}/predict/{i % 7}")
                times.append(time.perf_counter() - t0)
        server.should_exit = True
        thread.join(30)
        results[flag] = np.median(times)
    print(
        f"middleware: request median {results[True] * 1e6:.0f} us with, "
        f"{results[False] * 1e6:.0f} us without: +{(results[True] - results[False]) * 1e6:.0f} us "
        f"per request"
    )


def main() -> None:
    seconds = 20.0
    if "--seconds" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--seconds") + 1])
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    print(f"load average before: {os.getloadavg()}")
    with collector() as url:
        if only is None:
            bench_sdk(url)
            bench_sdk(None)
            bench_middleware()
        bench_ingestion(url, seconds, only)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
