"""The data the Spark and Dask tests share: a reference and a shifted current frame, a
frame split in parquet files, and the check that a cluster's profile is the one-process
profile of the same rows."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from watchkeeper.profile import CategoricalProfile, DatasetProfile, NumericProfile


def make_frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(10.0 + shift, 3.0, n)
    x[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "y": rng.exponential(2.0, n),
            "city": rng.choice(["Oslo", "Rome", "Lima", "Pune"], n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def assert_same_rows(ours: DatasetProfile, one: DatasetProfile) -> None:
    """Counts, missing, categories exactly; moments to 1e-9 relative."""
    assert (ours.schema, ours.n_rows, ours.type_errors) == (one.schema, one.n_rows, one.type_errors)
    for name, col in ours.columns.items():
        other = one.columns[name]
        if isinstance(col, NumericProfile) and isinstance(other, NumericProfile):
            assert (col.count, col.missing, col.min, col.max) == (
                other.count, other.missing, other.min, other.max
            )  # fmt: skip
            assert col.mean == pytest.approx(other.mean, rel=1e-9)
            assert col.variance == pytest.approx(other.variance, rel=1e-9, nan_ok=True)
        else:
            assert isinstance(col, CategoricalProfile) and isinstance(other, CategoricalProfile)
            assert (col.counts, col.other, col.missing) == (
                other.counts,
                other.other,
                other.missing,
            )


REF = make_frame(9_000, seed=11)
CUR = make_frame(7_000, seed=12, shift=1.0)


def write_parts(frame: pd.DataFrame, folder: Path, cuts: list[int]) -> Path:
    """``frame`` as parquet files in ``folder``, split at the row numbers ``cuts``."""
    folder.mkdir()
    bounds = [0, *cuts, len(frame)]
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        frame.iloc[lo:hi].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder
