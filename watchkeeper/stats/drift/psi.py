"""Population stability index (PSI) on aligned counts.

PSI = Σ (q_i − p_i) ln(q_i / p_i) over bins or categories, with p the reference and q
the current proportions. Zero proportions are replaced by ``EPSILON`` = 1e-4 before the
logarithm (the usual convention, so an empty bin contributes a large but finite term);
proportions are not renormalised. Range [0, ∞). Conventional readings: < 0.1 stable,
0.1–0.25 moderate, > 0.25 major; the default effect floor 0.005 is about a 0.05-sd shift
of a normal feature on 20 quantile bins, and the natural spread decides the rest.

References
----------
Yurdakul (2018), "Statistical properties of population stability index".

Examples
--------
>>> round(PSI.from_counts([50, 50], [60, 40]).statistic, 4)
0.0405
"""

from __future__ import annotations

import numpy as np

from watchkeeper.stats.drift._common import binned_method, proportions
from watchkeeper.types import FloatArray

__all__ = ["EPSILON", "PSI"]

EPSILON = 1e-4


def psi_kernel(ref: FloatArray, cur: FloatArray) -> FloatArray:
    """PSI over the last axis of aligned count arrays."""
    p = np.maximum(proportions(ref), EPSILON)
    q = np.maximum(proportions(cur), EPSILON)
    return np.asarray(np.sum((q - p) * np.log(q / p), axis=-1))


PSI = binned_method(
    name="psi", display_name="population stability index", effect_floor=0.005, kernel=psi_kernel
)
