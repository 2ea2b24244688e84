"""Soak benchmark: a live collector under a steady stream of 1,000-row batches with ids,
watching its memory (issue 15, item 3).

A real ``watchkeeper serve`` process (write-ahead log with fsync, SQLite store) on
127.0.0.1 gets 1,000-row batches x 25 features, each row with an id (so predictions are
kept for late labels), from ``--clients`` threads for ``--seconds`` (default 60; the
issue's figure is ``--seconds 600``), event times following the wall clock so windows
close as the run goes. A refusal (429/503 with Retry-After, the ingest queue's bound) is
honoured as a client should, and counted. Printed: acknowledged rows/s, request p50/p99,
refusals, and the server's RSS at start, after the first tenth, at each tenth and at the
end, sampled every ``--sample`` seconds, with the slope over the last half of the run
(least squares, MB/min) and its standard error. "Flat" means the slope is within twice
its standard error of zero, the noise of RSS sampled while large blocks come and go.
The idempotency keys (one per batch here) grow by design until their bound
(``limits.idempotency_keys``, ~0.35 KB each): their share of the slope is printed too.
Baseline in the same run: the same bodies decoded in-process (``json.loads``) and the
numbers summarised with NumPy (``np.quantile`` + ``np.histogram`` per column), the floor
for any collector. The script stops the server by itself.

Run: ``python benchmarks/bench_soak.py [--seconds 600] [--clients 6] [--sample 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(__file__))
from bench_core import make_frame  # the same 25-column data
from bench_server import free_port, wait

KEY_BYTES = 350
"""Memory of one idempotency key kept after its write was applied (tracemalloc)."""


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def body(batch: int, frame_rows: list[dict], client: int) -> bytes:
    now = time.time()
    rows = [
        {"features": rec, "outputs": 0.5, "id": f"c{client}-b{batch}-{i}", "timestamp": now}
        for i, rec in enumerate(frame_rows)
    ]
    return json.dumps({"rows": rows}).encode()


def slope(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope of ``(seconds, MB)`` samples and its standard error, MB/min."""
    t = np.asarray([s[0] for s in samples]) / 60
    mb = np.asarray([s[1] for s in samples])
    if t.size < 3:
        return float("nan"), float("nan")
    fit = np.polyfit(t, mb, 1)
    residual = mb - np.polyval(fit, t)
    se = np.sqrt(residual @ residual / (t.size - 2) / ((t - t.mean()) @ (t - t.mean())))
    return float(fit[0]), float(se)


def soak(url: str, pid: int, seconds: float, clients: int, every: float = 5.0) -> dict[str, Any]:
    frame_rows = make_frame(1_000, seed=5).to_dict("records")
    latencies: list[float] = []
    acked = [0]
    refused: dict[int, int] = {}
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker(k: int) -> None:
        batch = 0
        with httpx.Client(timeout=60) as http:
            while time.monotonic() < end:
                payload = body(batch, frame_rows, k)
                t0 = time.perf_counter()
                headers = {"content-type": "application/json", "idempotency-key": f"{k}-{batch}"}
                r = http.post(url, content=payload, headers=headers)
                dt = time.perf_counter() - t0
                with lock:
                    if r.status_code == 200:
                        latencies.append(dt)
                        acked[0] += int(r.json()["accepted"])
                    else:
                        refused[r.status_code] = refused.get(r.status_code, 0) + 1
                if r.status_code == 200:
                    batch += 1
                elif r.status_code in (429, 503):
                    time.sleep(float(r.headers.get("retry-after", "1")))
                else:
                    raise RuntimeError(f"{r.status_code}: {r.text[:200]}")

    rss = [rss_mb(pid)]
    samples: list[tuple[float, float]] = []
    pool = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    next_sample = every
    for tenth in range(1, 11):
        while (now := time.perf_counter() - t0) < seconds * tenth / 10:
            if now >= next_sample:
                samples.append((now, rss_mb(pid)))
                next_sample += every
            time.sleep(0.2)
        rss.append(rss_mb(pid))
        samples.append((time.perf_counter() - t0, rss[-1]))
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    rss.append(rss_mb(pid))
    last_half = [s for s in samples if s[0] >= seconds / 2]
    lat = np.asarray(latencies) if latencies else np.asarray([np.nan])
    return {
        "rate": acked[0] / elapsed,
        "p50": float(np.quantile(lat, 0.5)),
        "p99": float(np.quantile(lat, 0.99)),
        "refused": refused,
        "rss": rss,
        "acked": acked[0],
        "batches": len(latencies),
        "slope": slope(last_half),
    }


def baseline(frame_rows: list[dict], repeats: int = 20) -> float:
    """Rows/s of decoding the same JSON and summarising it with NumPy, in-process."""
    payload = body(0, frame_rows, 0)
    t0 = time.perf_counter()
    for _ in range(repeats):
        rows = json.loads(payload)["rows"]
        columns = {name: [r["features"][name] for r in rows] for name in rows[0]["features"]}
        for values in columns.values():
            arr = np.asarray(values)
            if arr.dtype.kind in "if":
                np.quantile(arr, [0.5, 0.99])
                np.histogram(arr, bins=20)
            else:
                np.unique(arr, return_counts=True)
    return repeats * len(frame_rows) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wk-bench-soak-"))
    ref = make_frame(20_000, seed=1).assign(prediction=np.random.default_rng(1).random(20_000))
    ref.to_parquet(work / "ref.parquet")
    model = {"reference": "ref.parquet", "window": "1m", "rollups": []}
    doc = {"store": "sqlite:///wk.db", "wal_dir": "wal", "models": {"m": model}}
    (work / "wk.yaml").write_text(yaml.safe_dump(doc))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchkeeper.cli", "serve", "--config", str(work / "wk.yaml"),
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait(f"http://127.0.0.1:{port}/readyz")
        out = soak(f"http://127.0.0.1:{port}/v1/models/m/predictions", proc.pid,
                   args.seconds, args.clients, args.sample)  # fmt: skip
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=300)
    floor = baseline(make_frame(1_000, seed=5).to_dict("records"))
    rss, (per_min, se) = out["rss"], out["slope"]
    assert isinstance(rss, list)
    keys_per_min = out["batches"] / args.seconds * 60 * KEY_BYTES / 2**20
    verdict = "flat (within 2 SE of 0)" if abs(per_min) <= 2 * se else "NOT flat"
    print(
        f"soak {args.seconds:.0f} s, {args.clients} clients, 1,000-row JSON batches x 25 "
        f"features with ids: {out['rate']:,.0f} rows/s acknowledged ({out['acked']:,} rows), "
        f"request p50 {out['p50'] * 1e3:.0f} ms, p99 {out['p99'] * 1e3:.0f} ms, "
        f"refused {out['refused'] or 'none'} | RSS start {rss[0]:.0f} MB, first tenth "
        f"{rss[1]:.0f} MB, end {rss[-1]:.0f} MB, max {max(rss):.0f} MB, by tenths "
        f"{' '.join(f'{r:.0f}' for r in rss)}; slope over the last half {per_min:+.2f} MB/min "
        f"(SE {se:.2f}): {verdict}; idempotency keys held add ~{keys_per_min:.2f} MB/min by "
        f"design until limits.idempotency_keys "
        f"| baseline in-process json.loads + NumPy summaries: {floor:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
