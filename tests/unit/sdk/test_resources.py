"""The SDK's saturation sampler: its readings against psutil and os, its constant cost,
and that a failing sampler never reaches the caller."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from conftest import free_port
from prometheus_client import CollectorRegistry
from sdk_collector import Collector

from watchkeeper.errors import ConfigError
from watchkeeper.metrics import SATURATION
from watchkeeper.sdk import WatchkeeperMiddleware
from watchkeeper.sdk._request_stats import RequestStats, queue_seconds
from watchkeeper.sdk.client import Client
from watchkeeper.sdk.resources import ResourceSampler


@pytest.fixture
def sampler() -> Iterator[ResourceSampler]:
    # made on a thread of its own, so it does not watch the loop the session's Playwright
    # keeps running on the main thread (a sampler watches its creator's running loop)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        s = pool.submit(ResourceSampler, instance_id="test", interval=60).result()
    yield s
    s.close()


def _run(coro: Any) -> Any:
    """``asyncio.run`` on a thread of its own: the test session's Playwright (the
    dashboard tests' browser) keeps an event loop running on the main thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _values(s: ResourceSampler) -> dict[str, float]:
    return dict(s.sample())


# -- readings against psutil and os -----------------------------------------------------


def _steady(sampler: ResourceSampler) -> tuple[dict[str, float], int, int]:
    """A sample, and the threads (``/proc/self/task``) and descriptors (``/proc/self/fd``)
    read around it, retried until no other thread of the test run started or ended one
    meanwhile (idle background threads end on their own)."""
    for _ in range(50):
        threads, fds = len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))
        values = _values(sampler)
        if (threads, fds) == (len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))):
            return values, threads, fds
        time.sleep(0.05)
    raise AssertionError("threads or descriptors kept changing")


def test_memory_threads_and_descriptors_match_psutil_and_os(sampler: ResourceSampler) -> None:
    proc = psutil.Process()
    values = _values(sampler)
    rss = proc.memory_info().rss
    assert abs(values["process_memory_rss_bytes"] - rss) <= 0.05 * rss
    values, threads, fds = _steady(sampler)
    assert (values["process_threads"], values["process_open_fds"]) == (threads, fds)

    stop = threading.Event()
    started = [threading.Thread(target=stop.wait) for _ in range(5)]
    files = [open(os.devnull, "rb") for _ in range(40)]  # noqa: SIM115
    try:
        for t in started:
            t.start()
        after, threads_after, fds_after = _steady(sampler)
        assert (after["process_threads"], after["process_open_fds"]) == (threads_after, fds_after)
        assert after["process_threads"] >= values["process_threads"] + 5 - 2  # others may end
        assert after["process_open_fds"] >= values["process_open_fds"] + 40 - 2
    finally:
        stop.set()
        for f in files:
            f.close()
        for t in started:
            t.join()


def test_cpu_utilisation_is_cpu_time_over_wall_time_and_cores() -> None:
    proc = psutil.Process()
    s = ResourceSampler(instance_id="cpu", cores=1)
    try:

        def now() -> tuple[float, float]:
            times = proc.cpu_times()
            return time.monotonic(), times.user + times.system

        t0, c0 = now()
        s.sample()  # starts the interval
        t1, c1 = now()
        end = time.monotonic() + 0.4
        while time.monotonic() < end:  # busy
            sum(range(1_000))
        t2, c2 = now()
        busy = dict(s.sample())["process_cpu_utilisation"]
        t3, c3 = now()
        # the sampler's interval lies between t1..t2 and t0..t3, its CPU time likewise
        assert (c2 - c1) / (t3 - t0) <= busy <= (c3 - c0) / (t2 - t1)
        assert busy > 0.05
        time.sleep(0.3)  # idle
        assert dict(s.sample())["process_cpu_utilisation"] < busy
    finally:
        s.close()
    assert s.cores == 1
    default = ResourceSampler(instance_id="x")
    default.close()
    assert default.cores == len(os.sched_getaffinity(0))


def test_gc_pauses_are_timed_by_the_collectors_hook(sampler: ResourceSampler) -> None:
    gc.disable()  # only the collection below: none while the garbage is made
    try:
        before = time.monotonic()
        sampler.sample()
        after = time.monotonic()
        junk: list[Any] = []
        for _ in range(300_000):  # cycles only the collector frees
            a: list[Any] = []
            a.append(a)
            junk.append(a)
        del junk, a
        t0 = time.perf_counter()
        gc.collect()
        took = time.perf_counter() - t0
        until = time.monotonic()
        values = _values(sampler)
        end = time.monotonic()
    finally:
        gc.enable()
    longest = values["process_gc_pause_seconds"]
    assert 0.5 * took <= longest <= took
    # the sampler's interval lies between after..until and before..end
    assert longest / (end - before) <= values["process_gc_pause_ratio"] <= took / (until - after)
    sampler.close()
    assert sampler._gc not in gc.callbacks


