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


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_error_analysis_finds_the_misclassified_sampled_rows(backend: str, tmp_path: Path) -> None:
    from watchkeeper.monitor.examples import misclassified_rows

    rng = np.random.default_rng(8)
    store = MemoryStore() if backend == "memory" else f"sqlite:///{tmp_path / 'wk.db'}"
    ref = {**_rows(rng, 2_000, 0.8), "prediction": rng.choice(["yes", "no"], 2_000)}
    m = Monitor("m", reference=ref, store=store, clock=ManualClock(), grace=0, rollups=(),
                max_future_skew=None, reservoir_size=300)  # fmt: skip
    n = 1_000
    ids = [f"r{i}" for i in range(n)]
    predictions = rng.choice(["yes", "no"], n)
    m.log(_rows(rng, n, 0.8), {"prediction": predictions}, ids=ids,
          timestamps=rng.uniform(0, W, n))  # fmt: skip
    m.flush()
    wrong = rng.random(n) < 0.2
    truth = np.where(wrong, np.where(predictions == "yes", "no", "yes"), predictions)
    m.log_labels(ids[:800], truth[:800])  # the last 200 rows have no label yet
    state = merged_state(m.store, WindowKey("m", "1", 0.0, W))
    labelled = m.store.labelled("m", "1", 0.0, W)
    assert sorted(labelled.ids) == sorted(ids[:800])
    found = misclassified_rows(state, labelled, m.task, limit=1_000)
    sampled = set(state.sample.rows()[ID_COLUMN])
    expected = {i for k, i in enumerate(ids) if k < 800 and wrong[k] and i in sampled}
    assert found["labelled"] == len(sampled & set(ids[:800]))
    assert {r[ID_COLUMN] for r in found["rows"]} == expected and found["matching"] == len(expected)
    assert all(r["label"] != r["prediction"] for r in found["rows"])
    m.close()


def test_example_rows_are_the_sampled_values_the_reference_never_saw() -> None:
    from watchkeeper.monitor.examples import example_rows

    rng = np.random.default_rng(9)
    m = _monitor(rng, MemoryStore(), reservoir_size=500)
    rows = _rows(rng, 400, 0.8)
    rows["age"][:7] = 1_000.0
    rows["city"] = rows["city"].astype(object)  # room for a longer name
    rows["city"][7:10] = "atlantis"
    m.log(rows, timestamps=np.full(400, 1.0))
    m.flush()
    state = merged_state(m.store, WindowKey("m", "1", 0.0, W))
    ages = example_rows(state, m.reference, "age", limit=5)
    assert ages["matching"] == 7 and len(ages["rows"]) == 5 and ages["sampled"] == 400
    assert all(r["age"] == 1_000.0 for r in ages["rows"])
    assert "outside the reference's range" in ages["reason"]
    cities = example_rows(state, m.reference, "city")
    assert cities["matching"] == 3 and {r["city"] for r in cities["rows"]} == {"atlantis"}
    m.close()
