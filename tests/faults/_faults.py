"""Helpers of the faults suite: a `watchkeeper serve` process, a real small tmpfs, a
stream of acknowledged batches, and the figures each fault reports.

Every fault test ends with :func:`report`, one line: acknowledged / stored / lost /
doubled rows, printed (``pytest -s`` shows it) and checked (nothing lost or doubled).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml
from conftest import wait_http

MODEL = "churn"
SCHEMA = {
    "age": "numeric",
    "plan": "categorical",
    "prediction": {"kind": "categorical", "role": "output"},
}


class Collector:
    """One `watchkeeper serve` subprocess on a port."""

    def __init__(self, config: Path, port: int, *, wait: bool = True) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        log = config.parent / f"serve-{port}-{time.monotonic_ns()}.log"
        self.log_path = log
        self._log = open(log, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper.cli", "serve", "--config", str(config),
             "--port", str(port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        if wait:
            wait_http(f"{self.url}/readyz", timeout=60)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self) -> bool:
        """SIGTERM and wait; whether the shutdown was clean (uvicorn ends by raising
        the signal again, so -SIGTERM is a clean exit, as is 0)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self._log.close()
        failed = "Application shutdown failed" in self.log_path.read_text()
        return self.proc.returncode in (0, -signal.SIGTERM) and not failed


def write_config(
    path: Path, *, store: str, wal_dir: str, writer: str = "collector", **model: Any
) -> Path:
    """A collector config: one model with a declared schema, 1-minute windows."""
    spec = {"schema": SCHEMA, "grace": "2s", "rollups": [], **model}
    doc = {
        "store": store,
        "wal_dir": wal_dir,
        "writer": writer,
        "tick_seconds": 0.2,
        "models": {MODEL: spec},
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def batch(tag: str, n: int, t0: float, **extra: Any) -> dict[str, Any]:
    """``n`` rows with ids ``<tag>-<i>`` at event times from ``t0``."""
    return {
        "rows": [
            {
                "features": {"age": 40.0 + i % 7, "plan": "free"},
                "outputs": {"prediction": "stay"},
                "id": f"{tag}-{i}",
                "timestamp": t0 + i * 1e-3,
                "latency": 0.01,
            }
            | extra
            for i in range(n)
        ]
    }


def stored_requests(url: str) -> float:
    """Rows counted in the store's windows (every writer's partials merged)."""
    r = httpx.get(f"{url}/v1/models/{MODEL}/metrics", params={"metric": "requests"}, timeout=30)
    r.raise_for_status()
    return float(sum(p["value"] for p in r.json()["points"]))


def report(fault: str, acknowledged: int, stored: float) -> None:
    """Print and check the fault's figures: nothing lost, nothing doubled."""
    lost = max(0, acknowledged - int(stored))
    doubled = max(0, int(stored) - acknowledged)
    print(
        f"\nfault {fault}: acknowledged {acknowledged} / stored {int(stored)} / "
        f"lost {lost} / doubled {doubled}"
    )
    assert (lost, doubled) == (0, 0), fault


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "8m") -> Iterator[Path]:
    """A real tmpfs of ``size`` mounted at ``path`` (the test run is root), unmounted
    at the end whatever happens."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(directory: Path, leave_bytes: int) -> Path:
    """Fill the file system of ``directory`` up to ``leave_bytes`` free; the filler
    file is returned (delete it to free the space). The collector may write meanwhile
    and fill the disk first: then the filler gives ``leave_bytes`` back."""
    filler = directory / "filler"
    free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
    want = max(0, free - leave_bytes)
    with open(filler, "ab", buffering=0) as f:
        try:
            written = f.write(b"\0" * want)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            written = 0
        if written is not None and written < want:  # the disk is full: leave the room
            os.ftruncate(f.fileno(), max(0, os.fstat(f.fileno()).st_size - leave_bytes))
    return filler


def can_mount() -> bool:
    """Whether this run may mount a tmpfs (root on Linux)."""
    return sys.platform == "linux" and os.geteuid() == 0
