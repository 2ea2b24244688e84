"""What the demo prints while it runs: the progress line fits the room left by the bar."""

from __future__ import annotations

import pytest

from watchkeeper.demo.display import _progress_line
from watchkeeper.demo.plan import DemoOptions, plan

P = plan(DemoOptions(duration=86400.0, speed=1000.0), now=1.8e9)


@pytest.mark.parametrize("width", [20, 40, 80])
def test_the_progress_line_is_cut_to_its_room_whatever_the_incident_names(width: int) -> None:
    overload = P.scenario.incident("overload")
    now = P.start + (overload.start + 0.5) * P.window
    line = _progress_line(P, now, width)
    assert len(line) <= width
    full = _progress_line(P, now, 1_000)
    assert "6. overload" in full and full.startswith(line.rstrip("…"))


def test_the_progress_line_names_the_window_and_normal_traffic() -> None:
    line = _progress_line(P, P.start + 0.5 * P.window, 200)
    assert f"window 1/{P.scenario.windows}" in line and line.endswith("normal traffic")
