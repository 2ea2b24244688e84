"""Saturation of the service process, sampled by the SDK without user code.

A :class:`ResourceSampler` reads, every ``interval`` seconds (5 by default) on the
:class:`~watchkeeper.sdk.client.Client`'s background thread, what the process running
the model uses and how loaded it is, and the client sends the readings to the collector
as custom metrics named after the saturation points (:data:`watchkeeper.metrics.SATURATION`)
and tagged ``instance_id``; the collector keeps them per model, version and instance
(:mod:`watchkeeper.monitor.saturation`), ``/metrics`` exports them and the model page
shows them.

==============================  ===========================================================
point                           one sample is
==============================  ===========================================================
``process_cpu_utilisation``     CPU seconds (user + system) of the process since the last
                                sample / (wall seconds x :attr:`~ResourceSampler.cores`)
``process_memory_rss_bytes``    resident set size now
``process_open_fds``            open file descriptors now (handles on Windows)
``process_threads``             threads now
``process_gc_pause_ratio``      seconds in Python's garbage collector since the last
                                sample / wall seconds (timed by a ``gc.callbacks`` hook)
``process_gc_pause_seconds``    the longest collection since the last sample (0: none)
``event_loop_lag_seconds``      how long the asyncio loop took to run a callback the
                                sampler sent it at the last sample (if it has still not
                                run, the time it has waited so far); only where a loop
                                runs: the client's creator's, or the middleware's
``in_flight_requests``          requests in the middleware, averaged over time since the
                                last sample (only with the middleware)
``request_queue_seconds``       mean wait of the requests started since the last sample,
                                from the proxy's ``X-Request-Start`` header to the
                                middleware (only with the middleware, for requests that
                                carry the header)
==============================  ===========================================================

Process facts come from ``psutil``. Each sample costs the same whatever the traffic
(a handful of system calls, tens of microseconds; the number of open descriptors is
counted by listing them); the hot path pays only the middleware's two counter updates
per request and the garbage collector's hook. Nothing here raises into the caller: a
reading that fails is left out of its sample, counted in :attr:`ResourceSampler.errors`
and logged once.

Notes
-----
``cores`` is the number of CPUs the process may run on (its affinity), so 1.0 means
every one of them busy; a container's CPU quota is not read, pass ``cores`` to count
against it. A single-threaded Python service saturates at ``1 / cores``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

from watchkeeper.errors import ConfigError
from watchkeeper.metrics import INSTANCE_LABEL
from watchkeeper.sdk._request_stats import RequestStats

__all__ = ["DEFAULT_INTERVAL", "ResourceSampler", "default_instance_id", "sampler_for"]

log = logging.getLogger("watchkeeper.sdk")

DEFAULT_INTERVAL = 5.0
"""Seconds between two samples."""
MAX_LOOPS = 4
"""Event loops probed at once (a test client starts a new loop each time: the closed
ones are dropped, and past this the oldest)."""


def default_instance_id() -> str:
    """``host:pid``: one id per process (in Kubernetes the host is the pod's name).

    >>> default_instance_id() == f"{socket.gethostname()}:{os.getpid()}"
    True
    """
    return f"{socket.gethostname()}:{os.getpid()}"


class _GcTimer:
    """A ``gc.callbacks`` hook: total and longest collection time since the last take."""

    __slots__ = ("_began", "longest", "total")

    def __init__(self) -> None:
        self._began = time.perf_counter()
        self.total = 0.0
        self.longest = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            took = time.perf_counter() - self._began
            self.total += took
            if took > self.longest:
                self.longest = took

    def take(self) -> tuple[float, float]:
        total, longest = self.total, self.longest
        self.total = self.longest = 0.0
        return total, longest


class _LoopProbe:
    """Times how long an event loop takes to run a callback sent from another thread."""

    __slots__ = ("_lag", "_sent", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._sent: float | None = None
        self._lag: float | None = None

    def _arrived(self, sent: float) -> None:
        self._lag = time.monotonic() - sent
        self._sent = None

    def read(self, now: float) -> float | None:
        """The last probe's lag (a probe still waiting: how long so far), then send the
        next one unless one is waiting. Raises RuntimeError once the loop is closed."""
        if self.loop.is_closed():
            raise RuntimeError("the event loop is closed")
        sent, lag = self._sent, None
        if sent is not None:
            return now - sent
        lag, self._lag = self._lag, None
        self._sent = now
        self.loop.call_soon_threadsafe(self._arrived, now)
        return lag


class ResourceSampler:
    """Samples the current process's resources for the SDK (see the module docstring).

    Parameters
    ----------
    interval
        Seconds between samples.
    instance_id
        This process among the model's replicas (default :func:`default_instance_id`).
    clock
        Epoch seconds of a sample (``time.time``; a replay passes its simulated clock,
        so samples land in the windows of the rows it logs).
    cores
        CPUs the CPU utilisation is a share of (default: those the process may run on).

    Raises
    ------
    ConfigError
        If ``interval`` or ``cores`` is not a positive number, or ``instance_id`` is empty.

    Examples
    --------
    >>> sampler = ResourceSampler(instance_id="web-1")
    >>> values = dict(sampler.sample())
    >>> rss = psutil.Process().memory_info().rss
    >>> abs(values["process_memory_rss_bytes"] - rss) < 0.1 * rss
    True
    >>> values["process_threads"] >= 1, "in_flight_requests" in values
    (True, False)
    >>> sampler.close()
    """

    def __init__(
        self,
        *,
        interval: float = DEFAULT_INTERVAL,
        instance_id: str | None = None,
        clock: Callable[[], float] = time.time,
        cores: float | None = None,
    ) -> None:
        for field, value in (("interval", interval), ("cores", cores)):
            if value is not None and not (
                isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value) and value > 0
            ):  # fmt: skip
                raise ConfigError(
                    f"{field}: expected a positive number, got {value!r}",
                    field=field,
                    value=value,
                    expected="a positive number",
                )
        if instance_id is not None and not (isinstance(instance_id, str) and instance_id):
            raise ConfigError(
                f"instance_id: expected a non-empty string, got {instance_id!r}",
                field="instance_id",
                value=instance_id,
                expected="a non-empty string, e.g. the pod's name",
            )
        self.interval = float(interval)
        self.instance_id = instance_id or default_instance_id()
        self.clock = clock
        self._process = psutil.Process()
        self.cores = float(cores) if cores is not None else _cores(self._process)
        self.requests = RequestStats()
        self.errors = 0
        self.last_error: str | None = None
        self._probes: list[_LoopProbe] = []
        self._probes_lock = threading.Lock()
        self._gc = _GcTimer()
        gc.callbacks.append(self._gc)
        self._closed = False
        self._wall = time.monotonic()
        self._cpu = self._cpu_seconds()
        self.next_due = self._wall + self.interval
        """``time.monotonic()`` of the next sample."""
        self.watch_current_loop()

    # -- what is watched -------------------------------------------------------------

    def watch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Probe ``loop``'s lag from the next sample on (called from any thread)."""
        with self._probes_lock:
            if any(p.loop is loop for p in self._probes):
                return
            self._probes = [p for p in self._probes if not p.loop.is_closed()]
            self._probes = [*self._probes[-(MAX_LOOPS - 1) :], _LoopProbe(loop)]

    def watch_current_loop(self) -> None:
        """Probe the event loop running in the calling thread, if one is running."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self.watch_loop(loop)

    # -- sampling --------------------------------------------------------------------

    def _cpu_seconds(self) -> float:
        times = self._process.cpu_times()
        return float(times.user + times.system)

    def _failed(self, what: str, exc: Exception) -> None:
        self.errors += 1
        self.last_error = f"{what}: {type(exc).__name__}: {exc}"
        if self.errors == 1:
            log.warning("watchkeeper: reading %s failed (later failures are counted): %s",
                        what, self.last_error)  # fmt: skip

    def sample(self) -> list[tuple[str, float]]:
        """One sample: ``(point, value)`` pairs, each reading since the previous sample.

        Never raises: a reading that fails is left out (counted in :attr:`errors`); a
        closed sampler samples nothing."""
        if self._closed:
            return []
        now = time.monotonic()
        elapsed = now - self._wall
        self._wall = now
        self.next_due = now + self.interval
        out: list[tuple[str, float]] = []
        try:
            with self._process.oneshot():
                cpu = self._cpu_seconds()
                if elapsed > 0:
                    busy = max(0.0, cpu - self._cpu) / (elapsed * self.cores)
                    out.append(("process_cpu_utilisation", busy))
                self._cpu = cpu
                out.append(("process_memory_rss_bytes", float(self._process.memory_info().rss)))
                out.append(("process_threads", float(self._process.num_threads())))
        except Exception as exc:
            self._failed("the process's CPU, memory or threads", exc)
        try:
            process = self._process
            fds = process.num_fds() if hasattr(process, "num_fds") else process.num_handles()
            out.append(("process_open_fds", float(fds)))
        except Exception as exc:
            self._failed("the process's open file descriptors", exc)
        total, longest = self._gc.take()
        if elapsed > 0:
            out.append(("process_gc_pause_ratio", min(1.0, total / elapsed)))
            out.append(("process_gc_pause_seconds", longest))
        lag = self._loop_lag(now)
        if lag is not None:
            out.append(("event_loop_lag_seconds", lag))
        if self.requests.attached:
            mean, _peak, (n, total_wait, _longest) = self.requests.take()
            out.append(("in_flight_requests", mean))
            if n:
                out.append(("request_queue_seconds", total_wait / n))
        return out

    def _loop_lag(self, now: float) -> float | None:
        lags: list[float] = []
        with self._probes_lock:
            probes = list(self._probes)
        for probe in probes:
            try:
                lag = probe.read(now)
            except RuntimeError:  # the loop is closed
                with self._probes_lock:
                    self._probes = [p for p in self._probes if p is not probe]
                continue
            if lag is not None:
                lags.append(lag)
        return max(lags) if lags else None

    def entries(self) -> list[dict[str, Any]]:
        """One sample as the client's metric entries (name, value, tags, timestamp)."""
        try:
            values = self.sample()
            stamp = float(self.clock())
        except Exception as exc:  # a clock that fails: no sample this time
            self._failed("a sample", exc)
            return []
        tags = {INSTANCE_LABEL: self.instance_id}
        return [{"name": name, "value": value, "tags": dict(tags), "timestamp": stamp}
                for name, value in values if math.isfinite(value)]  # fmt: skip

    def close(self) -> None:
        """Remove the garbage-collector hook; the sampler takes no further samples."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(ValueError):  # removed by someone else
                gc.callbacks.remove(self._gc)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed


def _cores(process: Any) -> float:
    """CPUs the process may run on (its affinity where the platform has one)."""
    try:
        return float(len(process.cpu_affinity()) or 1)
    except Exception:  # no affinity on this platform (macOS)
        return float(psutil.cpu_count() or 1)


def sampler_for(resources: bool | ResourceSampler) -> ResourceSampler | None:
    """A client's sampler: the one given, a default one, or none (also when the process's
    facts cannot be read here: logged, and the client works without)."""
    if isinstance(resources, ResourceSampler):
        return resources
    if not resources:
        return None
    try:
        return ResourceSampler()
    except Exception:
        log.warning("watchkeeper: saturation sampling is off", exc_info=True)
        return None
