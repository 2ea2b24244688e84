"""Null laws whose cost does not depend on the current sample size.

:class:`~watchkeeper.stats.null_model.NullModel` simulates a statistic's no-drift spread
at each new current size, which costs seconds on the first window of every size. The
default methods do not need it: their no-drift law, once scaled, is the same at every
size, so it is known at fit time.

- :class:`BridgeNull`, for ``ks_binned``: under no drift, with n reference and m current
  values, sqrt(nm / (n + m)) · D tends to max_j |B(u_j)|, B a Brownian bridge and u_j the
  reference's cumulative shares at the bin boundaries. The factor nm / (n + m) carries
  both samples' noise, so a current sample much larger than the reference keeps the
  false-alarm rate with the effect floor off. The maxima are simulated once per set of
  shares and number of draws (seeded, so every run gives the same p-values), cached for
  the process and shared by every column with the same shares — 20 equal-probability
  bins of any continuous column share one. A p-value or threshold at any size is then a
  division and a binary search.
- :class:`ChiSquareLaw`, for ``chi2``: Pearson's statistic of the 2 × K table tends to the
  chi-square law with K' − 1 degrees of freedom (K' slots not empty on both sides); exact
  tails from SciPy, no draws at all.

Both have the interface :func:`watchkeeper.stats.verdict.judge` uses
(:class:`NullSpread`): ``p_value(n_cur, statistic, n_resamples)`` and
``threshold(n_cur, level, n_resamples)``.

Notes
-----
*Small samples.* The bridge law is the limit as n and m grow; on small current samples
the binned D is discrete and its tail is lighter than the limit's, so the test is
conservative there (0.7% false alarms at a nominal 1% with 30 rows, see the README's
false-alarm table), never liberal. The shares are rounded to 1/1,000 for sharing draws,
a shift of the points far inside the simulation's own noise.

*Resolution.* As for the resampled null, a p-value from B draws is (1 + #{M_b >= t}) /
(B + 1), and the threshold is the matching order statistic
(:func:`watchkeeper.stats.null_model.critical_value`).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy import special  # chi2.sf/isf are chdtrc/chdtri: the same, a tenth of the import

from watchkeeper.stats._validate import config_error, is_count, is_number
from watchkeeper.stats.drift import DriftMethod
from watchkeeper.stats.null_model import MIN_RESAMPLES, critical_value, resamples_for_level
from watchkeeper.types import FloatArray

__all__ = [
    "CHI_SQUARE_MIN_EXPECTED",
    "BridgeNull",
    "ChiSquareLaw",
    "NullSpread",
    "bridge_maxima",
    "chi_square_law_applies",
]

CHI_SQUARE_MIN_EXPECTED = 5.0
"""Smallest expected count per slot and side for which ``chi2`` is judged on its law."""

_CACHE_SIZE = 64  # (shares, draws, seed) entries kept for the process
_MAX_CELLS = 1_000_000  # normal draws per chunk: ~8 MB
_TIE = 1e-12
_SHARE_STEP = 1_000  # shares rounded to 1/1,000 so that columns share their draws

_cache: OrderedDict[tuple[tuple[int, ...], int, int], FloatArray] = OrderedDict()
_lock = threading.Lock()


class NullSpread(Protocol):
    """What :func:`~watchkeeper.stats.verdict.judge` needs of a column's no-drift law."""

    method: DriftMethod

    def p_value(self, n_cur: int, statistic: float, n_resamples: int | None = None) -> float:
        """P-value of ``statistic`` at ``n_cur`` current values."""
        ...  # pragma: no cover - protocol

    def threshold(self, n_cur: int, level: float, n_resamples: int | None = None) -> float:
        """The statistic above which the p-value is below ``level``."""
        ...  # pragma: no cover - protocol


