"""Windows: the window arithmetic on its own, with no store and no analysis."""

from __future__ import annotations

import math

import pytest

from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.window import WindowState
from watchkeeper.monitor.windows import RollupSpan, Windows
from watchkeeper.profile import DatasetProfile
from watchkeeper.schema import Schema


def _windows(**options: float | tuple[float, ...]) -> tuple[Windows, list[float]]:
    opened: list[float] = []

    def open_state(start: float) -> WindowState:
        opened.append(start)
        return WindowState(DatasetProfile(Schema(())))

    options.setdefault("rollup_seconds", ())
    config = MonitorConfig(window_seconds=60.0, grace_seconds=10.0, **options)  # type: ignore[arg-type]
    return Windows(config, open_state), opened


def test_a_window_closes_when_the_watermark_passes_its_end_plus_grace() -> None:
    windows, opened = _windows()
    state = windows.state_for(0.0)
    assert windows.state_for(0.0) is state and opened == [0.0]
    assert windows.advance(69.9) == []
    assert windows.is_open(0.0)
    assert windows.advance(70.0) == [(0.0, state)]
    assert not windows.is_open(0.0)
    assert windows.watermark == 70.0
    windows.advance(5.0)  # the watermark never goes back
    assert windows.watermark == 70.0


def test_windows_close_oldest_first_and_close_all_takes_every_open_one() -> None:
    windows, _ = _windows()
    for start in (120.0, 0.0, 60.0):
        windows.state_for(start)
    assert [s for s, _ in windows.advance(130.0)] == [0.0, 60.0]
    assert [s for s, _ in windows.close_all()] == [120.0]
    assert windows.close_all() == []


def test_rows_for_a_closed_window_go_to_a_late_state_taken_once() -> None:
    windows, opened = _windows()
    windows.state_for(0.0)
    windows.advance(100.0)
    late = windows.state_for(0.0)
    assert late is not None and not windows.is_open(0.0)
    assert opened == [0.0, 0.0]  # reopened from what the caller saved
    assert windows.take_late() == [(0.0, late)]
    assert windows.take_late() == []


def test_a_replayed_seq_is_skipped_per_window() -> None:
    windows, _ = _windows()
    assert windows.state_for(0.0, seq=5) is not None
    assert windows.state_for(0.0, seq=5) is None
    assert windows.state_for(0.0, seq=4) is None
    assert windows.state_for(60.0, seq=5) is not None  # another window has not seen it
    assert windows.state_for(0.0, seq=6) is not None


def test_unsaved_seq_is_the_lowest_seq_in_a_state_not_saved_since() -> None:
    windows, _ = _windows()
    assert windows.unsaved_seq is None
    windows.state_for(0.0, seq=3)
    windows.state_for(60.0, seq=3)  # one batch over two windows
    windows.state_for(60.0, seq=4)
    assert windows.unsaved_seq == 3
    windows.advance(70.0)
    assert windows.unsaved_seq == 3  # closed but not saved yet
    windows.saved(0.0)
    assert windows.unsaved_seq == 3  # window 60 still holds part of seq 3
    windows.saved(60.0)
    assert windows.unsaved_seq is None
    assert windows.last_closed == 60.0


def test_rows_past_window_retention_are_too_late() -> None:
    windows, _ = _windows(window_retention_seconds=300.0)
    windows.advance(1000.0)
    assert windows.too_late(600.0)  # ends at 660 <= 1000 - 300
    assert not windows.too_late(660.0)


def test_rollup_spans_cover_ended_coarser_windows_once() -> None:
    windows, _ = _windows(rollup_seconds=(600.0, 3600.0))
    windows.state_for(0.0)
    windows.advance(605.0)
    assert windows.rollup_spans(final=False) == []  # the first 10 minutes end at 600 + grace
    windows.advance(1300.0)
    assert windows.rollup_spans(final=False) == [RollupSpan(600.0, 60.0, 0.0, 1200.0)]
    assert windows.rollup_spans(final=False) == []
    final = windows.rollup_spans(final=True)
    assert final == [
        RollupSpan(600.0, 60.0, 1200.0, 1e18),
        RollupSpan(3600.0, 600.0, 0.0, 1e18),
    ]
    assert windows.rollup_spans(final=True) == final  # final spans are not marked done


def test_ended_rollups_of_a_corrected_window() -> None:
    windows, _ = _windows(rollup_seconds=(600.0, 3600.0))
    windows.advance(605.0)
    assert windows.ended_rollups(30.0) == []  # the first 10 minutes end at 600 + grace
    windows.advance(1000.0)
    assert windows.ended_rollups(30.0) == [(0.0, 600.0)]
    windows.advance(3610.0)
    assert windows.ended_rollups(30.0) == [(0.0, 600.0), (0.0, 3600.0)]


def test_purge_is_due_hourly_or_every_window_retention() -> None:
    windows, _ = _windows(window_retention_seconds=300.0)
    windows.advance(100.0)
    assert windows.purge_due()  # the first time
    assert not windows.purge_due()
    windows.advance(399.0)
    assert not windows.purge_due()
    windows.advance(400.0)
    assert windows.purge_due()


@pytest.mark.parametrize(("ts", "start"), [(59.9, 0.0), (60.0, 60.0), (-1.0, -60.0)])
def test_start_of_floors_to_the_window(ts: float, start: float) -> None:
    windows, _ = _windows()
    assert windows.start_of(ts) == start
    assert windows.start_of(ts, 3600.0) == math.floor(ts / 3600.0) * 3600.0
