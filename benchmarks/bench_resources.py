"""Saturation sampler benchmark: what watchkeeper.sdk.resources costs the service.

Prints, each next to a plain baseline in the same run:

- one sample (:meth:`ResourceSampler.sample`: CPU, memory, threads, descriptors, GC,
  one event-loop probe, the middleware's counters): median and p99 microseconds, vs the
  same four psutil reads done by hand (``cpu_times``, ``memory_info``, ``num_threads``,
  ``num_fds``); and at 10 and 1,000 open descriptors (the one reading that grows);
- ``Client.log()`` of one row in the caller's thread, with the sampler sampling every
  50 ms (100x the default rate, so its share shows) and without it: median and p99
  nanoseconds per call, vs appending the same tuple to a ``deque``;
- the middleware per request (an ASGI app that returns at once) with and without the
  sampler's counters and ``X-Request-Start`` parsing, vs calling the app directly;
- the garbage collector's hook: ``gc.collect(0)`` with the sampler's hook installed, vs
  the same collection with no hook.

Run: ``python benchmarks/bench_resources.py`` (``--quick``: fewer repetitions).
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import psutil
from prometheus_client import CollectorRegistry

from watchkeeper.sdk import WatchkeeperMiddleware
from watchkeeper.sdk.client import Client
from watchkeeper.sdk.resources import ResourceSampler

QUICK = "--quick" in sys.argv


def _timings(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()
        out.append(time.perf_counter_ns() - t0)
    return out


def _line(what: str, ns: list[float], unit: str = "us") -> str:
    scale = 1e3 if unit == "us" else 1.0
    ns = sorted(ns)
    p50 = statistics.median(ns) / scale
    p99 = ns[int(0.99 * (len(ns) - 1))] / scale
    return f"  {what:<58} p50 {p50:9.2f} {unit}   p99 {p99:9.2f} {unit}"


def bench_sample() -> None:
    print("one sample")
    n = 300 if QUICK else 2_000
    sampler = ResourceSampler(instance_id="bench", interval=3600)
    loop = asyncio.new_event_loop()
    sampler.watch_loop(loop)  # probed, never run: the probe's cost only
    sampler.requests.attached = True
    proc = psutil.Process()

    def by_hand() -> None:
        proc.cpu_times()
        proc.memory_info()
        proc.num_threads()
        proc.num_fds()

    print(_line("ResourceSampler.sample()", _timings(sampler.sample, n)))
    print(_line("baseline: the 4 psutil reads by hand", _timings(by_hand, n)))
    with tempfile.TemporaryDirectory() as tmp:
        files = [open(os.path.join(tmp, f"f{i}"), "w") for i in range(1_000)]  # noqa: SIM115
        try:
            print(_line(f"ResourceSampler.sample(), {proc.num_fds()} fds open",
                        _timings(sampler.sample, n)))  # fmt: skip
            print(_line("baseline: the 4 psutil reads by hand, same fds", _timings(by_hand, n)))
        finally:
            for f in files:
                f.close()
    sampler.close()
    loop.close()


def bench_log() -> None:
    print("Client.log() of one row, in the caller's thread")
    n = 50_000 if QUICK else 300_000
    row = {"age": 40.0, "plan": "pro"}
    url = "http://127.0.0.1:9"  # nothing listens: the sender spools, the caller never waits
    for label, resources in (
        ("sampler every 50 ms", ResourceSampler(instance_id="b", interval=0.05)),
        ("no sampler (resources=False)", False),
    ):
        client = Client(url, "m", batch_size=10**9, queue_size=10**7, flush_interval=3600,
                        resources=resources)  # fmt: skip
        times = _timings(lambda c=client: c.log(row, "a"), n)
        samples = "" if client.resources is None else f" ({n} calls)"
        client.close(timeout=0.1)
        print(_line(label + samples, times, unit="ns"))
    queue: collections.deque[Any] = collections.deque(maxlen=10**7)
    print(_line("baseline: deque.append of the same tuple",
                _timings(lambda: queue.append(("log", row, "a", None)), n), unit="ns"))  # fmt: skip


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def bench_middleware() -> None:
    print("the middleware per request (an app that answers at once)")
    n = 5_000 if QUICK else 30_000
    scope = {"type": "http", "method": "GET", "path": "/p", "headers": [
        (b"host", b"x"), (b"x-request-start", f"t={time.time():.3f}".encode())]}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        pass

    sampler = ResourceSampler(instance_id="m", interval=3600)
    apps = {
        "middleware with the sampler's counters": WatchkeeperMiddleware(
            _app, registry=CollectorRegistry(), resources=sampler
        ),
        "middleware without (resources=None, no client)": WatchkeeperMiddleware(
            _app, registry=CollectorRegistry()
        ),
        "baseline: the app alone": _app,
    }

    async def run(app: Any) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            await app(scope, receive, send)
            out.append(time.perf_counter_ns() - t0)
        return out

    for label, app in apps.items():
        print(_line(label, asyncio.run(run(app))))
    sampler.close()


def bench_gc_hook() -> None:
    print("gc.collect(0) right after making 10,000 young objects")
    n = 2_000 if QUICK else 10_000

    def collect() -> None:
        junk = [[] for _ in range(10_000)]  # noqa: F841  (young objects to traverse)
        t0 = time.perf_counter_ns()
        gc.collect(0)
        times.append(time.perf_counter_ns() - t0)

    times: list[float] = []
    sampler = ResourceSampler(instance_id="g", interval=3600)
    for _ in range(n):
        collect()
    print(_line("with the sampler's gc.callbacks hook", times))
    sampler.close()
    times = []
    for _ in range(n):
        collect()
    print(_line("baseline: no hook", times))


def main() -> None:
    print(f"watchkeeper saturation sampler, {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    bench_sample()
    bench_log()
    bench_middleware()
    bench_gc_hook()


if __name__ == "__main__":
    main()