def bridge_maxima(shares: tuple[int, ...], n_resamples: int, seed: int) -> FloatArray:
    """Sorted maxima of |B(u_j)| for a Brownian bridge B, u_j = shares[j] / 1,000.

    Seeded by ``seed`` and ``n_resamples``; cached for the process (shared, read-only).

    Examples
    --------
    >>> m = bridge_maxima(tuple(range(50, 1_000, 50)), 20_000, 0)
    >>> round(float(np.quantile(m, 0.99)), 1)  # below Kolmogorov's 1.63: 19 points only
    1.5
    """
    key = (shares, int(n_resamples), int(seed))
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    u = np.asarray(shares, dtype=np.float64) / _SHARE_STEP
    steps = np.sqrt(np.diff(np.concatenate([[0.0], u, [1.0]])))
    rng = np.random.default_rng([int(seed), int(n_resamples), len(shares)])
    chunk = max(1, _MAX_CELLS // steps.size)
    parts = []
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        walk = np.cumsum(rng.standard_normal((size, steps.size)) * steps, axis=1)
        bridge = walk[:, :-1] - u * walk[:, -1:]
        parts.append(np.abs(bridge).max(axis=1) if u.size else np.zeros(size))
    maxima = np.sort(np.concatenate(parts))
    maxima.flags.writeable = False
    with _lock:
        _cache[key] = maxima
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return maxima


def chi_square_law_applies(ref_counts: npt.ArrayLike, cur_counts: npt.ArrayLike) -> bool:
    """Whether the chi-square law is accurate for this table (else the null is simulated).

    Cochran's rule on the expected counts under no drift, taken from the reference's
    shares: every slot the reference filled expects at least 5 values on each side. A
    current value in a slot the reference left empty (a new category, a new extreme)
    has an expected count near 0, where the law is far too liberal (one new value in a
    30-row window against a 5,000-row reference adds 167 to the statistic): such tables
    are judged on the simulated null
    (:class:`~watchkeeper.stats.null_model.NullModel`), which gives those slots their
    Good–Turing mass.

    Examples
    --------
    >>> chi_square_law_applies([500, 300, 200], [50, 30, 20])
    True
    >>> chi_square_law_applies([500, 300, 200, 0], [50, 30, 19, 1])  # a new category
    False
    >>> chi_square_law_applies([990, 10], [90, 10])  # 0.9 expected in the rare slot
    False
    """
    ref = np.asarray(ref_counts, dtype=np.float64)
    cur = np.asarray(cur_counts, dtype=np.float64)
    seen = ref > 0
    if np.any(cur[~seen] > 0) or not seen.any():
        return False
    smallest = float(ref[seen].min())
    expected_cur = smallest * float(cur.sum()) / float(ref.sum())
    return min(smallest, expected_cur) >= CHI_SQUARE_MIN_EXPECTED


def _scale(n_ref: int, n_cur: int) -> float:
    return math.sqrt(n_ref * n_cur / (n_ref + n_cur))


class BridgeNull:
    """No-drift law of the binned KS D at any current size (module Notes).

    Parameters
    ----------
    method
        The ``ks_binned`` method (kept for the verdict's consistency check).
    seed
        Seed of the simulated maxima, >= 0.

    Examples
    --------
    >>> from watchkeeper.stats.drift import get_method
    >>> null = BridgeNull(get_method("ks_binned")).fit_counts([250] * 20)
    >>> t = null.threshold(1_000, 0.01, 20_000)
    >>> round(t, 3), null.p_value(1_000, t, 20_000) >= 0.01, null.p_value(1_000, 0.06) < 0.01
    (0.052, True, True)
    """

    def __init__(self, method: DriftMethod, *, seed: int = 0) -> None:
        if not isinstance(method, DriftMethod):
            raise config_error("method", method, "a DriftMethod (see get_method)")
        if not (is_count(seed) and seed >= 0):
            raise config_error("seed", seed, "an integer >= 0")
        self.method = method
        self.seed = int(seed)

    def fit_counts(
        self, ref_counts: npt.ArrayLike, *, unseen: Mapping[int, float] | None = None
    ) -> BridgeNull:
        """Fit on the reference's bin counts, in the bins' order.

        ``unseen`` gives slots the reference cannot fill by construction a probability
        (as in :meth:`watchkeeper.stats.null_model.NullModel.fit_counts`).
        """
        counts = np.asarray(ref_counts, dtype=np.float64)
        if counts.ndim != 1 or not np.isfinite(counts).all() or (counts < 0).any():
            raise config_error("ref_counts", counts.tolist()[:10], "finite counts >= 0")
        if counts.sum() <= 0:
            raise config_error("ref_counts", counts.tolist()[:10], "counts with a total > 0")
        p = counts / counts.sum()
        for slot, mass in (unseen or {}).items():
            if not (is_count(slot) and 0 <= slot < p.size):
                raise config_error("unseen", slot, f"slot indices in [0, {p.size})")
            p[slot] = max(p[slot], float(mass))
        cumulative = np.cumsum(p / p.sum())[:-1]
        # the bridge is 0 at shares 0 and 1: those boundaries add nothing
        rounded = np.rint(cumulative * _SHARE_STEP).astype(int)
        self.shares_ = tuple(int(s) for s in rounded if 0 < s < _SHARE_STEP)
        self.n_ref_ = round(counts.sum())
        return self

    def _maxima(self, n_resamples: int | None) -> FloatArray:
        if not hasattr(self, "shares_"):
            raise config_error("null", None, "a fitted BridgeNull (fit_counts first)")
        b = MIN_RESAMPLES if n_resamples is None else n_resamples
        if not (is_count(b) and b > 0):
            raise config_error("n_resamples", b, "an integer > 0")
        return bridge_maxima(self.shares_, int(b), self.seed)

    def null_statistics(self, n_cur: int, n_resamples: int) -> FloatArray:
        """Sorted no-drift D values at ``n_cur`` current values (maxima / scale)."""
        if not (is_count(n_cur) and n_cur > 0):
            raise config_error("n_cur", n_cur, "an integer > 0")
        return self._maxima(n_resamples) / _scale(self.n_ref_, int(n_cur))

    def p_value(self, n_cur: int, statistic: float, n_resamples: int | None = None) -> float:
        """(1 + #{maxima >= scaled statistic}) / (B + 1); B defaults to 2,000."""
        if not (is_number(statistic) and math.isfinite(statistic)):
            raise config_error("statistic", statistic, "a finite number")
        if not (is_count(n_cur) and n_cur > 0):
            raise config_error("n_cur", n_cur, "an integer > 0")
        maxima = self._maxima(n_resamples)
        scaled = float(statistic) * _scale(self.n_ref_, int(n_cur))
        tol = _TIE * max(1.0, abs(scaled))
        exceed = maxima.size - int(np.searchsorted(maxima, scaled - tol, side="left"))
        return (1 + exceed) / (maxima.size + 1)

    def threshold(self, n_cur: int, level: float, n_resamples: int | None = None) -> float:
        """D above which the p-value is below ``level``; ``inf`` when B cannot reach it."""
        if not (is_number(level) and 0 < level < 1):
            raise config_error("level", level, "a number in (0, 1)")
        b = resamples_for_level(level) if n_resamples is None else n_resamples
        return critical_value(self.null_statistics(n_cur, b), float(level))


class ChiSquareLaw:
    """Chi-square law with ``dof`` degrees of freedom for Pearson's statistic.

    Built per comparison, since the degrees of freedom depend on which slots are empty
    on both sides; it carries no draws, so ``n_resamples`` is ignored.

    Examples
    --------
    >>> from watchkeeper.stats.drift import get_method
    >>> law = ChiSquareLaw(get_method("chi2"), dof=3)
    >>> round(law.threshold(500, 0.01), 3), round(law.p_value(500, 11.345), 3)
    (11.345, 0.01)
    """

    def __init__(self, method: DriftMethod, *, dof: int) -> None:
        if not (is_count(dof) and dof >= 0):
            raise config_error("dof", dof, "an integer >= 0")
        self.method = method
        self.dof = int(dof)

    def p_value(self, n_cur: int, statistic: float, n_resamples: int | None = None) -> float:
        """The chi-square tail at ``statistic`` (1 with no degree of freedom)."""
        if not (is_number(statistic) and math.isfinite(statistic)):
            raise config_error("statistic", statistic, "a finite number")
        return 1.0 if self.dof < 1 else float(special.chdtrc(self.dof, float(statistic)))

    def threshold(self, n_cur: int, level: float, n_resamples: int | None = None) -> float:
        """The chi-square (1 − level) quantile (0 with no degree of freedom)."""
        if not (is_number(level) and 0 < level < 1):
            raise config_error("level", level, "a number in (0, 1)")
        return 0.0 if self.dof < 1 else float(special.chdtri(self.dof, float(level)))
