"""The demo's child processes: the collector and the model service.

Each runs in its own process (its own interpreter lock: the collector's analysis never
waits for the load generator's threads, nor the other way round), on 127.0.0.1, with
its output in a log file of the work directory. Both read their accelerated clock as
one JSON line on stdin once everything is up (:func:`start_clock`), and exit when
stdin closes: if the demo dies, its children do not outlive it. Each context manager
stops what it started, whatever happens: SIGTERM (a graceful shutdown: the collector
flushes its windows), then SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx

from watchkeeper.demo.clock import AcceleratedClock

__all__ = ["Child", "child_process", "free_port", "port_or_free", "read_clock", "start_clock"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_or_free(port: int) -> int:
    """``port`` if it is free on 127.0.0.1 (and not 0), else any free port."""
    if port:
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind(("127.0.0.1", port))
            return port
    return free_port()


class Child:
    """A started child process serving HTTP at ``url``."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.name, self.proc, self.url, self.log = name, proc, url, log

    def tail(self, chars: int = 2_000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def wait_ready(self, path: str, timeout: float = 120.0) -> None:
        """Wait until ``GET path`` answers 200; raise with the log's tail if the process
        exits or the time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the {self.name} exited ({self.proc.returncode}):\n{self.tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the {self.name} did not start in {timeout:g} s:\n{self.tail()}"
                )
            time.sleep(0.1)


def start_clock(child: Child, clock: AcceleratedClock) -> None:
    """Tell a child process the clock, or its new segment after a change of speed (one
    JSON line on its stdin)."""
    assert child.proc.stdin is not None
    child.proc.stdin.write((json.dumps({"clock": clock.to_dict()}) + "\n").encode())
    child.proc.stdin.flush()


def read_clock(clock: AcceleratedClock, *, on_eof: Callable[[], None] | None = None) -> None:
    """In a child: start ``clock`` from the line the demo writes on stdin, in a thread;
    when stdin closes (the demo is gone), ``on_eof`` (default: SIGTERM to ourselves)."""

    def run() -> None:
        for line in sys.stdin:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                clock.update(json.loads(line)["clock"])
        if on_eof is not None:
            on_eof()
        else:
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=run, name="demo-stdin", daemon=True).start()


@contextlib.contextmanager
def child_process(
    name: str, args: Sequence[str], *, port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[Child]:
    """Start ``python -m <args>`` serving on ``port`` (see :meth:`Child.wait_ready`); on
    exit SIGTERM, then SIGKILL after 30 s."""
    out = open(log, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", *args],
        stdin=subprocess.PIPE,
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    try:
        yield Child(name, proc, f"http://127.0.0.1:{port}", log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        out.close()
