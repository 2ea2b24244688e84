"""Two-sample Kolmogorov–Smirnov distance: the largest gap between the two CDFs.

Notes
-----
D = sup_x |F_ref(x) − F_cur(x)|, in [0, 1]; the effect is D itself.

*Exact path* (``KS.exact``): D from the raw arrays with numpy — both samples sorted, the
empirical CDFs evaluated by ``searchsorted`` at every pooled value — and the p-value of
``scipy.stats.ks_2samp(ref, cur)`` with its default ``method="auto"`` (the exact null
distribution while both samples have at most 10,000 values, the asymptotic one above),
so statistic and p-value both match SciPy.

*Profile path* (``KS.from_cdfs``): D = max_i |cdf_ref[i] − cdf_cur[i]| over the points of
a shared grid, which is the sample D when the grid holds every value of both samples and
a lower bound of it otherwise. Its p-value is the asymptotic Kolmogorov one,
``scipy.stats.kstwobign.sf(D · sqrt(nm / (n + m)))``, for continuous data; ties make it
conservative.

Both single-pair paths compute D with :func:`ks_kernel`, the vectorised kernel the
natural-spread resampler applies to many simulated CDF pairs at once.

NaN and inf are not part of a distribution: callers remove them, and ``exact`` ignores
any that remain; a side with no finite value raises
:class:`~watchkeeper.errors.InvalidBatchError` naming that side.

Effect floor 0.02. For a normal feature shifted by δ sd, D = 2Φ(δ/2) − 1 ≈ 0.4 δ, so
the floor is a 0.05-sd shift (D = 0.0199); a 0.1-sd shift gives 0.040, above it, and a
0.01-sd shift 0.004, below it.

References
----------
.. [1] Kolmogorov, A. (1933). "Sulla determinazione empirica di una legge di
   distribuzione". Giornale dell'Istituto Italiano degli Attuari 4, 83–91.
.. [2] Smirnov, N. (1948). "Table for estimating the goodness of fit of empirical
   distributions". Annals of Mathematical Statistics 19(2), 279–281.
.. [3] Hodges, J. L. (1958). "The significance probability of the Smirnov two-sample
   test". Arkiv för Matematik 3(5), 469–486.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> r = KS.exact(rng.normal(size=500), rng.normal(0.5, 1, 500))
>>> round(r.statistic, 3), r.p_value < 1e-6, r.effect == r.statistic
(0.214, True, True)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special  # kstwobign.sf is kolmogorov: the same, a tenth of the import

from watchkeeper.stats.drift._base import CdfPair, DriftMethod, MethodResult
from watchkeeper.stats.drift._common import check_cdf_pair, numeric_side
from watchkeeper.types import FloatArray

__all__ = ["KS", "ks_kernel"]


def ks_kernel(
    grid: FloatArray, cdf_ref: FloatArray, cdf_cur: FloatArray, ref_scale: float
) -> FloatArray:
    """Kolmogorov–Smirnov D = max |F_ref − F_cur| over the last axis.

    Parameters
    ----------
    grid
        The shared grid, shape ``(G,)``; D does not depend on it.
    cdf_ref, cdf_cur
        CDF values on the grid, shape ``(..., G)``.
    ref_scale
        Unused (D is scale-free); present so that every ``"cdf"`` kernel has one signature.

    Returns
    -------
    numpy.ndarray
        D for each leading index, shape ``(...)``, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> grid = np.array([0.0, 1.0, 2.0])
    >>> ref = np.array([[0.2, 0.6, 1.0], [0.5, 0.5, 1.0]])
    >>> cur = np.array([[0.1, 0.3, 1.0], [0.5, 0.5, 1.0]])
    >>> ks_kernel(grid, ref, cur, 1.0).round(3).tolist()
    [0.3, 0.0]
    """
    diff = np.abs(np.asarray(cdf_ref, dtype=np.float64) - np.asarray(cdf_cur, dtype=np.float64))
    return np.asarray(np.max(diff, axis=-1))


def _from_cdfs(pair: CdfPair) -> MethodResult:
    check_cdf_pair(pair)
    d = float(ks_kernel(pair.grid, pair.cdf_ref, pair.cdf_cur, pair.ref_scale))
    en = math.sqrt(pair.n_ref * pair.n_cur / (pair.n_ref + pair.n_cur))
    return MethodResult(statistic=d, p_value=float(special.kolmogorov(d * en)), effect=d)


def _exact(reference: object, current: object) -> MethodResult:
    r = np.sort(numeric_side(reference, "reference"))
    c = np.sort(numeric_side(current, "current"))
    # the sup of two right-continuous step functions is reached at a pooled value
    grid = np.concatenate([r, c])
    cdf_r = np.searchsorted(r, grid, side="right") / r.size
    cdf_c = np.searchsorted(c, grid, side="right") / c.size
    d = float(ks_kernel(grid, cdf_r, cdf_c, 1.0))
    from scipy import stats  # the exact path only: scipy.stats is slow to import

    p = float(stats.ks_2samp(r, c).pvalue)
    return MethodResult(statistic=d, p_value=p, effect=d)


KS = DriftMethod(
    name="ks",
    display_name="Kolmogorov-Smirnov D",
    # text and datetime columns are compared on numbers derived from them
    kinds=frozenset({"numeric", "text", "datetime"}),
    representation="cdf",
    effect_floor=0.02,
    has_p_value=True,
    exact=_exact,
    from_cdfs=_from_cdfs,
    cdfs_statistic=ks_kernel,
)
