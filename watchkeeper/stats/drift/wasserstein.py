"""Wasserstein-1 distance in units of the reference's standard deviation.

Notes
-----
W = ∫ |F_ref(x) − F_cur(x)| dx / sd_ref: how far, in reference standard deviations, the
probability mass has to move to turn one distribution into the other. A pure shift of δ
sd gives W = δ, so the statistic reads as "shift in sd" whatever the feature's unit.
Range [0, ∞); the effect is W itself.

*Exact path* (``WASSERSTEIN.exact``): ``scipy.stats.wasserstein_distance(ref, cur) /
ref.std()`` with the population sd (``ddof=0``).

*Profile path* (``WASSERSTEIN.from_cdfs``): the step integral
Σ_i |cdf_ref[i] − cdf_cur[i]| · (grid[i+1] − grid[i]) divided by ``ref_scale``. Both
empirical CDFs are constant between consecutive points of a grid that holds every value
of both samples, so on that grid the sum is the integral itself and equals SciPy's value
up to rounding; on a coarser grid it is a Riemann approximation. Both paths share one
vectorised kernel, :func:`wasserstein_kernel`, that the natural-spread resampler applies to
many simulated pairs at once.

A constant reference (sd 0) has no scale: the distance is then divided by 1, i.e. it is
the raw distance in the feature's unit. NaN and inf are ignored by ``exact`` (callers
normally remove them); a side with no finite value raises
:class:`~watchkeeper.errors.InvalidBatchError` naming that side. No p-value is defined.

Effect floor 0.05: a 0.05-sd shift of a normal feature by construction; a 0.1-sd shift
gives 0.1, above it, and a 0.01-sd shift 0.01, below it.

References
----------
.. [1] Villani, C. (2009). "Optimal Transport: Old and New". Springer, ch. 6.
.. [2] Ramdas, A., García Trillos, N., Cuturi, M. (2017). "On Wasserstein two-sample
   testing and related families of nonparametric tests". Entropy 19(2), 47.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> r = WASSERSTEIN.exact(rng.normal(size=5000), rng.normal(0.3, 1, 5000))
>>> round(r.statistic, 2), r.p_value
(0.32, None)
"""

from __future__ import annotations

import numpy as np

from watchkeeper.stats.drift._base import CdfPair, DriftMethod, MethodResult
from watchkeeper.stats.drift._common import check_cdf_pair, numeric_side
from watchkeeper.types import FloatArray

__all__ = ["WASSERSTEIN", "wasserstein_kernel"]


def wasserstein_kernel(
    grid: FloatArray, cdf_ref: FloatArray, cdf_cur: FloatArray, ref_scale: float
) -> FloatArray:
    """Step integral of |F_ref − F_cur| on the grid over the last axis, divided by the scale.

    Parameters
    ----------
    grid
        Sorted grid, shape ``(G,)``.
    cdf_ref, cdf_cur
        CDF values on the grid, shape ``(..., G)``; each is taken as constant from one
        grid point to the next (the last point, where both CDFs are 1, adds nothing).
    ref_scale
        The reference's standard deviation; 0 (a constant reference) divides by 1.

    Returns
    -------
    numpy.ndarray
        W for each leading index, shape ``(...)``, in [0, ∞).

    Examples
    --------
    >>> import numpy as np
    >>> grid = np.array([0.0, 1.0, 3.0])
    >>> ref = np.array([0.5, 1.0, 1.0])
    >>> cur = np.array([0.0, 0.5, 1.0])
    >>> float(wasserstein_kernel(grid, ref, cur, 2.0))
    0.75
    """
    widths = np.diff(np.asarray(grid, dtype=np.float64))
    diff = np.abs(np.asarray(cdf_ref, dtype=np.float64) - np.asarray(cdf_cur, dtype=np.float64))
    scale = ref_scale if ref_scale > 0 else 1.0
    return np.asarray(np.sum(diff[..., :-1] * widths, axis=-1) / scale)


def _from_cdfs(pair: CdfPair) -> MethodResult:
    check_cdf_pair(pair)
    w = float(wasserstein_kernel(pair.grid, pair.cdf_ref, pair.cdf_cur, pair.ref_scale))
    return MethodResult(statistic=w, p_value=None, effect=w)


def _exact(reference: object, current: object) -> MethodResult:
    r = numeric_side(reference, "reference")
    c = numeric_side(current, "current")
    from scipy import stats  # the exact path only: scipy.stats is slow to import

    scale = float(r.std())
    w = float(stats.wasserstein_distance(r, c)) / (scale if scale > 0 else 1.0)
    return MethodResult(statistic=w, p_value=None, effect=w)


WASSERSTEIN = DriftMethod(
    name="wasserstein",
    display_name="Wasserstein distance (in reference sd)",
    # text and datetime columns are compared on numbers derived from them
    kinds=frozenset({"numeric", "text", "datetime"}),
    representation="cdf",
    effect_floor=0.05,
    has_p_value=False,
    exact=_exact,
    from_cdfs=_from_cdfs,
    cdfs_statistic=wasserstein_kernel,
)
