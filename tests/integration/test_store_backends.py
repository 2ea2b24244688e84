"""The same monitored stream gives the same analysis on SQLite and on a real PostgreSQL.

Windows hold fewer rows than the sketches' capacity (KLL k=200 for latency, 400 for
numeric columns), so every sketch is still exact: DataSketches compacts with random
bits it does not let us seed, and a compacted sketch can differ between two runs on the
same backend. Below capacity the analysis is deterministic and must match to the bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.profile import DatasetProfile, profile_table
from watchkeeper.schema import infer_schema


def _run(url: str, ref: DatasetProfile) -> pd.DataFrame:
    rng = np.random.default_rng(21)
    m = Monitor(
        "fraud",
        reference=ref,
        store=url,
        clock=ManualClock(),
        grace=5,
        writer="w1",
        rollups=(),
        max_future_skew=None,  # a replay of old times against a frozen clock
    )
    for w in range(8):
        n = 120 + 9 * w
        amount = rng.lognormal(3 + (0.5 if w >= 5 else 0.0), 1, n)
        country = rng.choice(["no", "se", "dk", "fi"], n)
        score = rng.random(n)
        ids = [f"{w}-{i}" for i in range(n)]
        m.log(
            {"amount": amount, "country": country},
            {"prediction": np.where(score > 0.8, "fraud", "ok"), "score": score},
            ids=ids,
            timestamps=w * 60 + rng.uniform(0, 60, n),
            latency=rng.exponential(0.02, n),
            error=np.where(rng.random(n) < 0.01, "timeout", None),
        )
        if w == 4:  # labels for window 1, three windows late
            truth = np.where(rng.random(100) < 0.3, "fraud", "ok")
            m.log_labels([f"1-{i}" for i in range(100)], truth)
    late = rng.lognormal(3, 1, 20)
    m.log({"amount": late, "country": ["no"] * 20}, ["ok"] * 20, timestamps=np.full(20, 30.0))
    m.log_metric("chargebacks", 3.0, timestamp=100.0)
    m.flush()
    out = m.metrics(version="*")
    m.close()
    keys = [c for c in out.columns if c not in ("value", "window_end")]
    return out.sort_values(keys, na_position="first").reset_index(drop=True)


@pytest.mark.integration
def test_sqlite_and_postgresql_give_identical_results(tmp_path: Path, postgres_url: str) -> None:
    rng = np.random.default_rng(20)
    data = {
        "amount": rng.lognormal(3, 1, 10_000),
        "country": rng.choice(["no", "se", "dk", "fi"], 10_000),
        "prediction": rng.choice(["ok", "fraud"], 10_000, p=[0.8, 0.2]),
        "score": rng.random(10_000),
    }
    schema = infer_schema(data, roles={"prediction": "output", "score": "output"})
    ref = profile_table(data, schema)
    on_sqlite = _run(f"sqlite:///{tmp_path / 'wk.db'}", ref)
    on_postgres = _run(postgres_url, ref)
    assert len(on_sqlite) >= 400
    assert {"accuracy", "feature_drifted", "custom_metric"} <= set(on_sqlite["name"])
    pd.testing.assert_frame_equal(on_sqlite, on_postgres, check_exact=False, rtol=1e-12)
