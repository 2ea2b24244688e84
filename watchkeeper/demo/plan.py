"""The run's time frame: window size, grace period and start, from the options.

The timeline is counted in windows (:class:`~watchkeeper.demo.incidents.Scenario`, 48
by default), so a shorter ``duration`` gives shorter windows and a higher ``speed`` a
shorter run. Each window gets the same 800 applications and lasts ``window / speed``
real seconds.

The grace period before a window closes is half a window, and at least
:data:`GRACE_REAL_SECONDS` of real time: the collector analyses a window in
milliseconds once the natural spread of its size is known, but simulating a new size
takes a second or more (the first window, a feature going missing, a new version), and
while it runs ingestion waits. Rows that arrive after their window closed are merged in
as corrections, each one analysed again, so a grace shorter than that pause makes the
collector fall further and further behind the replay.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from watchkeeper.demo.incidents import Scenario
from watchkeeper.demo.loadgen import Traffic
from watchkeeper.demo.results import duration_text
from watchkeeper.errors import ConfigError

__all__ = ["MODEL", "DemoOptions", "Plan", "plan"]

MODEL = "credit-risk"
"""The demo model's name in the collector."""
WINDOW_SIZES = (600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400)
"""Window sizes the demo picks from (seconds): the largest whose windows fit the duration."""
MIN_REAL_WINDOW_SECONDS = 1.0
"""A window must last at least this long in real time (requests, labels, analysis)."""
GRACE_REAL_SECONDS = 4.0
"""The least grace period, in real seconds (see the module docstring)."""


@dataclass(frozen=True)
class DemoOptions:
    """``watchkeeper demo`` options (see the CLI's help)."""

    port: int = 8000
    speed: float = 2400.0
    duration: float = 4 * 86400.0
    headless: bool = False
    keep_running: bool = False
    report: Path | None = None
    workdir: Path | None = None
    seed: int = 7


@dataclass(frozen=True)
class Plan:
    """The run's time frame, derived from the options."""

    scenario: Scenario
    window: float
    grace: float
    start: float
    speed: float
    traffic: Traffic

    @property
    def end(self) -> float:
        return self.start + self.scenario.windows * self.window

    @property
    def real_seconds(self) -> float:
        return (self.end - self.start) / self.speed


def plan(options: DemoOptions, now: float | None = None) -> Plan:
    """Window size, grace, start and traffic for the options; raises ConfigError.

    Examples
    --------
    >>> p = plan(DemoOptions(duration=86400.0, speed=1000.0), now=1e9)
    >>> p.window, p.grace, p.scenario.windows, round(p.real_seconds)
    (1800, 4000.0, 48, 86)
    """
    scenario = Scenario()
    fitting = [w for w in WINDOW_SIZES if w * scenario.windows <= options.duration]
    if not fitting:
        need = duration_text(WINDOW_SIZES[0] * scenario.windows)
        raise ConfigError(
            f"--duration: {duration_text(options.duration)} is too short; expected at least "
            f"{need} ({scenario.windows} windows of {duration_text(WINDOW_SIZES[0])})",
            field="duration",
            value=options.duration,
            expected=f">= {need}",
        )
    window = fitting[-1]
    if not options.speed > 0 or window / options.speed < MIN_REAL_WINDOW_SECONDS:
        top = window / MIN_REAL_WINDOW_SECONDS
        raise ConfigError(
            f"--speed: {options.speed:g} runs a {duration_text(window)} window in under "
            f"{MIN_REAL_WINDOW_SECONDS:g} s; expected a speed above 0 and at most {top:g} "
            "(or a longer --duration)",
            field="speed",
            value=options.speed,
            expected=f"0 < speed <= {top:g}",
        )
    grace = float(max(window / 2, round(GRACE_REAL_SECONDS * options.speed)))
    now = time.time() if now is None else now
    start = math.floor((now - scenario.windows * window) / window) * window
    return Plan(scenario, window, grace, start, options.speed, Traffic(float(window)))
