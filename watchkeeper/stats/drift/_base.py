"""The contract every drift method fulfils, and the inputs it is computed from.

A method is a frozen :class:`DriftMethod` registered in ``_registry.py``. It has one of
two representations:

``"counts"``
    binned methods (chi2, psi, jensen_shannon, hellinger, l1, linf). They compare two
    aligned count vectors: the same bins (numeric, :mod:`watchkeeper.binning`) or the
    same category order (categorical). ``from_counts(ref, cur)`` is the whole method.
``"cdf"``
    distribution methods (ks, wasserstein). They compare two step CDFs evaluated on a
    shared sorted grid, given as a :class:`CdfPair`; ``from_cdfs(pair)`` is the method.

Both have ``exact(reference, current)`` on raw arrays, which is the path checked against
SciPy. Every method returns a :class:`MethodResult`: the statistic, an analytic p-value
where one is defined, and the *effect* (a sample-size-free effect size compared to the
method's effect floor; equal to the statistic except for chi2, whose effect is Cohen's w).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from watchkeeper.types import ColumnKind, FloatArray, IntArray

__all__ = ["CdfPair", "DriftMethod", "MethodResult", "Representation"]

Representation = Literal["counts", "cdf"]


@dataclass(frozen=True)
class MethodResult:
    """What a drift method computes for one column.

    Attributes
    ----------
    statistic
        The method's statistic (e.g. KS D, PSI, chi-square).
    p_value
        Analytic p-value where the method defines one (ks, chi2), else ``None``.
    effect
        Sample-size-free effect size compared with the effect floor.
    """

    statistic: float
    p_value: float | None
    effect: float


@dataclass(frozen=True)
class CdfPair:
    """Two step CDFs on one grid: ``cdf_ref[i] = F_ref(grid[i])`` (right-continuous).

    Attributes
    ----------
    grid
        Sorted, strictly increasing points.
    cdf_ref, cdf_cur
        CDF values at each grid point, non-decreasing in ``[0, 1]``; the last is 1.
    n_ref, n_cur
        Sample sizes behind each CDF (for p-values).
    ref_scale
        The reference's standard deviation, used to normalise Wasserstein; 0 means a
        constant reference, for which the raw distance is used.
    """

    grid: FloatArray
    cdf_ref: FloatArray
    cdf_cur: FloatArray
    n_ref: int
    n_cur: int
    ref_scale: float


@dataclass(frozen=True)
class DriftMethod:
    """A registered drift method.

    Attributes
    ----------
    name
        Registry key, e.g. ``"jensen_shannon"``.
    display_name
        Human name, e.g. ``"Jensen-Shannon distance"``.
    kinds
        Column kinds it applies to.
    representation
        ``"counts"`` or ``"cdf"`` (module docstring).
    effect_floor
        Default minimum effect for a drift verdict.
    has_p_value
        Whether ``MethodResult.p_value`` is defined, so ``mode="p_value"`` can use it.
    exact
        Raw-array path: ``exact(reference, current) -> MethodResult``. Numeric arrays
        are float64 with NaN/inf removed; categorical arrays hold ``str`` values.
    from_counts
        Counts path for ``"counts"`` methods: ``from_counts(ref_counts, cur_counts)``.
    from_cdfs
        CDF path for ``"cdf"`` methods: ``from_cdfs(pair)``.
    counts_statistic
        Vectorised kernel of a ``"counts"`` method: arrays of shape ``(..., k)`` in,
        statistics of shape ``(...)`` out. The natural-spread resampler calls it on
        tens of thousands of simulated pairs at once, so it must not loop in Python.
    cdfs_statistic
        Vectorised kernel of a ``"cdf"`` method: ``(grid (G,), cdf_ref (..., G),
        cdf_cur (..., G), ref_scale)`` in, statistics ``(...)`` out.
    """

    name: str
    display_name: str
    kinds: frozenset[ColumnKind]
    representation: Representation
    effect_floor: float
    has_p_value: bool
    exact: Callable[[object, object], MethodResult]
    from_counts: Callable[[IntArray, IntArray], MethodResult] | None = None
    from_cdfs: Callable[[CdfPair], MethodResult] | None = None
    counts_statistic: (
        Callable[[IntArray | FloatArray, IntArray | FloatArray], FloatArray] | None
    ) = None
    cdfs_statistic: Callable[[FloatArray, FloatArray, FloatArray, float], FloatArray] | None = None
