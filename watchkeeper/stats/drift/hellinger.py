"""Hellinger distance on aligned counts.

H(p, q) = sqrt(1 − Σ sqrt(p_i q_i)) = ‖√p − √q‖₂ / √2, in [0, 1]; tiny negative values
from rounding are clipped to 0. The default effect floor 0.02 is about a 0.05-sd shift of
a normal feature on 20 quantile bins.

References
----------
Hellinger (1909); Le Cam & Yang (2000), "Asymptotics in Statistics", ch. 3.

Examples
--------
>>> round(HELLINGER.from_counts([50, 50], [60, 40]).statistic, 4)
0.0712
"""

from __future__ import annotations

import numpy as np

from watchkeeper.stats.drift._common import binned_method, proportions
from watchkeeper.types import FloatArray

__all__ = ["HELLINGER"]


def hellinger_kernel(ref: FloatArray, cur: FloatArray) -> FloatArray:
    """Hellinger distance over the last axis of aligned count arrays."""
    bc = np.sum(np.sqrt(proportions(ref) * proportions(cur)), axis=-1)
    return np.asarray(np.sqrt(np.maximum(1.0 - bc, 0.0)))


HELLINGER = binned_method(
    name="hellinger",
    display_name="Hellinger distance",
    effect_floor=0.02,
    kernel=hellinger_kernel,
)
