"""Chi-square test of homogeneity on aligned counts (a 2 x K contingency table).

The statistic is Pearson's chi-square of the table [reference; current] with categories
empty in both rows dropped, as ``scipy.stats.chi2_contingency(table, correction=False)``;
the p-value is from the chi-square distribution with K' − 1 degrees of freedom. With one
category left, or an empty side, the statistic is 0 and the p-value 1.

The effect is sqrt(chi2 · (1/n + 1/m)): chi2 grows like w² · nm/(n+m) for Cohen's
w² = Σ (q − p)²/p, so this estimates w without depending on the sample sizes, and it
stays finite for new categories. Default effect floor 0.05 (a 0.1-sd shift of a normal
feature on 20 quantile bins gives about 0.1).

References
----------
Cohen (1988), "Statistical Power Analysis for the Behavioral Sciences", ch. 7.

Examples
--------
>>> r = CHI2.from_counts([50, 50], [60, 40])
>>> round(r.statistic, 4), round(r.p_value, 4), round(r.effect, 3)
(2.0202, 0.1552, 0.201)
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from watchkeeper.stats.drift._common import binned_method
from watchkeeper.types import FloatArray

__all__ = ["CHI2"]


def chi2_kernel(ref: FloatArray, cur: FloatArray) -> FloatArray:
    """Pearson chi-square of the 2 x K table over the last axis."""
    r = np.asarray(ref, dtype=np.float64)
    c = np.asarray(cur, dtype=np.float64)
    n_r = r.sum(axis=-1, keepdims=True)
    n_c = c.sum(axis=-1, keepdims=True)
    total = n_r + n_c
    col = r + c
    with np.errstate(divide="ignore", invalid="ignore"):
        e_r = n_r * col / total
        e_c = n_c * col / total
        terms = np.where(e_r > 0, (r - e_r) ** 2 / e_r, 0.0) + np.where(
            e_c > 0, (c - e_c) ** 2 / e_c, 0.0
        )
    return np.asarray(np.where(total[..., 0] > 0, terms.sum(axis=-1), 0.0))


def _p_value(ref: FloatArray, cur: FloatArray, stat: float) -> float:
    dof = int(np.count_nonzero((ref + cur) > 0)) - 1
    return 1.0 if dof < 1 else float(stats.chi2.sf(stat, dof))


def _effect(ref: FloatArray, cur: FloatArray, stat: float) -> float:
    return float(np.sqrt(stat * (1.0 / ref.sum() + 1.0 / cur.sum())))


CHI2 = binned_method(
    name="chi2",
    display_name="chi-square",
    effect_floor=0.05,
    kernel=chi2_kernel,
    p_value=_p_value,
    effect=_effect,
)
