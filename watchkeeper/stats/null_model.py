"""The null model: a drift statistic's natural spread, simulated from the reference.

Large samples make p-value tests flag shifts nobody cares about, and small windows make
distances noisy; so a statistic is judged against the values it takes when nothing has
changed, at the current sample size. :class:`NullModel` simulates those values for one
method and one reference column, and turns an observed statistic into a resampling
p-value or a threshold. :mod:`watchkeeper.stats.verdict` combines the p-values of many
columns into verdicts. It serves the methods chosen by name (Jensen–Shannon, PSI,
Wasserstein …) and ``chi2`` on sparse tables, through a grid of sizes simulated once
(:class:`~watchkeeper.stats.null_grid.GridNull`); the default methods use laws known at
fit time instead (:mod:`watchkeeper.stats.null_laws`). Both cost nothing at a new size.

Notes
-----
*The null model.* The reference is taken as a sample of the "no drift" distribution,
discretised on the method's own representation: proportions ``p`` of its bins or
categories for ``"counts"`` methods, G equal-probability atoms (reference quantiles) for
``"cdf"`` methods. Under no drift a reference replica of size n and a current sample of
size m are both drawn from it, Multinomial(n, p) and Multinomial(m, p) (for atoms, the
counts become CDFs on the atom grid by cumulative sums), and the method's vectorised
kernel gives the statistic for B such pairs at once. Drawing the replica too, instead of
comparing with the fixed reference, keeps the reference's own sampling noise in the
spread — it is as large as the current sample's when n ≈ m. The cost depends on B and
the number of bins or atoms, not on n or m. Once every bin expects at least
``GAUSSIAN_MIN_EXPECTED`` values the multinomial is replaced by its normal approximation
(mean n·p, covariance n·(diag p − p pᵀ), total exactly n), several times faster and far
more accurate than the resampling noise at those sizes. When only a few slots expect
fewer (new categories, new extremes: the ``unseen`` slots) and the others at least twice
as many, those few are drawn exactly, with one slot for the rest, and the rest's count is
spread over its slots by the normal approximation. Draws are seeded by the model's
seed, m and B, so a verdict is reproducible.

*P-values and thresholds.* With the B null statistics T₁…T_B and the observed t, the
p-value is p = (1 + #{T_b ≥ t}) / (B + 1) (Efron & Tibshirani, ch. 15–16), valid at any B
when t and the T_b are exchangeable under no drift. The reported threshold at a level ℓ
is the (1 − ℓ) quantile of the T_b taken as the order statistic that matches this rule
exactly: t is above the threshold if and only if p < ℓ.

*Assumptions and limits.* The reference is a sample of the no-drift distribution, and
the null model resamples a discretised version of it: a bin or category the reference
left empty is never drawn unless given a probability (``unseen`` in
:meth:`NullModel.fit_counts`), and G atoms see no variation finer than 1/G in rank, so
the simulated spread of KS or Wasserstein is slightly too narrow (about 3% for KS with
200 atoms at large samples). When the observed statistic comes from quantile sketches
rather than exact counts, the sketch's rank error adds to it and is not in the null
model: callers must allow for it.

References
----------
Efron, B. & Tibshirani, R. (1993). *An Introduction to the Bootstrap*, ch. 15–16
(permutation and bootstrap tests). Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap
Methods and their Application*, §4.2 (the (1 + #)/(B + 1) p-value).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from watchkeeper.errors import ConfigError
from watchkeeper.stats._validate import config_error, is_count, is_number
from watchkeeper.stats.drift import DriftMethod
from watchkeeper.types import FloatArray

__all__ = [
    "GAUSSIAN_MIN_EXPECTED",
    "MAX_RESAMPLES",
    "MIN_RESAMPLES",
    "SIZE_STEP",
    "NullModel",
    "critical_value",
    "null_size",
    "resamples_for_level",
]

MIN_RESAMPLES = 2_000
"""Fewest null draws used by default (also the screening pass of
:func:`watchkeeper.stats.verdict.judge`)."""
MAX_RESAMPLES = 200_000
"""Most null draws used by default, whatever the number of columns."""
GAUSSIAN_MIN_EXPECTED = 50.0
"""Smallest expected count per bin for which null draws use the normal approximation."""
SIZE_STEP = 1.05
"""Null spreads are simulated on a grid of sample sizes 5% apart (see :func:`null_size`)."""

_DRAWS_BEYOND = 20  # default B leaves about this many null draws beyond the threshold
_MAX_CELLS = 1_000_000  # simulated counts per chunk: ~8 MB per array in the kernels
_CACHE_SIZE = 8  # null samples kept per model; a window size often repeats
_EXACT_BELOW = 100
_TIE = 1e-12  # relative tolerance that counts a null draw equal to t as a tie


def _gaussian_counts(rng: np.random.Generator, n: int, p: FloatArray, size: int) -> FloatArray:
    """``size`` normal approximations of Multinomial(n, p) count vectors (total n)."""
    # w has covariance diag(p); removing p·sum(w) gives diag(p) − p pᵀ and total 0
    w = rng.standard_normal((size, p.size)) * np.sqrt(p)
    w -= p * w.sum(axis=1, keepdims=True)
    approx: FloatArray = np.maximum(n * p + math.sqrt(n) * w, 0.0)
    return approx


def null_size(n_cur: int) -> int:
    """The sample size a null spread is simulated at for ``n_cur`` current values.

    Below 100 it is ``n_cur``; above, the largest point not above ``n_cur`` of a grid
    100 * 1.05^k. A smaller sample has the wider natural spread, so the threshold is
    conservative (at most about 2.5% high: the spread shrinks as 1/sqrt(n)) and the
    false-alarm rate stays at or below the one configured; windows of similar size share
    one simulated null, so a stream whose window sizes wander does not simulate anew for
    every window.

    Examples
    --------
    >>> null_size(57), null_size(1_000), null_size(1_013), null_size(50_000)
    (57, 990, 990, 49095)
    """
    if n_cur < _EXACT_BELOW:
        return int(n_cur)
    k = math.floor(math.log(n_cur / _EXACT_BELOW) / math.log(SIZE_STEP))
    while k > 0 and math.floor(_EXACT_BELOW * SIZE_STEP**k) > n_cur:
        k -= 1
    return math.floor(_EXACT_BELOW * SIZE_STEP**k)


def resamples_for_level(level: float) -> int:
    """Null draws that resolve a significance level: ceil(20/level) in [2,000, 200,000].

    Examples
    --------
    >>> resamples_for_level(0.01), resamples_for_level(0.01 / 25), resamples_for_level(1e-6)
    (2000, 50000, 200000)
    """
    if not (is_number(level) and 0 < level < 1):
        raise config_error("level", level, "a number in (0, 1)")
    wanted = math.ceil(round(_DRAWS_BEYOND / level, 6))
    return int(min(MAX_RESAMPLES, max(MIN_RESAMPLES, wanted)))


def critical_value(null: FloatArray, level: float) -> float:
    """The null order statistic t* such that a statistic is above t* iff its p-value < level.

    ``null`` holds the B null statistics, sorted; ``inf`` when no p-value can reach
    ``level`` (level <= 1/(B + 1)).

    Examples
    --------
    >>> null = np.arange(1.0, 100.0)  # B = 99 draws: p-values are multiples of 1/100
    >>> critical_value(null, 0.05), critical_value(null, 0.001)
    (96.0, inf)
    """
    b = null.size
    allowed = max(math.ceil(level * (b + 1)) - 2, -1)  # most draws >= t leaving p < level
    while (allowed + 2) / (b + 1) < level:  # guard the float rounding of the ceil
        allowed += 1
    while allowed >= 0 and (allowed + 1) / (b + 1) >= level:
        allowed -= 1
    return math.inf if allowed < 0 else float(null[b - 1 - allowed])


class NullModel:
    """The no-drift distribution of one method's statistic for one reference column.

    Parameters
    ----------
    method
        The drift method; its vectorised kernel is applied to the simulated pairs.
    seed
        Base seed, >= 0; combined with the current size and the number of draws.

    Attributes
    ----------
    p_
        Reference proportions of the bins, categories or distinct atoms.
    n_ref_
        Reference sample size: the size of each simulated reference replica.
    atoms_
        Sorted distinct atoms for ``"cdf"`` methods, ``None`` for ``"counts"`` methods.
    ref_scale_
        Reference standard deviation passed to ``"cdf"`` kernels (0 for counts).

    Notes
    -----
    The simulation is in the module Notes. Null samples are kept for the last
    ``8`` (current size, draws) pairs; a new ``fit`` forgets them.

    Examples
    --------
    >>> from watchkeeper.stats.drift import get_method
    >>> null = NullModel(get_method("jensen_shannon")).fit_counts([500, 300, 200])
    >>> t = null.threshold(1_000, 0.01)
    >>> round(t, 3), null.p_value(1_000, t) >= 0.01, null.p_value(1_000, 0.1) < 0.01
    (0.057, True, True)
    """

    def __init__(self, method: DriftMethod, *, seed: int = 0) -> None:
        if not isinstance(method, DriftMethod):
            raise config_error("method", method, "a DriftMethod (see get_method)")
        if not (is_count(seed) and seed >= 0):
            raise config_error("seed", seed, "an integer >= 0")
        self.method = method
        self.seed = int(seed)
        self._cache: OrderedDict[tuple[int, int], FloatArray] = OrderedDict()

    def fit_counts(
        self,
        ref_counts: npt.ArrayLike,
        *,
        unseen: Mapping[int, float] | None = None,
    ) -> NullModel:
        """Fit on the reference's bin or category counts (``"counts"`` methods).

        Parameters
        ----------
        ref_counts
            Non-negative counts, one per slot, in the order the current counts will use.
        unseen
            ``{slot: probability}`` for slots the reference cannot fill by construction
            — the underflow and overflow bins of its own quantile bins (one more draw is
            a new extreme with probability 1/(n+1) on each side), the "other" slot of its
            categories (new categories, by Good–Turing). Without it the null model never
            draws a value there while real no-drift samples do, and false alarms exceed α.

        Returns
        -------
        NullModel
            ``self``, fitted.
        """
        if self.method.counts_statistic is None:
            raise config_error(
                "method", self.method.name, "a counts method for fit_counts (use fit_atoms)"
            )
        counts = np.asarray(ref_counts, dtype=np.float64)
        if counts.ndim != 1 or not np.isfinite(counts).all() or (counts < 0).any():
            raise config_error("ref_counts", counts.tolist()[:10], "finite counts >= 0")
        if counts.sum() <= 0:
            raise config_error("ref_counts", counts.tolist()[:10], "counts with a total > 0")
        p = counts / counts.sum()
        for slot, mass in (unseen or {}).items():
            if not (is_count(slot) and 0 <= slot < p.size):
                raise config_error("unseen", slot, f"slot indices in [0, {p.size})")
            if not (is_number(mass) and 0 <= mass < 1):
                raise config_error("unseen", mass, "probabilities in [0, 1)")
            p[slot] = max(p[slot], float(mass))
        self._set(p / p.sum(), round(counts.sum()), None, 0.0)
        return self

    def fit_atoms(self, atoms: npt.ArrayLike, n_ref: int, ref_scale: float) -> NullModel:
        """Fit on G equal-probability reference atoms (``"cdf"`` methods).

        Parameters
        ----------
        atoms
            Reference quantiles at ranks (i + 0.5)/G, i = 0 … G−1; tied atoms merge into
            one with their summed probability (discrete data).
        n_ref
            Reference sample size.
        ref_scale
            Reference standard deviation, for kernels that normalise (Wasserstein).

        Returns
        -------
        NullModel
            ``self``, fitted.
        """
        if self.method.cdfs_statistic is None:
            raise config_error(
                "method", self.method.name, "a cdf method for fit_atoms (use fit_counts)"
            )
        values = np.asarray(atoms, dtype=np.float64)
        if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
            raise config_error("atoms", values.tolist()[:10], "a non-empty 1-d array, finite")
        if not (is_count(n_ref) and n_ref > 0):
            raise config_error("n_ref", n_ref, "an integer > 0")
        if not (is_number(ref_scale) and 0 <= ref_scale < math.inf):
            raise config_error("ref_scale", ref_scale, "a finite number >= 0")
        grid, weights = np.unique(values, return_counts=True)
        self._set(weights / weights.sum(), int(n_ref), grid, float(ref_scale))
        return self

    def _set(self, p: FloatArray, n_ref: int, atoms: FloatArray | None, scale: float) -> None:
        self.p_: FloatArray = p
        self.n_ref_ = n_ref
        self.atoms_: FloatArray | None = atoms
        self.ref_scale_ = scale
        self._min_mass = float(p[p > 0].min())
        self._cache.clear()

    def null_statistics(self, n_cur: int, n_resamples: int) -> FloatArray:
        """Sorted statistics of ``n_resamples`` simulated no-drift pairs at size ``n_cur``
        (simulated at :func:`null_size` of it: conservative, and shared by nearby sizes).

        Cached for the last few ``(n_cur, n_resamples)``; the returned array is shared,
        read-only.
        """
        if not hasattr(self, "p_"):
            raise ConfigError(
                "NullModel: used before fit; expected fit_counts(...) or fit_atoms(...) first",
                field="null",
                value=None,
                expected="a fitted NullModel",
            )
        if not (is_count(n_cur) and n_cur > 0):
            raise config_error("n_cur", n_cur, "an integer > 0")
        if not (is_count(n_resamples) and n_resamples > 0):
            raise config_error("n_resamples", n_resamples, "an integer > 0")
        key = (null_size(int(n_cur)), int(n_resamples))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        stats = self.simulate(*key)
        self._cache[key] = stats
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return stats

    def simulate(self, n_cur: int, n_resamples: int) -> FloatArray:
        """Sorted statistics of ``n_resamples`` no-drift pairs at exactly ``n_cur`` current
        values (seeded by the model's seed, ``n_cur`` and ``n_resamples``; not cached).

        Examples
        --------
        >>> from watchkeeper.stats.drift import get_method
        >>> null = NullModel(get_method("psi")).fit_counts([500, 300, 200])
        >>> draws = null.simulate(1_000, 2_000)
        >>> draws.size, bool((draws[1:] >= draws[:-1]).all())
        (2000, True)
        """
        if not hasattr(self, "p_"):
            raise config_error("null", None, "a fitted NullModel (fit_counts or fit_atoms)")
        rng = np.random.default_rng([self.seed, int(n_cur), int(n_resamples)])
        chunk = max(1, _MAX_CELLS // self.p_.size)
        parts = []
        for start in range(0, n_resamples, chunk):
            size = min(chunk, n_resamples - start)
            ref = self._draw(rng, self.n_ref_, size)
            cur = self._draw(rng, int(n_cur), size)
            parts.append(np.asarray(self._kernel(ref, cur), dtype=np.float64))
        stats = np.sort(np.concatenate(parts))
        stats.flags.writeable = False
        return stats

    def _draw(self, rng: np.random.Generator, n: int, size: int) -> FloatArray:
        """``size`` count vectors of a sample of ``n`` from ``p_`` (multinomial or normal)."""
        p = self.p_
        if n * self._min_mass >= GAUSSIAN_MIN_EXPECTED:
            return _gaussian_counts(rng, n, p, size)
        small = n * p < GAUSSIAN_MIN_EXPECTED
        big_mass = float(p[~small].sum())
        if small.all() or n * float(p[~small].min()) * 0.5 < GAUSSIAN_MIN_EXPECTED:
            exact: FloatArray = rng.multinomial(n, p, size=size).astype(np.float64)
            return exact
        # a few rare slots (new categories, new extremes) keep exact counts; the rest, given
        # how many values the rare ones took, is a multinomial its normal approximation fits
        out = np.empty((size, p.size))
        rare = rng.multinomial(n, np.append(p[small], big_mass), size=size).astype(np.float64)
        out[:, small] = rare[:, :-1]
        share = p[~small] / big_mass
        w = rng.standard_normal((size, share.size)) * np.sqrt(share)
        w -= share * w.sum(axis=1, keepdims=True)
        rest = rare[:, -1:]
        out[:, ~small] = np.maximum(rest * share + np.sqrt(rest) * w, 0.0)
        return out

    def _kernel(self, ref: FloatArray, cur: FloatArray) -> FloatArray:
        method = self.method
        if self.atoms_ is None:
            if method.counts_statistic is None:  # pragma: no cover - checked in fit_counts
                raise config_error("method", method.name, "a counts method")
            return method.counts_statistic(ref, cur)
        if method.cdfs_statistic is None:  # pragma: no cover - checked in fit_atoms
            raise config_error("method", method.name, "a cdf method")
        cdf_ref = np.cumsum(ref, axis=-1) / ref.sum(axis=-1, keepdims=True)
        cdf_cur = np.cumsum(cur, axis=-1) / cur.sum(axis=-1, keepdims=True)
        return method.cdfs_statistic(self.atoms_, cdf_ref, cdf_cur, self.ref_scale_)

    def threshold(self, n_cur: int, level: float, n_resamples: int | None = None) -> float:
        """The (1 − level) quantile of the null statistics at size ``n_cur``.

        It is the order statistic t* for which a statistic is above t* exactly when its
        :meth:`p_value` is below ``level``; ``inf`` when ``level`` <= 1/(B + 1), which no
        p-value can reach. ``n_resamples`` defaults to :func:`resamples_for_level`.
        """
        if not (is_number(level) and 0 < level < 1):
            raise config_error("level", level, "a number in (0, 1)")
        b = resamples_for_level(level) if n_resamples is None else n_resamples
        return critical_value(self.null_statistics(n_cur, b), float(level))

    def p_value(self, n_cur: int, statistic: float, n_resamples: int | None = None) -> float:
        """Resampling p-value (1 + #{null >= statistic}) / (B + 1); B defaults to 2,000.

        A null draw within a relative 1e-12 of ``statistic`` counts as reaching it, so
        ties (discrete statistics, rounding) make the p-value larger, never smaller.
        """
        if not (is_number(statistic) and math.isfinite(statistic)):
            raise config_error("statistic", statistic, "a finite number")
        b = MIN_RESAMPLES if n_resamples is None else n_resamples
        stats = self.null_statistics(n_cur, b)
        tol = _TIE * max(1.0, abs(float(statistic)))
        exceed = stats.size - int(np.searchsorted(stats, float(statistic) - tol, side="left"))
        return (1 + exceed) / (stats.size + 1)
