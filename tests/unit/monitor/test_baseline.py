"""Baseline: the schema, the task and the references of one model version."""

from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.errors import ConfigError
from watchkeeper.monitor.baseline import Baseline
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.profile import profile_table
from watchkeeper.schema import Schema
from watchkeeper.store import MemoryStore


def _reference(n: int = 1_000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x": rng.normal(size=n),
        "prediction": rng.choice(["no", "yes"], n),
        "score": rng.random(n),
    }


def test_the_task_follows_the_schema_and_the_reference_classes() -> None:
    store = MemoryStore()
    baseline = Baseline(store, "m", "1", MonitorConfig(positive="yes"))
    baseline.set_reference(_reference(), now=0.0)
    task = baseline.task
    assert (task.kind, task.prediction, task.score) == ("classification", "prediction", "score")
    assert task.classes == ("no", "yes") and task.positive == "yes"
    assert baseline.schema is not None
    assert [c.name for c in baseline.schema.with_role("output")] == ["prediction", "score"]


def test_the_stored_reference_is_found_again_after_a_restart() -> None:
    store = MemoryStore()
    first = Baseline(store, "m", "1", MonitorConfig())
    ref_id = first.set_reference(_reference(), now=0.0)
    again = Baseline(store, "m", "1", MonitorConfig())
    again.start(None, None, now=2.0)
    assert again.reference_id == ref_id
    assert again.schema == first.schema


def test_a_reference_profile_with_other_columns_is_refused() -> None:
    baseline = Baseline(MemoryStore(), "m", "1", MonitorConfig())
    baseline.set_reference({"x": [1.0, 2.0]}, now=0.0)
    with pytest.raises(ConfigError, match="reference: its columns"):
        baseline.set_reference(profile_table({"y": [1.0, 2.0]}), now=1.0)


def test_without_a_reference_the_given_schema_is_adopted_once() -> None:
    schema = Schema.from_dict({"x": "numeric"})
    baseline = Baseline(MemoryStore(), "m", "1", MonitorConfig())
    with pytest.raises(ConfigError, match="schema: not known yet"):
        baseline.new_state()
    baseline.start(None, schema, now=0.0)
    assert baseline.schema == schema and baseline.reference_id is None
    baseline.adopt_schema(Schema(()), now=1.0)  # no-op: the schema is fixed
    assert baseline.schema == schema
    assert baseline.new_state().reference_id is None


def test_a_reference_profiled_elsewhere_is_read_from_a_wkprof_file(tmp_path) -> None:
    import numpy as np

    from watchkeeper.monitor import ManualClock, Monitor

    rng = np.random.default_rng(0)
    data = {"age": rng.normal(40, 10, 2_000), "prediction": rng.random(2_000)}
    path = tmp_path / "train.wkprof"
    path.write_bytes(profile_table(data).to_bytes())
    with Monitor("m", reference=str(path), store="memory://", clock=ManualClock(0.0)) as m:
        assert m.reference is not None
        assert m.reference.profile.columns["age"].count == 2_000
        assert m.reference.profile.columns["age"].mean == pytest.approx(data["age"].mean())
    bad = tmp_path / "bad.wkprof"
    bad.write_bytes(b"not a profile")
    with pytest.raises(ConfigError, match=r"reference: file '.*bad\.wkprof': "):
        Monitor("m", reference=str(bad), store="memory://", clock=ManualClock(0.0))
