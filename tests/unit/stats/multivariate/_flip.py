"""Scripted data with a known answer: two features whose correlation flips while every
marginal stays the same (standard normal)."""

from __future__ import annotations

import numpy as np

PAIR = ("income", "spend")


def flip_rows(
    rng: np.random.Generator, n: int, rho: float, *, others: int = 8
) -> dict[str, np.ndarray]:
    """``n`` rows: ``others`` independent normal features, a categorical one, and the
    pair with correlation ``rho``."""
    rows: dict[str, np.ndarray] = {f"f{i}": rng.normal(size=n) for i in range(others)}
    x = rng.normal(size=n)
    rows[PAIR[0]] = x
    rows[PAIR[1]] = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    rows["city"] = rng.choice(["oslo", "rome", "lima"], n).astype(object)
    return rows
