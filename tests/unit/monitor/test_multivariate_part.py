"""The Monitor's multivariate part: row reservoirs per window and per reference, the
multivariate points, the root causes, the stored reference sample, alert evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from watchkeeper.alerts.engine import AlertEngine, AlertEvent
from watchkeeper.alerts.rules import parse_rules
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.monitor.multivariate import ID_COLUMN, top_causes
from watchkeeper.monitor.window import merged_state
from watchkeeper.profile import profile_table
from watchkeeper.profile.bundle import pack_reference, unpack_reference
from watchkeeper.profile.reservoir import Reservoir
from watchkeeper.store import MemoryStore, WindowKey

W = 60.0
PAIR = ("income", "spend")
MV = {"n_permutations": 9, "max_iter": 15, "max_rows": 400}


def _rows(rng: np.random.Generator, n: int, rho: float) -> dict[str, np.ndarray]:
    x = rng.normal(size=n)
    return {
        "age": rng.normal(40, 10, n),
        "tenure": rng.normal(5, 2, n),
        PAIR[0]: x,
        PAIR[1]: rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n),
        "city": rng.choice(["oslo", "rome", "lima"], n),
    }


def _monitor(rng: np.random.Generator, store: MemoryStore, **kw) -> Monitor:
    return Monitor("m", reference=_rows(rng, 4_000, 0.8), store=store, clock=ManualClock(),
                   grace=0, rollups=(), max_future_skew=None, **kw)  # fmt: skip


def _window(m: Monitor, rng: np.random.Generator, w: int, rho: float, n: int = 800) -> None:
    ids = [f"{w}-{i}" for i in range(n)]
    m.log(_rows(rng, n, rho), ids=ids, timestamps=w * W + rng.uniform(0, W, n))
    m.tick((w + 1) * W)


@pytest.fixture(scope="module")
def flipped() -> Monitor:
    rng = np.random.default_rng(5)
    m = _monitor(rng, MemoryStore(), multivariate=MV)
    for w in range(8):
        _window(m, rng, w, -0.8 if w >= 5 else 0.8)
    yield m
    m.close()


def _by_window(m: Monitor, name: str, **labels: str) -> dict[float, float]:
    frame = m.metrics(name, **labels)
    return {t.timestamp(): v for t, v in zip(frame["window_start"], frame["value"], strict=True)}


def test_a_correlation_flip_is_flagged_by_the_multivariate_part_only(flipped: Monitor) -> None:
    pca = _by_window(flipped, "multivariate_drifted", method="pca")
    assert [pca[w * W] for w in range(8)] == [0.0] * 5 + [1.0] * 3
    classifier = _by_window(flipped, "multivariate_drifted", method="domain_classifier")
    assert {w: classifier[w * W] for w in range(5, 8)} == {5: 1.0, 6: 1.0, 7: 1.0}
    assert all(w * W not in classifier for w in range(5))  # on_alarm: quiet windows skip it
    univariate = flipped.metrics("feature_drifted")
    pair = univariate[univariate["feature"].isin(PAIR)]
    assert pair["value"].sum() == 0


def test_the_root_causes_name_the_pair_first(flipped: Monitor) -> None:
    for w in range(5, 8):
        causes = top_causes(flipped.store, "m", "1", W, w * W)
        assert {c["feature"] for c in causes[:2]} == set(PAIR), causes
    assert top_causes(flipped.store, "m", "1", W, 0.0) == []


def test_each_window_stores_a_bounded_sample_with_the_ids(flipped: Monitor) -> None:
    state = merged_state(flipped.store, WindowKey("m", "1", 6 * W, W))
    assert state is not None and state.sample is not None
    assert len(state.sample) == 800 and state.sample.seen == 800
    rows = state.sample.rows()
    assert set(rows[ID_COLUMN]) == {f"6-{i}" for i in range(800)}
    assert set(PAIR) <= set(rows.columns)


def test_a_window_sample_is_capped_at_reservoir_size() -> None:
    rng = np.random.default_rng(1)
    m = _monitor(rng, MemoryStore(), multivariate={**MV, "classifier": "never"},
                 reservoir_size=100)  # fmt: skip
    _window(m, rng, 0, 0.8, n=1_000)
    state = merged_state(m.store, WindowKey("m", "1", 0.0, W))
    assert state is not None and state.sample is not None and len(state.sample) == 100
    assert len(m.reference.sample) == 100
    m.close()


def test_without_multivariate_nothing_is_sampled_or_written() -> None:
    rng = np.random.default_rng(2)
    m = _monitor(rng, MemoryStore())
    _window(m, rng, 0, -0.8)
    state = merged_state(m.store, WindowKey("m", "1", 0.0, W))
    assert state is not None and state.sample is None and m.reference.sample is None
    assert m.metrics("multivariate_drift").empty
    m.close()


def test_a_restarted_monitor_reads_the_stored_reference_sample() -> None:
    rng = np.random.default_rng(3)
    store = MemoryStore()
    first = _monitor(rng, store, multivariate=MV)
    sample = first.reference.sample
    first.close()
    again = Monitor("m", store=store, clock=ManualClock(), multivariate=MV)
    assert again.reference.sample is not None
    assert again.reference.sample.to_bytes() == sample.to_bytes()
    again.close()


def test_a_wkprof_bundle_carries_its_sample_and_old_files_still_read(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    data = _rows(rng, 2_000, 0.8)
    profile = profile_table(data)
    sample = Reservoir(500, 0).add({k: np.asarray(v) for k, v in data.items()}, 2_000)
    bundle, plain = tmp_path / "ref.wkprof", tmp_path / "old.wkprof"
    bundle.write_bytes(pack_reference(profile, sample))
    plain.write_bytes(profile.to_bytes())
    assert unpack_reference(plain.read_bytes())[1] is None
    with Monitor("m", reference=bundle, store="memory://", clock=ManualClock(),
                 multivariate=MV) as m:  # fmt: skip
        assert len(m.reference.sample) == 500
    with Monitor("m", reference=plain, store="memory://", clock=ManualClock(),
                 multivariate=MV) as m:  # fmt: skip
        assert m.reference.sample is None
        m.log(_rows(rng, 300, -0.8), timestamps=np.full(300, 1.0))
        m.flush()
        assert m.metrics("multivariate_drift").empty  # no reference rows: nothing to test
        assert m.analysis_errors == 0


def test_alert_evidence_names_the_top_features() -> None:
    rng = np.random.default_rng(6)
    store = MemoryStore()
    m = _monitor(rng, store, multivariate=MV)
    rule = {"name": "Multivariate", "metric": "multivariate_drifted",
            "labels": {"method": "pca"}, "op": ">=", "threshold": 1}  # fmt: skip
    events: list[AlertEvent] = []
    engine = AlertEngine(parse_rules([rule]), store, notify=events.append)
    for w in range(3):
        _window(m, rng, w, -0.8 if w == 2 else 0.8)
        engine.evaluate("m", "1", W, now=(w + 1) * W)
    (fired,) = events
    names = [c["feature"] for c in fired.evidence["root_causes"]]
    assert set(names[:2]) == set(PAIR)
    m.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"reservoir_size": -1}, "reservoir_size: expected an integer in"),
        ({"multivariate": True, "reservoir_size": 10}, "reservoir_size: 10 rows is fewer"),
        ({"multivariate": {"folds": 0}}, "multivariate.folds"),
    ],
)
def test_bad_options_fail_at_construction(options, message) -> None:
    with pytest.raises(ConfigError, match=message):
        Monitor("m", store="memory://", **options)
