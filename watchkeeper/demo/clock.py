"""The demo's accelerated clock: simulated time runs ``speed`` times faster than real time.

Every part of the demo reads the same formula — the collector (windows close and alert
``for`` durations count in this time), the load generator (each request carries its
simulated time) and the model service (its ``server_load`` reports) — so they agree
without talking to each other: ``sim = sim_start + (time.time() - real_start) * speed``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["AcceleratedClock"]


@dataclass
class AcceleratedClock:
    """A :class:`~watchkeeper.monitor.clock.Clock` whose time runs ``speed`` times faster.

    Until :meth:`start` is called, and until its ``real_start`` comes, the clock stands
    still at ``sim_start``.

    Examples
    --------
    >>> clock = AcceleratedClock(sim_start=1_000.0, speed=60.0)
    >>> clock.now()
    1000.0
    >>> clock.start(real_start=time.time() - 2.0).now() >= 1_120.0
    True
    """

    sim_start: float
    speed: float
    real_start: float | None = field(default=None)

    def start(self, real_start: float | None = None) -> AcceleratedClock:
        """Let time run from ``real_start`` (default: now); returns self."""
        self.real_start = time.time() if real_start is None else real_start
        return self

    def now(self) -> float:
        """Simulated epoch seconds."""
        if self.real_start is None:
            return self.sim_start
        return self.sim_start + max(0.0, time.time() - self.real_start) * self.speed

    def real_at(self, sim: float) -> float:
        """The real epoch time at which the simulated time ``sim`` is reached."""
        if self.real_start is None:
            raise RuntimeError("the clock has not started")
        return self.real_start + (sim - self.sim_start) / self.speed

    def to_dict(self) -> dict[str, float | None]:
        return {"sim_start": self.sim_start, "speed": self.speed, "real_start": self.real_start}
