"""Monitor.unsaved_seq: which write-ahead-log records are not yet all in the store."""

from __future__ import annotations

import numpy as np

from watchkeeper.monitor import ManualClock, Monitor


def _monitor(**kw: object) -> Monitor:
    rng = np.random.default_rng(0)
    ref = {"x": rng.normal(size=2_000), "prediction": rng.random(2_000)}
    kw.setdefault("rollups", ())
    return Monitor("m", reference=ref, store="memory://", clock=ManualClock(), grace=5, **kw)  # type: ignore[arg-type]


def _log(m: Monitor, times: list[float], seq: int, ids: list[str] | None = None) -> None:
    n = len(times)
    m.log({"x": np.zeros(n)}, np.full(n, 0.5), timestamps=np.array(times), seq=seq, ids=ids)


def test_nothing_logged_with_a_seq_means_nothing_unsaved() -> None:
    m = _monitor()
    assert m.unsaved_seq is None
    m.log({"x": np.zeros(3)}, np.full(3, 0.5), timestamps=np.full(3, 1.0))  # no seq
    assert m.unsaved_seq is None


def test_a_window_closing_makes_its_seqs_safe() -> None:
    m = _monitor()
    _log(m, [10.0], seq=1)
    _log(m, [20.0], seq=2)
    assert m.unsaved_seq == 1
    _log(m, [62.0], seq=3)  # window 0 is still in grace (closes at 65)
    assert m.unsaved_seq == 1
    _log(m, [66.0], seq=4)
    assert m.unsaved_seq == 3  # window 0 closed and saved; seqs 3 and 4 are in window 60
    m.tick(200.0)
    assert m.unsaved_seq is None


def test_a_batch_spanning_two_windows_stays_unsaved_until_both_are_saved() -> None:
    m = _monitor()
    _log(m, [10.0, 70.0], seq=7)
    assert m.unsaved_seq == 7
    m.tick(66.0)  # window 0 closes, window 60 still holds part of seq 7
    assert m.unsaved_seq == 7
    assert m.metrics("requests")["value"].tolist() == [1.0]
    m.tick(126.0)
    assert m.unsaved_seq is None


def test_late_rows_are_saved_as_a_correction_in_the_same_call() -> None:
    m = _monitor()
    _log(m, [10.0], seq=1)
    _log(m, [200.0], seq=2)  # closes window 0
    assert m.unsaved_seq == 2
    _log(m, [20.0], seq=3)  # late for window 0: corrected at once
    assert m.unsaved_seq == 2
    assert m.metrics("requests")["value"].tolist() == [2.0]


def test_flush_saves_everything() -> None:
    m = _monitor()
    _log(m, [10.0, 100.0], seq=1)
    m.log_signals([("clicks", 1.0, None, 110.0)], seq=2)
    assert m.unsaved_seq == 1
    m.flush()
    assert m.unsaved_seq is None


def test_kept_predictions_count_until_saved() -> None:
    m = _monitor()
    _log(m, [10.0], seq=1, ids=["a"])
    assert m.unsaved_seq == 1
    m.log_labels(["a"], [0.4])  # saves the kept predictions before the join
    _log(m, [20.0], seq=2)
    assert m.unsaved_seq == 1  # window 0 still holds seq 1's row
    m.tick(100.0)
    assert m.unsaved_seq is None


def test_replayed_and_rejected_batches_leave_nothing_unsaved() -> None:
    m = _monitor()
    _log(m, [10.0], seq=1)
    m.tick(100.0)
    assert m.unsaved_seq is None
    _log(m, [10.0], seq=1)  # the same record replayed: window 0 has counted it
    assert m.unsaved_seq is None
    m.log({"x": np.zeros(2)}, np.full(3, 0.5), timestamps=np.full(2, 120.0), seq=2)
    assert m.rejected_calls == 1 and m.unsaved_seq is None


def test_signals_count_like_rows() -> None:
    m = _monitor()
    m.log_signals([("clicks", 1.0, None, 10.0)], [("switched", 70.0)], seq=4)
    assert m.unsaved_seq == 4
    m.tick(66.0)
    assert m.unsaved_seq == 4
    m.tick(126.0)
    assert m.unsaved_seq is None
