"""LabelJoin: labels joined to kept predictions by id; performance of closed windows."""

from __future__ import annotations

import numpy as np

from watchkeeper.monitor.clock import ManualClock
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.parts import MonitorParts
from watchkeeper.store import MemoryStore, Prediction


def _parts(store: MemoryStore) -> MonitorParts:
    config = MonitorConfig(grace_seconds=0.0, rollup_seconds=(600.0,))
    parts = MonitorParts.build(store, "m", "1", "a", config, ManualClock(1_000.0))
    parts.baseline.set_reference({"x": np.arange(10.0), "prediction": ["no", "yes"] * 5}, now=0.0)
    return parts


def test_labels_join_by_id_and_report_unknown_and_duplicate_ids() -> None:
    store = MemoryStore()
    parts = _parts(store)
    store.save_predictions([Prediction("m", "1", f"p{i}", 10.0 * i, "yes", None) for i in range(3)])
    report = parts.labels.join(["p0", "p1", "nope", "p0"], ["yes", "no", "yes", "no"])
    assert (report.received, report.joined) == (4, 2)
    assert report.unknown_ids == ("nope",)
    assert report.duplicate_ids == ("p0",)
    again = parts.labels.join(np.array(["p1"]), np.array(["yes"]))
    assert again.joined == 0 and again.duplicate_ids == ("p1",)


def test_only_stored_windows_that_are_not_open_are_recomputed() -> None:
    store = MemoryStore()
    parts = _parts(store)
    for start in (0.0, 60.0):
        state = parts.windows.state_for(start)
        assert state is not None
        state.requests = 2
    parts.closer.advance(65.0)  # window 0 closes and is saved, 60 stays open
    store.save_predictions(
        [Prediction("m", "1", "a", 5.0, "yes", None), Prediction("m", "1", "b", 65.0, "no", None)]
    )
    report = parts.labels.join(["a", "b"], ["yes", "yes"])
    assert report.joined == 2
    # window 60 is open (done when it closes); the 10-minute window is not built yet
    assert report.windows_updated == 1
    coverage = store.query_points("m", "label_coverage", window_seconds=60.0)
    assert [(p.window_start, p.value) for p in coverage] == [(0.0, 0.5)]


def test_a_label_count_mismatch_is_an_error_naming_labels() -> None:
    import pytest

    from watchkeeper.errors import ConfigError

    parts = _parts(MemoryStore())
    with pytest.raises(ConfigError, match="labels: 1 labels for 2 ids"):
        parts.labels.join(["a", "b"], ["yes"])
