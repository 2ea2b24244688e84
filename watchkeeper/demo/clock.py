"""The demo's accelerated clock: simulated time runs ``speed`` times faster than real time.

Every part of the demo reads the same formula — the collector (windows close and alert
``for`` durations count in this time), the load generator (each request carries its
simulated time) and the model service (its ``server_load`` reports) — so they agree
without talking to each other: ``sim = sim_start + (time.time() - real_start) * speed``.

The demo paces the replay to the collector (:mod:`watchkeeper.demo.pacing`) with a gate:
simulated time stops at ``until`` (the same simulated instant in every process, so no
message can come too late) until the pacer opens the gate further
(:meth:`AcceleratedClock.open_until`), which starts a new segment of the formula where
the clock stands and sends it to the child processes. The speed can change the same way
(:meth:`AcceleratedClock.set_speed`; 0 holds the clock). A child hears of a change a
little later than the demo; the clock never runs backwards (:meth:`AcceleratedClock.now`
is monotonic), so such a child only stands still for that moment.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

__all__ = ["AcceleratedClock"]


@dataclass
class AcceleratedClock:
    """A :class:`~watchkeeper.monitor.clock.Clock` whose time runs ``speed`` times faster.

    Until :meth:`start` is called, and until its ``real_start`` comes, the clock stands
    still at ``sim_start``. A speed of 0 holds it still; it never passes ``until``.

    Examples
    --------
    >>> clock = AcceleratedClock(sim_start=1_000.0, speed=60.0)
    >>> clock.now()
    1000.0
    >>> clock.start(real_start=time.time() - 2.0).now() >= 1_120.0
    True
    >>> held = clock.set_speed(0.0).now()
    >>> clock.now() == held
    True
    >>> gated = AcceleratedClock(0.0, 1e6, until=10.0).start()
    >>> gated.now() <= 10.0, gated.open_until(20.0).now() <= 20.0
    (True, True)
    """

    sim_start: float
    speed: float
    real_start: float | None = field(default=None)
    until: float = math.inf
    _floor: float = field(default=-float("inf"), repr=False, compare=False)
    # a segment changes in three fields; a reader must not see half of a change
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def start(self, real_start: float | None = None) -> AcceleratedClock:
        """Let time run from ``real_start`` (default: now); returns self."""
        self.real_start = time.time() if real_start is None else real_start
        return self

    def _formula(self, real: float) -> float:
        if self.real_start is None:
            return min(self.sim_start, self.until)
        return min(self.until, self.sim_start + max(0.0, real - self.real_start) * self.speed)

    def now(self) -> float:
        """Simulated epoch seconds (never less than a value returned before)."""
        with self._lock:
            value = max(self._floor, self._formula(time.time()))
            self._floor = value
            return value

    def set_speed(self, speed: float) -> AcceleratedClock:
        """Run at ``speed`` from now on (0: stand still), continuing from the current
        simulated time; returns self. The clock must have started."""
        if self.real_start is None:
            raise RuntimeError("the clock has not started")
        with self._lock:
            real = time.time()
            self.sim_start = max(self._floor, self._formula(real))
            self.real_start = real
            self.speed = speed
        return self

    def open_until(self, until: float) -> AcceleratedClock:
        """Move the gate to ``until``, the clock going on from where it stands (at the old
        gate, typically); returns self. The clock must have started."""
        if self.real_start is None:
            raise RuntimeError("the clock has not started")
        with self._lock:
            real = time.time()
            self.sim_start = max(self._floor, self._formula(real))
            self.real_start = real
            self.until = until
        return self

    def update(self, doc: dict[str, float | None]) -> AcceleratedClock:
        """Take a segment sent by :meth:`to_dict` (in a child process); returns self."""
        real_start = doc.get("real_start")
        with self._lock:
            self.sim_start = float(doc["sim_start"] or 0.0)
            self.speed = float(doc["speed"] or 0.0)
            self.real_start = time.time() if real_start is None else float(real_start)
            until = doc.get("until")
            self.until = math.inf if until is None else float(until)
        return self

    def real_at(self, sim: float) -> float:
        """The real epoch time at which the simulated time ``sim`` is reached at the
        current speed (infinite while the clock stands still)."""
        if self.real_start is None:
            raise RuntimeError("the clock has not started")
        if self.speed <= 0:
            return float("inf") if sim > self.sim_start else self.real_start
        return self.real_start + (sim - self.sim_start) / self.speed

    def to_dict(self) -> dict[str, float | None]:
        with self._lock:
            return {
                "sim_start": self.sim_start,
                "speed": self.speed,
                "real_start": self.real_start,
                "until": None if math.isinf(self.until) else self.until,
            }
