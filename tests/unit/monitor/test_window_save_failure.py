"""A window state whose save fails (a full disk) is kept and saved again, never dropped.

Dropping it let the next rows of that window reopen its older saved state, claim the
lost rows' seqs (``max_seq``) and clear them from ``unsaved_seq``: the write-ahead log
was truncated past them, or their replay was skipped as already folded in.
"""

from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.errors import StoreError
from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.store import MemoryStore, WindowKey


class FullDisk(MemoryStore):
    """A memory store whose window saves fail while :attr:`full`."""

    def __init__(self) -> None:
        super().__init__()
        self.full = False

    def save_window(self, key: WindowKey, writer: str, blob: bytes, *, now: float) -> None:
        if self.full:
            raise StoreError("save_window failed: database or disk is full")
        super().save_window(key, writer, blob, now=now)


def _monitor(store: FullDisk) -> Monitor:
    rng = np.random.default_rng(0)
    ref = {"x": rng.normal(size=500), "prediction": rng.random(500)}
    clock = ManualClock()
    return Monitor("m", reference=ref, store=store, clock=clock, writer="w", grace=5, rollups=())


def _log(m: Monitor, times: list[float], seq: int) -> None:
    n = len(times)
    m.log({"x": np.zeros(n)}, np.full(n, 0.5), timestamps=np.array(times), seq=seq)


def _requests(m: Monitor) -> dict[float, float]:
    frame = m.metrics("requests")
    return {ts.timestamp(): v for ts, v in zip(frame["window_start"], frame["value"], strict=True)}


def test_a_late_row_after_a_failed_close_keeps_the_rows_of_the_failed_save() -> None:
    store = FullDisk()
    m = _monitor(store)
    _log(m, [10.0], seq=1)
    store.full = True
    _log(m, [100.0], seq=2)  # closes window 0: its save fails
    assert m.rejected_calls == 1
    assert m.unsaved_seq == 1
    store.full = False
    _log(m, [20.0], seq=3)  # late for window 0: saved with seq 1's row, not without it
    assert _requests(m) == {0.0: 2.0}
    assert m.unsaved_seq == 2  # window 60 holds seq 2


def test_a_failed_tick_keeps_every_window_it_closed() -> None:
    store = FullDisk()
    m = _monitor(store)
    _log(m, [10.0], seq=1)
    _log(m, [40.0, 62.0], seq=2)  # windows 0 and 60 open (window 0 closes at 65)
    store.full = True
    with pytest.raises(StoreError):
        m.tick(300.0)  # both close; the first save fails
    assert m.unsaved_seq == 1
    store.full = False
    _log(m, [80.0], seq=3)  # late for window 60: both are saved now
    assert _requests(m) == {0.0: 2.0, 60.0: 2.0}
    assert m.unsaved_seq is None


def test_a_replay_after_a_failed_correction_counts_every_row_once() -> None:
    store = FullDisk()
    m = _monitor(store)
    _log(m, [10.0], seq=1)
    _log(m, [100.0], seq=2)  # window 0 closed and saved
    store.full = True
    _log(m, [20.0], seq=3)  # the correction's save fails
    store.full = False
    _log(m, [30.0], seq=4)  # the next correction carries seq 3's row too
    m.flush()
    assert _requests(m) == {0.0: 3.0, 60.0: 1.0}
    m.close()
    again = _monitor(store)  # a restart replays the log: nothing is counted twice
    for seq, t in enumerate([10.0, 100.0, 20.0, 30.0], start=1):
        _log(again, [t], seq=seq)
    again.flush()
    assert _requests(again) == {0.0: 3.0, 60.0: 1.0}
