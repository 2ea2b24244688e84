"""``models.<name>.label``: the collector fits the performance estimator on the reference
file's ground-truth column and profiles the reference without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

from watchkeeper.errors import ConfigError
from watchkeeper.monitor.clock import ManualClock
from watchkeeper.service.config import parse_config
from watchkeeper.service.monitors import open_monitor
from watchkeeper.store import MemoryStore


def _reference(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=3_000)
    score = 1 / (1 + np.exp(-2 * x))
    frame = pd.DataFrame({
        "x": x, "prediction": np.where(score > 0.5, "yes", "no"), "score": score,
        "outcome": np.where(rng.uniform(size=3_000) < score, "yes", "no"),
    })  # fmt: skip
    path = tmp_path / "reference.parquet"
    frame.to_parquet(path)
    return path, frame


def test_the_label_column_fits_the_estimator_and_stays_out_of_the_profile(
    tmp_path: Path,
) -> None:
    path, frame = _reference(tmp_path)
    spec = {"reference": str(path), "label": "outcome", "outputs": ["prediction", "score"]}
    cfg = parse_config({"models": {"churn": spec}})
    m = open_monitor("churn", cfg.models["churn"], store=MemoryStore(), clock=ManualClock(),
                     writer="a")  # fmt: skip
    assert m.schema is not None and "outcome" not in m.schema.names
    fitted = m.fitted_estimator
    assert fitted is not None and fitted.method == "cbpe"
    assert fitted.reference["accuracy"] == pytest.approx(
        accuracy_score(frame["outcome"], frame["prediction"])
    )
    m.close()


def test_a_bad_label_is_named(tmp_path: Path) -> None:
    path, _ = _reference(tmp_path)
    with pytest.raises(ConfigError, match=r"models\.churn\.label"):
        parse_config({"models": {"churn": {"label": "outcome"}}})  # no reference
    cfg = parse_config({"models": {"churn": {"reference": str(path), "label": "truth"}}})
    with pytest.raises(ConfigError, match=r"models\.churn\.label: label: no column 'truth'"):
        open_monitor("churn", cfg.models["churn"], store=MemoryStore(), clock=ManualClock(),
                     writer="a")  # fmt: skip
