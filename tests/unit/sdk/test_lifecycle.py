"""What the SDK costs its host: it never raises, a closed or idle client's thread sleeps,
and a process exits promptly with what is left spooled."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest
from conftest import free_port
from scripted_server import scripted_server

from watchkeeper.sdk.client import Client


def _thread_cpu(thread: threading.Thread) -> float:
    """CPU seconds used so far by ``thread`` (0 once it has ended)."""
    for t in psutil.Process().threads():
        if t.id == thread.native_id:
            return float(t.user_time + t.system_time)
    return 0.0


def test_bad_calls_never_raise_and_are_counted() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    client = Client(f"http://127.0.0.1:{free_port()}", "m", flush_interval=60)
    try:
        client.log_metric("x", 1.0, tags=5)  # type: ignore[arg-type]
        client.log_metric("x", "abc")  # type: ignore[arg-type]
        client.log_metric("x", float("nan"))
        client.log_metric(Unprintable(), 1.0)  # type: ignore[arg-type]
        client.log_event(Unprintable())  # type: ignore[arg-type]
        client.log_event("e", timestamp=object())  # type: ignore[arg-type]
        client.log_labels(5, [1])
        client.log_labels(["a", "b"], [1])
        assert client.dropped == 8
        assert "log_labels" in (client.last_error or "")
        client.log_metric("ok", 2, {"app": "ios"})
        client.log_event("ok")
        assert client.dropped == 8
    finally:
        client.close(timeout=0.1)


@pytest.mark.slow  # measures CPU or a fresh interpreter over seconds
def test_a_closed_client_with_an_unreachable_collector_uses_no_cpu() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", "m", flush_interval=3600,
                    batch_size=10**9, queue_size=10**6)  # fmt: skip
    for i in range(5_000):  # the old quadratic encoding spun on these for minutes
        client.log({f"f{j}": float(i + j) for j in range(25)}, 0.5, latency=0.01)
    client.close(timeout=0.1)
    time.sleep(0.5)  # the encoding of what was queued may still finish
    before, t0 = _thread_cpu(client._thread), time.monotonic()
    time.sleep(2.0)
    used = _thread_cpu(client._thread) - before
    assert used < 0.05 * (time.monotonic() - t0), f"{used:.2f} CPU-s in 2 s"


@pytest.mark.slow  # measures CPU or a fresh interpreter over seconds
def test_an_idle_client_with_a_failing_collector_uses_no_cpu() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", "m", flush_interval=0.05, max_backoff=0.5)
    try:
        client.log({"age": 1.0})  # one body, retried with backoff for good
        time.sleep(0.5)
        before, t0 = _thread_cpu(client._thread), time.monotonic()
        time.sleep(2.0)
        used = _thread_cpu(client._thread) - before
        assert used < 0.05 * (time.monotonic() - t0), f"{used:.2f} CPU-s in 2 s"
        assert len(client.spool) == 1
    finally:
        client.close(timeout=0.1)


@pytest.mark.slow  # measures CPU or a fresh interpreter over seconds
def test_a_process_exits_within_a_second_with_the_rest_spooled(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import atexit, time
        atexit.register(lambda: print("exit-hooks", time.monotonic() - t_end))  # runs last
        from watchkeeper.sdk.client import Client
        client = Client("http://127.0.0.1:{free_port()}", "m", spool_dir={str(tmp_path)!r})
        for i in range(1_000):
            client.log({{"age": float(i)}}, "a", ids=str(i))
        t_end = time.monotonic()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    spent = float(out.stdout.split("exit-hooks")[1])
    rows = sum(
        int(f.read_bytes().partition(b"\n")[0].split(b" ")[1]) for f in tmp_path.glob("*.body")
    )
    assert rows == 1_000  # nothing lost
    assert spent < 2.5, f"the exit hooks took {spent:.2f} s"  # 1 s by default, slack for load


def test_a_row_the_collector_would_refuse_is_dropped_alone() -> None:
    import datetime as dt
    import decimal

    with scripted_server() as server, Client(server.url, "m", flush_interval=0.05) as client:
        client.log({"age": 1.0}, latency=-1.0)  # refused by the collector: dropped here
        client.log({"age": 2.0}, timestamps=10**400)
        client.log({"age": 3.0}, timestamps=object())
        client.log({"age": 4.0}, timestamps=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        client.log({"age": decimal.Decimal("5")}, error=ValueError("x"))
        client.log({"age": 6.0}, tags={"app": "ios"}, timestamps=dt.datetime(2026, 1, 1))
        assert client.flush(20)
        assert client.dropped == 3 and "timestamp" in (client.last_error or "")
        assert client.sent_rows == 3 and client.rejected == 0


@pytest.mark.slow  # a fresh interpreter and a request left hanging
def test_exit_is_prompt_even_when_the_collector_hangs(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        port = silent.getsockname()[1]
        script = textwrap.dedent(f"""
            import atexit, time
            atexit.register(lambda: print("exit-hooks", time.monotonic() - t_end))
            from watchkeeper.sdk.client import Client
            client = Client("http://127.0.0.1:{port}", "m", spool_dir={str(tmp_path)!r},
                            flush_interval=0.05)
            for i in range(1_000):
                client.log({{"age": float(i)}}, "a", ids=str(i))
            time.sleep(0.5)  # the sender now waits on the silent collector (10 s timeout)
            for i in range(1_000, 2_000):
                client.log({{"age": float(i)}}, "a", ids=str(i))
            t_end = time.monotonic()
        """)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=60, check=True)  # fmt: skip
    spent = float(out.stdout.split("exit-hooks")[1])
    rows = sum(
        int(f.read_bytes().partition(b"\n")[0].split(b" ")[1]) for f in tmp_path.glob("*.body")
    )
    assert rows == 2_000  # the body in flight stays spooled, the queue is spooled at exit
    assert spent < 2.5, f"the exit hooks took {spent:.2f} s"
