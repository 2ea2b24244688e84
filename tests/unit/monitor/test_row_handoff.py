"""Single rows: the caller only appends; full buffers are folded on the analyser thread."""

from __future__ import annotations

import threading
import time

import numpy as np

from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.ingest import MAX_HANDED
from watchkeeper.monitor.parts import MonitorParts
from watchkeeper.store import MemoryStore, WindowKey


class SlowFold(MemoryStore):
    """A store whose read of a window's partials (done when a fold opens a window) records
    the thread and blocks until released."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def window_partials(self, key: WindowKey) -> dict[str, bytes]:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        self.release.wait(10.0)
        return super().window_partials(key)


def _monitor(store: MemoryStore, **options: object) -> Monitor:
    rng = np.random.default_rng(0)
    ref = {"x": rng.normal(size=500), "prediction": rng.random(500)}
    return Monitor("m", reference=ref, store=store, clock=ManualClock(1_000.0), grace=0,
                   rollups=(), batch_size=8, **options)  # type: ignore[arg-type]  # fmt: skip


def test_a_full_buffer_is_folded_off_the_callers_thread() -> None:
    store = SlowFold()
    m = _monitor(store)
    for i in range(8):  # fills the buffer: its fold opens window 0 and blocks there
        m.log({"x": float(i)}, 0.5, timestamps=1.0 + i)
    assert store.entered.wait(5.0)
    assert store.threads == ["watchkeeper-analyser-m-1"]
    t0 = time.perf_counter()
    for i in range(20):  # appended while the fold holds the monitor's lock
        m.log({"x": float(i)}, 0.5, timestamps=10.0 + i)
    assert time.perf_counter() - t0 < 2.0
    store.release.set()
    m.flush()
    assert m.metrics("requests")["value"].tolist() == [28.0]
    assert m.rejected_calls == 0
    m.close()


def test_batches_and_signals_after_single_rows_fold_them_first_in_order() -> None:
    store = SlowFold()
    store.release.set()
    m = _monitor(store, max_future_skew=None)
    for i in range(8):  # one full buffer, handed off, in window 0
        m.log({"x": float(i)}, 0.5, timestamps=1.0 + i)
    m.log({"x": np.zeros(3)}, np.full(3, 0.5), timestamps=np.full(3, 61.0))  # closes window 0
    m.log_metric("clicks", 1.0, timestamp=62.0)
    m.flush()
    # the buffer was folded before the batch closed its window: no late rows, no correction
    assert m.metrics("requests")["value"].tolist() == [8.0, 3.0]
    assert m.late_dropped == 0
    m.close()


def test_wait_analysed_covers_the_windows_a_handed_off_buffer_closes() -> None:
    m = _monitor(MemoryStore())
    for i in range(16):  # the second buffer's rows close the first minute
        m.log({"x": float(i)}, 0.5, timestamps=30.0 + 4 * i)
    assert m.wait_analysed(10.0)
    assert m.metrics("requests")["value"].tolist() == [8.0]
    m.close()


def test_a_backlog_of_handed_buffers_is_folded_by_the_caller() -> None:
    config = MonitorConfig(grace_seconds=5.0, rollup_seconds=(), batch_size=1)
    parts = MonitorParts.build(MemoryStore(), "m", "1", "a", config, ManualClock(30.0))
    busy = threading.Event()
    parts.background.submit(lambda: busy.wait(10.0))  # the background is busy elsewhere
    rows = MAX_HANDED + 1
    for i in range(rows):
        assert parts.ingestion.offer({"x": float(i)}, 0.5, None, 1.0, None, None, None, None)
    state = parts.windows.state_for(0.0)
    assert state is not None and state.requests == rows  # folded here, in order, bounded
    busy.set()
    assert parts.background.wait(10.0)
    assert state.requests == rows  # the fold jobs found nothing left to fold
    parts.background.close()


def test_threads_logging_single_rows_and_ticking_count_every_row_once() -> None:
    m = _monitor(MemoryStore(), max_future_skew=None)
    rows_per_thread, threads = 2_000, 4

    def write(k: int) -> None:
        for i in range(rows_per_thread):
            m.log({"x": float(i)}, 0.5, timestamps=float(i % 240))

    def tick() -> None:
        for _ in range(20):
            m.tick(0.0)  # takes the monitor's lock while rows are handed off

    pool = [threading.Thread(target=write, args=(k,)) for k in range(threads)]
    pool.append(threading.Thread(target=tick))
    for t in pool:
        t.start()
    for t in pool:
        t.join(60.0)
    m.flush()
    assert m.rejected_calls == 0 and m.late_dropped == 0
    assert m.metrics("requests")["value"].sum() == rows_per_thread * threads
    m.close()
