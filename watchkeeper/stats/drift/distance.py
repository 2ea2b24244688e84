"""L1 and L-infinity distances between aligned proportions.

L1 = Σ |p_i − q_i| in [0, 2] (twice the total variation distance); L∞ = max |p_i − q_i|
in [0, 1], the largest change in one bin's or category's share. Default effect floors:
L1 0.04 (about a 0.05-sd shift of a normal feature on 20 quantile bins), L∞ 0.005.

References
----------
Gibbs & Su (2002), "On choosing and bounding probability metrics".

Examples
--------
>>> round(L1.from_counts([50, 50], [60, 40]).statistic, 3)
0.2
>>> round(LINF.from_counts([50, 50], [60, 40]).statistic, 3)
0.1
"""

from __future__ import annotations

import numpy as np

from watchkeeper.stats.drift._common import binned_method, proportions
from watchkeeper.types import FloatArray

__all__ = ["L1", "LINF"]


def l1_kernel(ref: FloatArray, cur: FloatArray) -> FloatArray:
    """Σ|p − q| over the last axis."""
    return np.asarray(np.sum(np.abs(proportions(ref) - proportions(cur)), axis=-1))


def linf_kernel(ref: FloatArray, cur: FloatArray) -> FloatArray:
    """max|p − q| over the last axis."""
    return np.asarray(np.max(np.abs(proportions(ref) - proportions(cur)), axis=-1))


L1 = binned_method(name="l1", display_name="L1 distance", effect_floor=0.04, kernel=l1_kernel)
LINF = binned_method(
    name="linf", display_name="L-infinity distance", effect_floor=0.005, kernel=linf_kernel
)
