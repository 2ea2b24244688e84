"""Population stability index (PSI) on aligned counts.

Notes
-----
PSI = Σ_k (q_k − p_k) ln(q_k / p_k), with p the reference and q the current proportions
over the same bins or categories: the symmetrised Kullback–Leibler divergence
KL(q ‖ p) + KL(p ‖ q). Range [0, ∞); the effect is the PSI itself. Conventional readings
are < 0.1 stable, 0.1–0.25 moderate, > 0.25 major; here the natural spread and the floor
decide instead.

*Empty bins.* The logarithm is undefined for a zero proportion, so every proportion below
:data:`EPSILON` = 1e-4 is raised to it before the logarithm (proportions are not
renormalised afterwards). A category present on one side only then contributes a large
but finite term, about its share × ln(share / 1e-4). Raising everything below ε, rather
than only exact zeros, keeps the statistic continuous in the counts: the resampler's
approximate (non-integer) counts can be tiny without being zero, and a bin holding
1e-9 of the mass must not count for more than an empty one. For ε = 1e-4 and the 20
quantile bins used for numeric features (5% each) the two conventions agree.

*Exact path.* Numeric arrays are counted on the reference's quantile bins
(:func:`watchkeeper.binning.quantile_edges`, :func:`watchkeeper.binning.bin_counts`),
with NaN and inf ignored; arrays of strings over the sorted union of categories. It is
then ``from_counts`` on those counts, which uses the vectorised kernel :func:`psi_kernel`,
so all three agree exactly. An empty side raises
:class:`~watchkeeper.errors.InvalidBatchError` naming it; the kernel returns 0 for such a
row. No p-value is defined.

Effect floor 0.005. PSI grows with the square of a shift: on 20 quantile bins a normal
feature shifted by 0.05 sd gives 0.0025, by 0.1 sd 0.0098 (above the floor) and by
0.01 sd 0.0001 (below), so the floor sits at about a 0.07-sd shift.

References
----------
.. [1] Yurdakul, B. (2018). "Statistical properties of population stability index".
   PhD dissertation, Western Michigan University.
.. [2] Siddiqi, N. (2006). "Credit Risk Scorecards". Wiley, ch. 8.

Examples
--------
>>> round(PSI.from_counts([50, 50], [60, 40]).statistic, 4)
0.0405
>>> round(PSI.from_counts([50, 50, 0], [50, 40, 10]).statistic, 3)
0.712
"""

from __future__ import annotations

import numpy as np

from watchkeeper.stats.drift._common import binned_method, proportions
from watchkeeper.types import FloatArray

__all__ = ["EPSILON", "PSI", "psi_kernel"]

EPSILON = 1e-4
"""Smallest proportion used in PSI's logarithm; smaller ones (zeros included) are raised."""


def psi_kernel(ref: FloatArray, cur: FloatArray) -> FloatArray:
    """PSI over the last axis of aligned count arrays.

    Parameters
    ----------
    ref, cur
        Aligned counts, shape ``(..., K)``; non-integer counts are accepted.

    Returns
    -------
    numpy.ndarray
        PSI for each leading index, shape ``(...)``; 0 for a row with an empty side.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array([[50, 50], [7, 3]])
    >>> cur = np.array([[60, 40], [0, 0]])
    >>> psi_kernel(ref, cur).round(4).tolist()
    [0.0405, 0.0]
    """
    r = np.asarray(ref, dtype=np.float64)
    c = np.asarray(cur, dtype=np.float64)
    p = np.maximum(proportions(r), EPSILON)
    q = np.maximum(proportions(c), EPSILON)
    psi = np.sum((q - p) * np.log(q / p), axis=-1)
    empty = (r.sum(axis=-1) <= 0) | (c.sum(axis=-1) <= 0)
    return np.asarray(np.where(empty, 0.0, psi))


PSI = binned_method(
    name="psi", display_name="population stability index", effect_floor=0.005, kernel=psi_kernel
)
