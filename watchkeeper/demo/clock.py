"""The demo's accelerated clock: simulated time runs ``speed`` times faster than real time.

Every part of the demo reads the same formula — the collector (windows close and alert
``for`` durations count in this time), the load generator (each request carries its
simulated time) and the model service (its ``server_load`` reports) — so they agree
without talking to each other: ``sim = sim_start + (time.time() - real_start) * speed``.

The demo paces the replay to the collector (:mod:`watchkeeper.demo.pacing`): it changes
the speed (0 holds simulated time still) with :meth:`AcceleratedClock.set_speed`, which
starts a new segment of the formula where the old one is now, and sends the new segment
to the child processes. A child hears of it a little later than the demo; the clock never
runs backwards (:meth:`AcceleratedClock.now` is monotonic), so such a child only stands
still for that moment.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

__all__ = ["AcceleratedClock"]


@dataclass
class AcceleratedClock:
    """A :class:`~watchkeeper.monitor.clock.Clock` whose time runs ``speed`` times faster.

    Until :meth:`start` is called, and until its ``real_start`` comes, the clock stands
    still at ``sim_start``. A speed of 0 holds it still.

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
    """

    sim_start: float
    speed: float
    real_start: float | None = field(default=None)
    _floor: float = field(default=-float("inf"), repr=False, compare=False)
    # a segment changes in three fields; a reader must not see half of a change
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def start(self, real_start: float | None = None) -> AcceleratedClock:
        """Let time run from ``real_start`` (default: now); returns self."""
        self.real_start = time.time() if real_start is None else real_start
        return self

    def _formula(self, real: float) -> float:
        if self.real_start is None:
            return self.sim_start
        return self.sim_start + max(0.0, real - self.real_start) * self.speed

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

    def update(self, doc: dict[str, float | None]) -> AcceleratedClock:
        """Take a segment sent by :meth:`to_dict` (in a child process); returns self."""
        real_start = doc.get("real_start")
        with self._lock:
            self.sim_start = float(doc["sim_start"] or 0.0)
            self.speed = float(doc["speed"] or 0.0)
            self.real_start = time.time() if real_start is None else float(real_start)
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
        return {"sim_start": self.sim_start, "speed": self.speed, "real_start": self.real_start}
