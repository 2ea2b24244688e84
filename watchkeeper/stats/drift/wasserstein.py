"""Wasserstein-1 distance normalised by the reference's standard deviation.

W = ∫ |F_ref(x) − F_cur(x)| dx / sd_ref: how far, in reference standard deviations, the
mass has to move (a pure mean shift of δ sd gives W = δ). The exact path is
``scipy.stats.wasserstein_distance(ref, cur) / ref.std()`` (population sd); a constant
reference (sd 0) is divided by 1, giving the raw distance. On profiles it is the step
integral Σ |F_ref(g_i) − F_cur(g_i)| (g_{i+1} − g_i) on the grid, which equals SciPy's
value when the grid is the union of both samples. Default effect floor 0.05 sd.

References
----------
Villani (2009), "Optimal Transport: Old and New", ch. 6.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> round(WASSERSTEIN.exact(rng.normal(size=5000), rng.normal(0.3, 1, 5000)).statistic, 2)
0.32
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from watchkeeper.stats.drift._base import CdfPair, DriftMethod, MethodResult
from watchkeeper.stats.drift._common import check_sizes, raw_numeric
from watchkeeper.types import FloatArray

__all__ = ["WASSERSTEIN"]


def wasserstein_kernel(
    grid: FloatArray, cdf_ref: FloatArray, cdf_cur: FloatArray, ref_scale: float
) -> FloatArray:
    """Step integral of |F_ref − F_cur| on the grid, over the last axis, divided by scale."""
    widths = np.diff(np.asarray(grid, dtype=np.float64))
    diff = np.abs(np.asarray(cdf_ref) - np.asarray(cdf_cur))[..., :-1]
    scale = ref_scale if ref_scale > 0 else 1.0
    return np.asarray(np.sum(diff * widths, axis=-1) / scale)


def _from_cdfs(pair: CdfPair) -> MethodResult:
    check_sizes(pair.n_ref, pair.n_cur)
    w = float(wasserstein_kernel(pair.grid, pair.cdf_ref, pair.cdf_cur, pair.ref_scale))
    return MethodResult(statistic=w, p_value=None, effect=w)


def _exact(reference: object, current: object) -> MethodResult:
    r = raw_numeric(reference, "reference")
    c = raw_numeric(current, "current")
    scale = float(r.std())
    w = float(stats.wasserstein_distance(r, c)) / (scale if scale > 0 else 1.0)
    return MethodResult(statistic=w, p_value=None, effect=w)


WASSERSTEIN = DriftMethod(
    name="wasserstein",
    display_name="Wasserstein distance (in reference sd)",
    kinds=frozenset({"numeric", "text", "datetime"}),
    representation="cdf",
    effect_floor=0.05,
    has_p_value=False,
    exact=_exact,
    from_cdfs=_from_cdfs,
    cdfs_statistic=wasserstein_kernel,
)
