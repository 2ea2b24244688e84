"""Kept predictions are saved in bounded chunks as they come, not all at window close."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.monitor.analysis import Task
from watchkeeper.monitor.background import Background
from watchkeeper.monitor.predictions import CHUNK, PendingPredictions
from watchkeeper.store import MemoryStore, Prediction

TASK = Task(prediction="prediction")


def _cols(n: int) -> dict[str, np.ndarray]:
    return {"prediction": np.array(["yes"] * n, dtype=object)}


def test_predictions_are_saved_before_any_window_closes() -> None:
    rng = np.random.default_rng(0)
    ref = {"x": rng.normal(size=500), "prediction": rng.random(500)}
    m = Monitor("m", reference=ref, store="memory://", clock=ManualClock(0.0), window="1h",
                rollups=())  # fmt: skip
    n, batch = CHUNK * 2 + 500, 500
    for seq, start in enumerate(range(0, n, batch), start=1):
        ids = [f"p{i}" for i in range(start, start + batch)]
        m.log({"x": np.zeros(batch)}, np.full(batch, 0.5), ids=ids,
              timestamps=np.full(batch, 1.0), seq=seq)  # fmt: skip
    assert m.wait_analysed(10.0)
    saved = m.store.count_predictions("m", "1", 0.0, 3600.0)
    assert saved >= CHUNK * 2  # in chunks, with the hour's window still open
    assert m.unsaved_seq == 1  # the open window still holds every batch's rows
    m.flush()
    assert m.store.count_predictions("m", "1", 0.0, 3600.0) == n
    assert m.unsaved_seq is None
    m.close()


class SlowStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail = False
        self.saves = 0

    def save_predictions(self, predictions: Sequence[Prediction]) -> None:
        time.sleep(0.005)
        if self.fail:
            raise RuntimeError("database gone")
        self.saves += 1
        super().save_predictions(predictions)


def test_kept_predictions_in_memory_are_bounded_by_a_constant() -> None:
    store = SlowStore()
    background = Background("test-kept")
    pending = PendingPredictions("m", "1", store, background, chunk=10, max_chunks=2)
    most = 0
    for i in range(300):
        pending.keep(_cols(1), [f"p{i}"], np.array([float(i)]), TASK, seq=i)
        most = max(most, len(pending))
    assert most <= 10 * (2 + 1)
    pending.save()
    assert len(pending) == 0 and pending.unsaved_seq is None
    assert store.count_predictions("m", "1", 0.0, 1e9) == 300
    assert store.saves == 30
    background.close()


def test_a_seq_stays_unsaved_until_its_chunk_is_saved_even_after_a_failure() -> None:
    store = SlowStore()
    background = Background("test-kept-fail")
    pending = PendingPredictions("m", "1", store, background, chunk=5)
    store.fail = True
    for i in range(12):
        pending.keep(_cols(1), [f"p{i}"], np.array([float(i)]), TASK, seq=100 + i)
    background.wait()
    assert pending.unsaved_seq == 100  # the failed chunks are kept
    assert len(pending) == 12 and pending.save_errors == 2
    store.fail = False
    pending.save()
    assert pending.unsaved_seq is None and len(pending) == 0
    assert store.count_predictions("m", "1", 0.0, 1e9) == 12
    background.close()


def test_saving_happens_off_the_callers_thread() -> None:
    threads: list[str] = []

    class Recording(MemoryStore):
        def save_predictions(self, predictions: Sequence[Prediction]) -> None:
            threads.append(threading.current_thread().name)
            super().save_predictions(predictions)

    background = Background("test-kept-thread")
    pending = PendingPredictions("m", "1", Recording(), background, chunk=3)
    pending.keep(_cols(3), ["a", "b", "c"], np.array([1.0, 2.0, 3.0]), TASK, seq=1)
    background.wait()
    assert threads == ["test-kept-thread"]
    background.close()
