"""The Monitor's embedding part: MMD drift of an embedding column's descriptors per window."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from watchkeeper.descriptors import Describer
from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.monitor.embedding_drift import EmbeddingWindowDrift, embedding_columns
from watchkeeper.profile.reservoir import Reservoir

SCHEMA = {"emb": {"kind": "embedding"}}
W, DIM = 60.0, 32
SHIFT = np.r_[np.full(8, 0.5), np.zeros(DIM - 8)]  # the mean moved along 8 of 32 dims


@pytest.fixture(scope="module")
def monitor() -> Iterator[Monitor]:
    rng = np.random.default_rng(7)
    m = Monitor("m", schema=SCHEMA, reference={"emb": rng.normal(size=(2_000, DIM))},
                store="memory://", clock=ManualClock(), grace=0, rollups=(),
                max_future_skew=None)  # fmt: skip
    for w, shifted in enumerate((False, True, False)):
        vectors = rng.normal(size=(300, DIM)) + (SHIFT if shifted else 0.0)
        m.log({"emb": vectors}, timestamps=w * W + rng.uniform(0, W, 300))
        m.tick((w + 1) * W)
    m.flush()
    yield m
    m.close()


def _by_window(m: Monitor, name: str) -> dict[float, float]:
    frame = m.metrics(name, feature="emb")
    return {t.timestamp(): v for t, v in zip(frame["window_start"], frame["value"], strict=True)}


def test_an_embedding_schema_turns_a_reservoir_on(monitor: Monitor) -> None:
    assert monitor.config.reservoir_size == 2_000


def test_a_shifted_window_drifts_and_a_stationary_one_does_not(monitor: Monitor) -> None:
    assert _by_window(monitor, "embedding_drifted") == {0.0: 0.0, W: 1.0, 2 * W: 0.0}
    stat, bound = (
        _by_window(monitor, "embedding_drift"),
        _by_window(monitor, "embedding_drift_threshold"),
    )
    assert stat[W] > bound[W] and stat[0.0] <= bound[0.0]


def test_a_reservoir_turned_off_means_no_embedding_points() -> None:
    rng = np.random.default_rng(1)
    with Monitor("m", schema=SCHEMA, reference={"emb": rng.normal(size=(200, DIM))},
                 store="memory://", clock=ManualClock(), reservoir_size=0) as m:  # fmt: skip
        m.log({"emb": rng.normal(size=(100, DIM))}, timestamps=np.full(100, 1.0))
        m.tick(3_600)
        m.flush()
        assert m.metrics("embedding_drifted").empty


def _sample(describer: Describer, vectors: np.ndarray, stream: int) -> Reservoir:
    cols = describer({"emb": vectors})
    return Reservoir(2_000, 0, stream=stream).add(cols, len(vectors))


def test_windows_with_too_few_rows_are_skipped() -> None:
    rng = np.random.default_rng(2)
    describer = Describer.for_schema(SCHEMA)
    assert describer is not None
    ref = rng.normal(size=(500, DIM))
    describer.fit({"emb": ref})
    part = EmbeddingWindowDrift(embedding_columns(SCHEMA), 0.05)
    assert part.results(0, _sample(describer, ref, 0), _sample(describer, ref[:20], 1)) == {}


@pytest.mark.statistical
def test_the_false_alarm_rate_on_stationary_windows_is_the_configured_one() -> None:
    # each trial: a fresh 2,000-row reference and a 300-row window from the same
    # distribution, through the Monitor's descriptors and the part, so trials are
    # independent and the permutation p-value is exact: flags ~ Binomial(trials, <= alpha)
    rng = np.random.default_rng(11)
    alpha, trials = 0.05, 200
    part = EmbeddingWindowDrift(embedding_columns(SCHEMA), alpha)
    flagged = 0
    for i in range(trials):
        describer = Describer.for_schema(SCHEMA)
        assert describer is not None
        ref = rng.normal(size=(2_000, DIM))
        describer.fit({"emb": ref})
        window = rng.normal(size=(300, DIM))
        result = part.results(i, _sample(describer, ref, 0), _sample(describer, window, 1))
        flagged += result["emb"].drifted
    # alpha + 3 binomial standard deviations: 0.05 + 3 * 0.0154 = 0.096 (19 of 200)
    assert flagged / trials <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / trials)