def test_event_loop_lag_is_the_wait_of_a_callback_behind_a_blocked_loop(
    sampler: ResourceSampler,
) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    try:
        t_probe = time.monotonic()
        sampler.watch_loop(loop)
        assert "event_loop_lag_seconds" not in _values(sampler)  # the first probe is sent
        time.sleep(0.1)
        quiet = _values(sampler)["event_loop_lag_seconds"]  # it ran as soon as it could
        assert 0.0 <= quiet <= time.monotonic() - t_probe
        blocked = threading.Event()
        loop.call_soon_threadsafe(lambda: (blocked.set(), time.sleep(0.3)))
        blocked.wait(5)
        t0 = time.monotonic()
        sampler.sample()  # the probe waits behind the sleeping callback
        ran_at = _when_loop_runs(loop)
        lag = _values(sampler)["event_loop_lag_seconds"]
        assert lag == pytest.approx(ran_at - t0, abs=0.02)
        assert lag >= 0.2
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
    assert "event_loop_lag_seconds" not in _values(sampler)  # a closed loop is dropped


def _when_loop_runs(loop: asyncio.AbstractEventLoop) -> float:
    """The monotonic time the loop runs a callback sent now (it runs after the probe)."""
    done = threading.Event()
    at: list[float] = []
    loop.call_soon_threadsafe(lambda: (at.append(time.monotonic()), done.set()))
    done.wait(5)
    return at[0]


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await asyncio.sleep(0.2)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_middleware_reports_time_averaged_in_flight_requests_and_queue_time() -> None:
    s = ResourceSampler(instance_id="web", interval=60)
    app = WatchkeeperMiddleware(_app, registry=CollectorRegistry(), resources=s)
    spans: list[tuple[float, float]] = []

    async def one(delay: float) -> None:
        await asyncio.sleep(delay)
        scope = {"type": "http", "method": "GET", "path": "/", "headers": [
            (b"x-request-start", f"t={time.time() - 0.1:.3f}".encode())]}  # fmt: skip

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            pass

        start = time.monotonic()
        await app(scope, receive, send)
        spans.append((start, time.monotonic()))

    async def run() -> None:
        await asyncio.gather(*(one(0.05 * i) for i in range(4)))

    try:
        s.sample()
        t0 = time.monotonic()
        _run(run())
        values = _values(s)
        t1 = time.monotonic()
        busy = sum(end - start for start, end in spans)  # Little's law: area under in-flight
        assert values["in_flight_requests"] == pytest.approx(busy / (t1 - t0), rel=0.1)
        assert values["request_queue_seconds"] == pytest.approx(0.1, abs=0.05)
        assert s.requests.in_flight == 0
        assert "request_queue_seconds" not in _values(s)  # none since: no queue time
    finally:
        s.close()


def test_queue_time_reads_seconds_milliseconds_and_microseconds() -> None:
    now = time.time()
    stamp = now - 0.25
    for text in (f"t={stamp:.6f}", f"{stamp * 1e3:.0f}", f"t={stamp * 1e6:.0f}"):
        assert queue_seconds([(b"x-request-start", text.encode())], now) == pytest.approx(
            0.25, abs=0.002
        )
    assert queue_seconds([(b"x-request-start", f"{now + 5:.3f}".encode())], now) == 0.0
    assert queue_seconds([(b"x-request-start", b"\xff")], now) is None
    assert queue_seconds([(b"x-request-start", b"3")], now) is None  # hours ago: garbage
    assert queue_seconds([(b"host", b"x")], now) is None


# -- constant cost ----------------------------------------------------------------------


def test_request_stats_keep_constant_state_whatever_the_traffic() -> None:
    stats = RequestStats()
    for _ in range(10_000):
        stats.started(0.01)
        stats.finished()
    _mean, peak, (n, total, longest) = stats.take()
    assert (peak, n, longest) == (1, 10_000, 0.01)
    assert total == pytest.approx(100.0)
    assert not hasattr(stats, "__dict__")  # slots: nothing grows per request


def test_a_sample_is_at_most_one_value_per_point(sampler: ResourceSampler) -> None:
    sampler.requests.attached = True
    sampler.requests.started(0.1)
    sampler.requests.finished()
    for _ in range(3):
        entries = sampler.entries()
        names = [e["name"] for e in entries]
        assert len(names) == len(set(names)) and set(names) <= set(SATURATION)
        assert {e["tags"]["instance_id"] for e in entries} == {"test"}


class _Counting(ResourceSampler):
    samples = 0

    def entries(self) -> list[dict[str, Any]]:
        self.samples += 1
        return super().entries()


def test_the_client_samples_once_per_interval_whatever_it_logs() -> None:
    s = _Counting(instance_id="c", interval=0.2)
    client = Client(f"http://127.0.0.1:{free_port()}", "m", flush_interval=60,
                    batch_size=10**9, resources=s)  # fmt: skip
    try:
        t0 = time.monotonic()
        calls = 0
        while time.monotonic() - t0 < 1.0:
            client.log({"age": 1.0})
            calls += 1
        elapsed = time.monotonic() - t0
        assert 1 <= s.samples <= elapsed / 0.2 + 1 < calls
    finally:
        client.close(timeout=0.1)
    assert s.closed


# -- failures never reach the caller ----------------------------------------------------


