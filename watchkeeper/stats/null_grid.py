"""The resampled null at any current size, from a grid of sizes simulated once.

:class:`~watchkeeper.stats.null_model.NullModel` simulates a statistic's no-drift spread
at a current size; a stream whose windows all differ in size would simulate at every new
size. :class:`GridNull` simulates it instead on a fixed grid of current sizes, 8 · √2^k
up to 64 times the reference's size, once per number of draws (the detector does the
screening draws of every column at fit), and reads the spread at any size between two
grid points by interpolation: a compare at a size never seen costs a few array operations.
It serves the methods without a law known at fit time (Jensen–Shannon, PSI, Wasserstein,
Hellinger, L1, L∞, ``ks`` on sketches) and ``chi2`` on sparse tables.

Notes
-----
*Interpolation.* With n reference and m current values every statistic here spreads
with s = 1/n + 1/m: to first order as a power of s (s^½ for the distances, s for PSI, s^0
for chi-square). The null order statistics at m are interpolated linearly in log s
between the grid points below and above m (the i-th smallest with the i-th smallest, so
the result is sorted and a p-value and a threshold read the same array). A power of s is
convex in log s, so the chord lies above it: the interpolated spread is at or above the
true one and the false-alarm rate at or below the one configured (by at most 0.4% of the
threshold for s^½ and 1.3% for s between grid points √2 apart). Below 8 current values
the spread is simulated at the exact size (eight sizes at most); above the largest grid
point the spread of the largest is used: conservative, and within 1% since 1/m no longer
matters beside 1/n.

*Cost.* A grid has about 2 log2(8 n) points (41 at n = 100,000); each is one
simulation of the :class:`~watchkeeper.stats.null_model.NullModel` (B draws of the
reference replica and the current sample). Simulations are kept for the process (64 MB of
them, the least recently used dropped first, besides the grids detectors pin) and shared
by every column whose reference has the same size, method and proportions
rounded to 3 significant digits (the equal-probability bins of continuous columns share
one grid), a shift of the proportions far inside the draws' own noise. The grids of the
screening draws are pinned by the detector; those of the full number of draws, used only
for columns whose screened p-value is near the level, are simulated when first needed.

Examples
--------
>>> from watchkeeper.stats.drift import get_method
>>> from watchkeeper.stats.null_model import NullModel
>>> model = NullModel(get_method("jensen_shannon")).fit_counts([500, 300, 200])
>>> grid = GridNull(model)
>>> grid.sizes[:6]
(8, 11, 16, 23, 32, 45)
>>> t = grid.threshold(1_000, 0.01, 2_000)
>>> grid.p_value(1_000, t, 2_000) >= 0.01, grid.p_value(1_000, t * 1.2, 2_000) < 0.01
(True, True)
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

from watchkeeper.stats._validate import config_error, is_count, is_number
from watchkeeper.stats.drift import DriftMethod
from watchkeeper.stats.null_model import (
    MIN_RESAMPLES,
    NullModel,
    critical_value,
    resamples_for_level,
)
from watchkeeper.types import FloatArray

__all__ = ["GRID_RATIO", "GRID_START", "GridNull", "grid_sizes"]

GRID_START = 8
"""The smallest grid size; smaller current samples are simulated at their exact size."""
GRID_RATIO = math.sqrt(2.0)
"""Ratio of consecutive grid sizes."""

_BEYOND_REFERENCE = 64  # the grid ends at 64 n: 1/m is then under 1.6% of 1/n
_SHARED_BYTES = 64 << 20  # simulations kept for the process, besides the pinned grids
_DIGITS = 3  # proportions rounded to 3 significant digits so that columns share draws
_TIE = 1e-12

Key = tuple[object, ...]
_shared: OrderedDict[Key, FloatArray] = OrderedDict()
_shared_bytes = 0
_lock = threading.Lock()


def _reference_key(model: NullModel) -> Key:
    """What a simulation depends on besides the size and the draws, rounded so that the
    columns of one reference with the same bin shares (quantile bins) share it."""
    rounded = tuple(float(f"{x:.{_DIGITS}g}") for x in model.p_)
    atoms = None if model.atoms_ is None else model.atoms_.tobytes()
    return (model.method.name, model.seed, model.n_ref_, rounded, atoms, model.ref_scale_)


def grid_sizes(n_ref: int) -> tuple[int, ...]:
    """The current sizes the null is simulated at for a reference of ``n_ref`` values.

    Examples
    --------
    >>> sizes = grid_sizes(1_000)
    >>> sizes[:4], sizes[-2:], len(sizes)
    ((8, 11, 16, 23), (46341, 64000), 27)
    """
    if not (is_count(n_ref) and n_ref > 0):
        raise config_error("n_ref", n_ref, "an integer > 0")
    top = max(GRID_START * 2, _BEYOND_REFERENCE * int(n_ref))
    sizes: list[int] = []
    k = 0
    while (size := round(GRID_START * GRID_RATIO**k)) < top:
        if not sizes or size > sizes[-1]:
            sizes.append(size)
        k += 1
    sizes.append(top)
    return tuple(sizes)


class GridNull:
    """A fitted :class:`NullModel`'s spread at any current size, from a grid of sizes.

    Parameters
    ----------
    model
        The fitted null model; its method, seed and reference are used.

    Attributes
    ----------
    sizes
        The grid of current sizes (:func:`grid_sizes` of the reference's size).

    Notes
    -----
    The interpolation and its conservative side are in the module Notes.
    """

    def __init__(self, model: NullModel) -> None:
        if not isinstance(model, NullModel) or not hasattr(model, "p_"):
            raise config_error("model", model, "a fitted NullModel")
        self.model = model
        self.method: DriftMethod = model.method
        self.sizes = grid_sizes(model.n_ref_)
        self._key = _reference_key(model)
        self._pinned: dict[tuple[int, int], FloatArray] = {}

    def prepare(self, n_resamples: int) -> GridNull:
        """Simulate the whole grid at ``n_resamples`` draws now and keep it (at fit time,
        so that no compare waits for it); returns ``self``."""
        if not (is_count(n_resamples) and n_resamples > 0):
            raise config_error("n_resamples", n_resamples, "an integer > 0")
        for size in self.sizes:
            key = (size, int(n_resamples))
            if key not in self._pinned:
                self._pinned[key] = self._simulated(*key)
        return self

    def _simulated(self, size: int, n_resamples: int) -> FloatArray:
        pinned = self._pinned.get((size, n_resamples))
        if pinned is not None:
            return pinned
        key = (*self._key, size, n_resamples)
        with _lock:
            draws = _shared.get(key)
            if draws is not None:
                _shared.move_to_end(key)
                return draws
        draws = self.model.simulate(size, n_resamples)
        global _shared_bytes
        with _lock:
            if key not in _shared:
                _shared[key] = draws
                _shared_bytes += draws.nbytes
            while _shared_bytes > _SHARED_BYTES and len(_shared) > 1:
                _shared_bytes -= _shared.popitem(last=False)[1].nbytes
        return draws

    def null_statistics(self, n_cur: int, n_resamples: int) -> FloatArray:
        """Sorted no-drift statistics at ``n_cur`` current values, interpolated from the
        grid (exact below the grid, the largest grid size's above it)."""
        if not (is_count(n_cur) and n_cur > 0):
            raise config_error("n_cur", n_cur, "an integer > 0")
        if not (is_count(n_resamples) and n_resamples > 0):
            raise config_error("n_resamples", n_resamples, "an integer > 0")
        n, b, sizes = int(n_cur), int(n_resamples), self.sizes
        if n < sizes[0] or n >= sizes[-1]:
            return self._simulated(min(n, sizes[-1]), b)
        hi = int(np.searchsorted(sizes, n, side="right"))
        lo_size, hi_size = sizes[hi - 1], sizes[hi]
        lower = self._simulated(lo_size, b)
        if n == lo_size:
            return lower
        upper = self._simulated(hi_size, b)
        n_ref = self.model.n_ref_

        def log_s(m: int) -> float:
            return math.log(1.0 / n_ref + 1.0 / m)

        w = (log_s(lo_size) - log_s(n)) / (log_s(lo_size) - log_s(hi_size))
        out: FloatArray = (1.0 - w) * lower + w * upper
        return out

    def p_value(self, n_cur: int, statistic: float, n_resamples: int | None = None) -> float:
        """(1 + #{null >= statistic}) / (B + 1) on the interpolated null; B defaults to
        2,000. A null value within a relative 1e-12 of ``statistic`` counts as reaching it."""
        if not (is_number(statistic) and math.isfinite(statistic)):
            raise config_error("statistic", statistic, "a finite number")
        b = MIN_RESAMPLES if n_resamples is None else n_resamples
        stats = self.null_statistics(n_cur, b)
        tol = _TIE * max(1.0, abs(float(statistic)))
        exceed = stats.size - int(np.searchsorted(stats, float(statistic) - tol, side="left"))
        return (1 + exceed) / (stats.size + 1)

    def threshold(self, n_cur: int, level: float, n_resamples: int | None = None) -> float:
        """The statistic above which the p-value is below ``level``; ``inf`` when the
        number of draws cannot reach it."""
        if not (is_number(level) and 0 < level < 1):
            raise config_error("level", level, "a number in (0, 1)")
        b = resamples_for_level(level) if n_resamples is None else n_resamples
        return critical_value(self.null_statistics(n_cur, b), float(level))
