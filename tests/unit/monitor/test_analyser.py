"""Analyser: stored partials merged across writers, analysed, rolled up (memory store)."""

from __future__ import annotations

import numpy as np

from watchkeeper.monitor.analyser import ROLLUP_WRITER, Analyser
from watchkeeper.monitor.analysis import merged_state
from watchkeeper.monitor.baseline import Baseline
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.issues import Issues
from watchkeeper.monitor.windows import RollupSpan
from watchkeeper.store import MemoryStore, WindowKey


def _parts(
    sizes: tuple[float, ...] = (60.0,),
) -> tuple[MemoryStore, Baseline, Analyser, Issues]:
    store = MemoryStore()
    baseline = Baseline(store, "m", "1", MonitorConfig(rollup_seconds=sizes[1:]))
    rng = np.random.default_rng(0)
    baseline.set_reference({"x": rng.normal(size=1_000)}, now=0.0)
    issues = Issues()
    return store, baseline, Analyser(store, baseline, sizes, now=lambda: 0.0, issues=issues), issues


def _save(store: MemoryStore, baseline: Baseline, key: WindowKey, writer: str, n: int) -> None:
    state = baseline.new_state()
    state.requests = n
    store.save_window(key, writer, state.to_bytes(), now=0.0)


def _requests(store: MemoryStore, seconds: float) -> list[float]:
    return [p.value for p in store.query_points("m", "requests", window_seconds=seconds)]


def test_every_writers_partial_is_merged_once_when_read() -> None:
    store, baseline, analyser, _ = _parts()
    key = WindowKey("m", "1", 0.0, 60.0)
    assert merged_state(store, key) is None
    _save(store, baseline, key, "a", 3)
    _save(store, baseline, key, "b", 4)
    merged = merged_state(store, key)
    assert merged is not None and merged.requests == 7
    assert analyser.analyse(key)
    assert _requests(store, 60.0) == [7.0]


def test_a_window_is_analysed_against_the_reference_it_was_opened_with() -> None:
    store, baseline, analyser, _ = _parts()
    first = baseline.reference_id
    key = WindowKey("m", "1", 0.0, 60.0)
    state = baseline.new_state()  # opened on the first reference
    rng = np.random.default_rng(1)
    state.profile.update({"x": rng.normal(size=500)})
    store.save_window(key, "a", state.to_bytes(), now=0.0)
    second = baseline.set_reference({"x": rng.normal(5, 1, 1_000)}, now=1.0)
    assert second != first
    analyser.analyse(key)
    drift = store.query_points("m", "feature_drift")
    assert drift and {p.reference_id for p in drift} == {first}
    assert baseline.reference_by_id(first) is not None
    assert baseline.reference_by_id(first).id == first  # type: ignore[union-attr]


def test_rollups_merge_the_finer_windows_of_each_span() -> None:
    store, baseline, analyser, _ = _parts((60.0, 600.0))
    for start, n in ((0.0, 1), (60.0, 2), (540.0, 3), (600.0, 4)):
        _save(store, baseline, WindowKey("m", "1", start, 60.0), "a", n)
    built = analyser.rollups("m", "1", [RollupSpan(600.0, 60.0, 0.0, 1200.0)])
    assert [(k.start, k.seconds, ok) for k, ok in built] == [
        (0.0, 600.0, True),
        (600.0, 600.0, True),
    ]
    assert _requests(store, 600.0) == [6.0, 4.0]
    assert set(store.window_partials(WindowKey("m", "1", 0.0, 600.0))) == {ROLLUP_WRITER}


def test_a_rollup_of_nothing_is_not_built() -> None:
    _, _, analyser, _ = _parts((60.0, 600.0))
    assert analyser.rollup(WindowKey("m", "1", 0.0, 600.0)) is None
    assert analyser.rollups("m", "1", [RollupSpan(600.0, 60.0, 0.0, 1200.0)]) == []


def test_a_failing_analysis_is_counted_not_raised() -> None:
    class Broken(MemoryStore):
        def labelled(self, *args: object, **kwargs: object):  # type: ignore[override]
            raise RuntimeError("disk on fire")

    store = Broken()
    baseline = Baseline(store, "m", "1", MonitorConfig())
    baseline.set_reference({"x": [1.0, 2.0]}, now=0.0)
    issues = Issues()
    analyser = Analyser(store, baseline, (60.0,), now=lambda: 0.0, issues=issues)
    key = WindowKey("m", "1", 0.0, 60.0)
    _save(store, baseline, key, "a", 1)
    assert analyser.analyse(key) is False
    assert issues.analysis_errors == 1


def test_relabel_rewrites_performance_of_stored_windows_only() -> None:
    store, baseline, analyser, _ = _parts()
    key = WindowKey("m", "1", 0.0, 60.0)
    assert analyser.relabel(key) is False
    _save(store, baseline, key, "a", 4)
    assert analyser.relabel(key) is True
    assert [p.value for p in store.query_points("m", "labelled_rows")] == [0.0]
