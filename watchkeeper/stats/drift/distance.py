"""L1 and L∞ distances between aligned proportions.

Notes
-----
With p and q the reference and current proportions over the same bins or categories:

- ``l1``: L1 = Σ_k |p_k − q_k|, in [0, 2] — twice the total variation distance, so 2
  means disjoint supports. Effect floor 0.04: on 20 quantile bins a normal feature
  shifted by 0.05 sd gives 0.040; by 0.1 sd 0.080 (above), by 0.01 sd 0.008 (below).
- ``linf``: L∞ = max_k |p_k − q_k|, in [0, 1] — the largest change in one bin's or
  category's share. Effect floor 0.005: 0.05 sd gives 0.0054; 0.1 sd 0.011 (above),
  0.01 sd 0.001 (below).

The effect is the distance itself. There is no SciPy function for either; the tests
check them against the direct numpy formulas. Both are finite for empty bins and new
categories, and define no p-value.

*Exact path.* Numeric arrays are counted on the reference's quantile bins
(:func:`watchkeeper.binning.quantile_edges`, :func:`watchkeeper.binning.bin_counts`),
with NaN and inf ignored; arrays of strings over the sorted union of categories. It is
then ``from_counts`` on those counts, which uses the vectorised kernels
:func:`l1_kernel` and :func:`linf_kernel`, so all paths agree exactly. An empty side
raises :class:`~watchkeeper.errors.InvalidBatchError` naming it; the kernels return 0
for such a row.

References
----------
.. [1] Gibbs, A. L., Su, F. E. (2002). "On choosing and bounding probability metrics".
   International Statistical Review 70(3), 419–435.

Examples
--------
>>> round(L1.from_counts([50, 50], [60, 40]).statistic, 3)
0.2
>>> round(LINF.from_counts([50, 30, 20], [60, 40, 0]).statistic, 3)
0.2
"""

from __future__ import annotations

import numpy as np

from watchkeeper.stats.drift._common import binned_method, proportions
from watchkeeper.types import FloatArray

__all__ = ["L1", "LINF", "l1_kernel", "linf_kernel"]


def _gaps(ref: FloatArray, cur: FloatArray) -> tuple[FloatArray, FloatArray]:
    """|p − q| per slot, and whether each row has an empty side."""
    r = np.asarray(ref, dtype=np.float64)
    c = np.asarray(cur, dtype=np.float64)
    empty = (r.sum(axis=-1) <= 0) | (c.sum(axis=-1) <= 0)
    return np.abs(proportions(r) - proportions(c)), np.asarray(empty)


def l1_kernel(ref: FloatArray, cur: FloatArray) -> FloatArray:
    """Σ|p − q| over the last axis of aligned count arrays.

    Parameters
    ----------
    ref, cur
        Aligned counts, shape ``(..., K)``; non-integer counts are accepted.

    Returns
    -------
    numpy.ndarray
        L1 for each leading index, shape ``(...)``, in [0, 2]; 0 for a row with an empty
        side.

    Examples
    --------
    >>> import numpy as np
    >>> l1_kernel(np.array([[5, 5], [10, 0]]), np.array([[6, 4], [0, 10]])).round(3).tolist()
    [0.2, 2.0]
    """
    gaps, empty = _gaps(ref, cur)
    return np.asarray(np.where(empty, 0.0, np.sum(gaps, axis=-1)))


def linf_kernel(ref: FloatArray, cur: FloatArray) -> FloatArray:
    """max|p − q| over the last axis of aligned count arrays.

    Parameters
    ----------
    ref, cur
        Aligned counts, shape ``(..., K)``; non-integer counts are accepted.

    Returns
    -------
    numpy.ndarray
        L∞ for each leading index, shape ``(...)``, in [0, 1]; 0 for a row with an empty
        side.

    Examples
    --------
    >>> import numpy as np
    >>> linf_kernel(np.array([[5, 5], [10, 0]]), np.array([[6, 4], [0, 0]])).round(3).tolist()
    [0.1, 0.0]
    """
    gaps, empty = _gaps(ref, cur)
    return np.asarray(np.where(empty, 0.0, np.max(gaps, axis=-1)))


L1 = binned_method(name="l1", display_name="L1 distance", effect_floor=0.04, kernel=l1_kernel)
LINF = binned_method(
    name="linf", display_name="L-infinity distance", effect_floor=0.005, kernel=linf_kernel
)