class _Broken:
    def __getattr__(self, name: str) -> Any:
        raise psutil.AccessDenied(os.getpid())


def test_failed_readings_are_left_out_counted_and_never_raised(
    sampler: ResourceSampler, caplog: pytest.LogCaptureFixture
) -> None:
    sampler._process = _Broken()
    values = _values(sampler)
    assert "process_memory_rss_bytes" not in values and "process_open_fds" not in values
    assert "process_gc_pause_ratio" in values  # what does not need psutil is still read
    assert sampler.errors == 2 and "AccessDenied" in (sampler.last_error or "")
    assert [r.levelname for r in caplog.records] == ["WARNING"]  # once, then counted
    sampler.clock = lambda: 1 / 0
    assert sampler.entries() == []


def test_a_failing_sampler_never_reaches_the_client_caller(tmp_path: Path) -> None:
    collector = Collector(tmp_path, free_port())
    collector.start()
    s = ResourceSampler(instance_id="broken", interval=0.05)
    s._process = _Broken()
    s.clock = lambda: 1 / 0
    try:
        with Client(collector.url, "m", flush_interval=0.05, resources=s) as client:
            for i in range(20):
                client.log({"age": 40.0}, "a", ids=f"b{i}")
                time.sleep(0.01)
            assert client.flush(10)
            assert client.sent_rows == 20 and client.dropped == 0
            assert client._thread.is_alive()
            assert s.errors > 0
    finally:
        collector.stop()


def test_a_failing_request_counter_never_reaches_the_client() -> None:
    class Exploding(RequestStats):
        def started(self, queued: float | None) -> None:
            raise RuntimeError("boom")

    s = ResourceSampler(instance_id="x")
    s.requests = Exploding()
    registry = CollectorRegistry()
    app = WatchkeeperMiddleware(_app, registry=registry, resources=s)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        _run(app({"type": "http", "method": "GET", "path": "/", "headers": []},
                  receive, send))  # fmt: skip
    finally:
        s.close()
    assert sent[0]["status"] == 200
    assert (
        registry.get_sample_value("watchkeeper_middleware_errors_total", {"stage": "resources"})
        == 1.0
    )


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"interval": 0}, "interval"),
        ({"cores": -1}, "cores"),
        ({"instance_id": ""}, "instance_id"),
        ({"interval": True}, "interval"),
    ],
)
def test_bad_options_name_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        ResourceSampler(**options)
    assert info.value.field == field


def test_resources_false_turns_sampling_off() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", "m", resources=False)
    client.close(timeout=0.1)
    assert client.resources is None


# -- the collector keeps them per instance ----------------------------------------------


def test_samples_of_two_instances_reach_the_collector_as_saturation_points(
    tmp_path: Path,
) -> None:
    collector = Collector(tmp_path, free_port())
    collector.start()
    try:
        clients = [
            Client(
                collector.url,
                "m",
                flush_interval=0.05,
                resources=ResourceSampler(
                    instance_id=name, interval=0.1, clock=lambda: time.time() - 300
                ),
            )
            for name in ("web-1", "web-2")
        ]
        clients[0].log({"age": 40.0}, "a", timestamps=time.time() - 300)
        time.sleep(0.5)
        for client in clients:
            assert client.flush(10)
            client.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            params = {"metric": "process_memory_rss_bytes"}
            reply = httpx.get(f"{collector.url}/v1/models/m/metrics", params=params)
            points = reply.json()["points"]
            if {p["labels"]["instance_id"] for p in points} == {"web-1", "web-2"}:
                break
            time.sleep(0.2)
        by = {(p["labels"]["instance_id"], p["labels"]["stat"]): p["value"] for p in points}
        rss = psutil.Process().memory_info().rss  # both clients run in this process
        for name in ("web-1", "web-2"):
            assert by[(name, "mean")] <= by[(name, "max")]
            assert abs(by[(name, "max")] - rss) < 0.5 * rss
        custom = httpx.get(f"{collector.url}/v1/models/m/metrics",
                           params={"metric": "custom_metric"}).json()["points"]  # fmt: skip
        assert custom == []  # not custom series
    finally:
        collector.stop()


def test_the_middleware_feeds_the_sampler_of_the_client_it_logs_to() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", "m", flush_interval=60)
    try:
        WatchkeeperMiddleware(_app, monitor=client, extract=lambda *a: None,
                              registry=CollectorRegistry())  # fmt: skip
        assert client.resources is not None and client.resources.requests.attached
    finally:
        client.close(timeout=0.1)
    sampler = ResourceSampler(instance_id="x")
    logs_elsewhere = Client(f"http://127.0.0.1:{free_port()}", "m", resources=sampler)
    try:  # no model logging, only the client's sampler
        WatchkeeperMiddleware(_app, registry=CollectorRegistry(), resources=logs_elsewhere)
        assert sampler.requests.attached
    finally:
        logs_elsewhere.close(timeout=0.1)

    with pytest.raises(ConfigError) as info:  # nothing that samples
        WatchkeeperMiddleware(_app, registry=CollectorRegistry(), resources=object())
    assert info.value.field == "resources"
