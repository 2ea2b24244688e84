"""What the demo prints while it runs: the progress line fits the room left by the bar."""

from __future__ import annotations

from pathlib import Path

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


def test_after_a_failure_the_work_dir_and_the_collector_logs_end_are_shown(
    tmp_path: Path,
) -> None:
    import io

    from rich.console import Console

    from watchkeeper.demo.runner import _show_leftovers

    lines = [f"2026-12-01 line {i}" for i in range(50)]
    (tmp_path / "collector.log").write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    _show_leftovers(Console(file=out, width=200), tmp_path, lines=5)
    text = out.getvalue()
    assert f"the work directory is kept: {tmp_path}" in text
    assert all(line in text for line in lines[-5:]) and lines[-6] not in text
