"""Chi-square test of homogeneity on aligned counts (a 2 × K contingency table).

Notes
-----
The table has the reference counts r and the current counts c as its two rows, with
column totals t_k = r_k + c_k and N = n + m. The statistic is Pearson's

    χ² = Σ_k [(r_k − n t_k/N)² / (n t_k/N) + (c_k − m t_k/N)² / (m t_k/N)],

with categories empty in both rows dropped (they add nothing and no degree of freedom),
as ``scipy.stats.chi2_contingency(table, correction=False)``. The p-value is the
chi-square tail with K' − 1 degrees of freedom, K' the number of categories left.

*Effect.* The statistic grows with the sample sizes: χ² ≈ nm/(n + m) · w² with
w² = Σ_k (q_k − p_k)² / π_k, where p and q are the two rows' proportions and π the
pooled ones. So the effect is ŵ = sqrt(χ² · (1/n + 1/m)), an estimate of this Cohen's w
that depends neither on the sample sizes nor on their ratio (Cramér's V and φ =
sqrt(χ²/N) both change with n/m), and stays finite for categories new in the current
side. Under no drift E[χ²] ≈ K' − 1, so ŵ keeps a noise level of about
sqrt((K' − 1)(1/n + 1/m)) — 0.014 for 20 bins and 200,000 rows a side, below the floor;
on small samples the natural spread, not the floor, decides. Range of both [0, ∞).

*Degenerate tables.* With one category left (every value in one bin) there is nothing to
compare: statistic 0, p-value 1, effect 0. An empty side has no proportions:
``from_counts`` and ``exact`` raise :class:`~watchkeeper.errors.InvalidBatchError`
naming it, while the vectorised kernel :func:`chi2_kernel` returns 0 for such a row
(the resampler never draws one).

*Exact path.* Numeric arrays are counted on the reference's quantile bins
(:func:`watchkeeper.binning.quantile_edges`, :func:`watchkeeper.binning.bin_counts`),
with NaN and inf ignored; arrays of strings over the sorted union of categories. It is
then ``from_counts`` on those counts, so both agree exactly.

Effect floor 0.05: a 0.05-sd shift of a normal feature on 20 quantile bins gives
w = 0.050; a 0.1-sd shift 0.099 (above), a 0.01-sd shift 0.010 (below).

References
----------
.. [1] Pearson, K. (1900). "On the criterion that a given system of deviations from the
   probable in the case of a correlated system of variables is such that it can be
   reasonably supposed to have arisen from random sampling". Philosophical Magazine
   50(302), 157–175.
.. [2] Cohen, J. (1988). "Statistical Power Analysis for the Behavioral Sciences",
   2nd ed. Lawrence Erlbaum, ch. 7.

Examples
--------
>>> r = CHI2.from_counts([50, 50], [60, 40])
>>> round(r.statistic, 4), round(r.p_value, 4), round(r.effect, 3)
(2.0202, 0.1552, 0.201)
>>> CHI2.from_counts([30, 0], [20, 0])
MethodResult(statistic=0.0, p_value=1.0, effect=0.0)
"""

from __future__ import annotations

import numpy as np
from scipy import special  # chi2.sf is chdtrc: the same function, a tenth of the import

from watchkeeper.stats.drift._common import binned_method
from watchkeeper.types import FloatArray

__all__ = ["CHI2", "chi2_kernel"]


def chi2_kernel(ref: FloatArray, cur: FloatArray) -> FloatArray:
    """Pearson chi-square of the 2 × K table [ref; cur] over the last axis.

    Parameters
    ----------
    ref, cur
        Aligned counts, shape ``(..., K)``; non-integer counts are accepted.

    Returns
    -------
    numpy.ndarray
        χ² for each leading index, shape ``(...)``. Categories empty on both sides add
        nothing; a row with an empty side gives 0.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array([[50, 50, 0], [10, 0, 0]])
    >>> cur = np.array([[60, 40, 0], [0, 0, 0]])
    >>> chi2_kernel(ref, cur).round(4).tolist()
    [2.0202, 0.0]
    """
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
    empty = (n_r[..., 0] <= 0) | (n_c[..., 0] <= 0)
    return np.asarray(np.where(empty, 0.0, terms.sum(axis=-1)))


def _p_value(ref: FloatArray, cur: FloatArray, stat: float) -> float:
    dof = int(np.count_nonzero((ref + cur) > 0)) - 1
    return 1.0 if dof < 1 else float(special.chdtrc(dof, stat))


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
