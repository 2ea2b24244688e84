"""From statistics to verdicts: natural spread, minimum effect, multiple testing.

Large production samples make p-value tests flag shifts nobody cares about, and small
windows make distances noisy. So a column is judged drifted only when its statistic is

1. beyond the statistic's **natural spread** at the current sample size — the values it
   takes when nothing has changed, simulated from the reference (:class:`NullModel`) —
   at the configured false-alarm rate α after correcting for testing many columns; and
2. at least the method's **minimum effect** (:attr:`DriftConfig.effect_floor`), so that
   a trivial shift on a huge sample does not alarm.

Across columns, :func:`judge` reports the share of drifted columns and a dataset verdict.

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
more accurate than the resampling noise at those sizes. Draws are seeded by the model's
seed, m and B, so a verdict is reproducible.

*P-values and thresholds.* With the B null statistics T₁…T_B and the observed t, the
p-value is p = (1 + #{T_b ≥ t}) / (B + 1) (Efron & Tibshirani, ch. 15–16), valid at any B
when t and the T_b are exchangeable under no drift. The reported threshold at a level ℓ
is the (1 − ℓ) quantile of the T_b taken as the order statistic that matches this rule
exactly: t is above the threshold if and only if p < ℓ.

*Multiple testing.* With K columns, Bonferroni multiplies each p-value by K (capped at
1); Benjamini–Hochberg uses the step-up adjusted p-values, equal to
``scipy.stats.false_discovery_control``. Under no drift at all both keep the chance of
any false alarm at about α. A column is drifted when its adjusted p-value is below α
and its effect reaches the floor. The threshold reported for a column is the null
quantile at its corrected level: α/K (Bonferroni), α·k*/K (Benjamini–Hochberg, k* the
number of columns whose adjusted p-value is below α; α/K when there are none), or α.

*Resolution.* The smallest p-value is 1/(B + 1), so the smallest corrected level α/K
needs B ≥ K/α draws merely to be reachable; by default B = ceil(20 K/α), which leaves
about 20 null draws beyond the threshold, clipped to [2,000, 200,000]. Past
K = 10,000·α columns the cap makes B smaller than 20 K/α, and past K = 200,000·α no
column can reach its level at all: set ``n_resamples`` or use fewer columns. Draws are
spent where they matter: every column is screened with max(2,000, ceil(2 K/α)) draws
— enough to place its threshold — and only a column whose screened p-value is below 5α
and whose effect reaches its floor gets the full B (a screened p-value of 5α or more
cannot fall below α, the loosest corrected level, except with negligible probability).

*Assumptions and limits.* The reference is a sample of the no-drift distribution, and
the null model resamples a discretised version of it: a bin or category the reference
left empty is never drawn unless given a probability (``unseen`` in
:meth:`NullModel.fit_counts`), and G atoms see no variation finer than 1/G in rank, so
the simulated spread of KS or Wasserstein is slightly too narrow (about 3% for KS with
200 atoms at large samples). When the observed statistic comes from quantile sketches
rather than exact counts, the sketch's rank error adds to it and is not in the null
model: callers must allow for it. ``mode="p_value"`` uses the methods' analytic
p-values instead (KS, chi-square), which carry no such simulation but do not adapt to
the binning or to the reference's own noise.

References
----------
Efron, B. & Tibshirani, R. (1993). *An Introduction to the Bootstrap*, ch. 15–16
(permutation and bootstrap tests). Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap
Methods and their Application*, §4.2 (the (1 + #)/(B + 1) p-value). Benjamini, Y. &
Hochberg, Y. (1995). "Controlling the false discovery rate: a practical and powerful
approach to multiple testing". *JRSS B* 57(1), 289–300.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from watchkeeper.errors import ConfigError
from watchkeeper.jsonable import json_ready
from watchkeeper.stats.drift import METHODS, DriftMethod, MethodResult, get_method
from watchkeeper.types import FloatArray

__all__ = [
    "GAUSSIAN_MIN_EXPECTED",
    "MAX_RESAMPLES",
    "MIN_RESAMPLES",
    "ColumnDrift",
    "DatasetDrift",
    "DriftConfig",
    "NullModel",
    "Observation",
    "judge",
    "resamples_for_level",
]

Mode = Literal["natural_spread", "p_value"]
Correction = Literal["benjamini_hochberg", "bonferroni", "none"]

MIN_RESAMPLES = 2_000
"""Fewest null draws used by default (also the screening pass of :func:`judge`)."""
MAX_RESAMPLES = 200_000
"""Most null draws used by default, whatever the number of columns."""
GAUSSIAN_MIN_EXPECTED = 50.0
"""Smallest expected count per bin for which null draws use the normal approximation."""

_DRAWS_BEYOND = 20  # default B leaves about this many null draws beyond the threshold
_SCREEN_DRAWS_BEYOND = 2  # the screening pass leaves this many, enough to place it
_SCREEN_FACTOR = 5.0  # refine a column whose screened p-value is below this times alpha
_MAX_CELLS = 1_000_000  # simulated counts per chunk: ~8 MB per array in the kernels
_CACHE_SIZE = 8  # null samples kept per model; a window size often repeats
SIZE_STEP = 1.05
"""Null spreads are simulated on a grid of sample sizes 5% apart (see :func:`null_size`)."""
_EXACT_BELOW = 100
_TIE = 1e-12  # relative tolerance that counts a null draw equal to t as a tie


def _config_error(name: str, value: object, expected: str, where: str = "") -> ConfigError:
    return ConfigError(
        f"{where}{name}: expected {expected}, got {value!r}",
        field=name,
        value=value,
        expected=expected,
    )


def _is_number(x: object) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def _is_count(x: object) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


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
    if not (_is_number(level) and 0 < level < 1):
        raise _config_error("level", level, "a number in (0, 1)")
    wanted = math.ceil(round(_DRAWS_BEYOND / level, 6))
    return int(min(MAX_RESAMPLES, max(MIN_RESAMPLES, wanted)))


def _critical_value(null: FloatArray, level: float) -> float:
    """The null order statistic t* with: a statistic is above t* iff its p-value < level."""
    b = null.size
    allowed = max(math.ceil(level * (b + 1)) - 2, -1)  # most draws >= t leaving p < level
    while (allowed + 2) / (b + 1) < level:  # guard the float rounding of the ceil
        allowed += 1
    while allowed >= 0 and (allowed + 1) / (b + 1) >= level:
        allowed -= 1
    return math.inf if allowed < 0 else float(null[b - 1 - allowed])


@dataclass(frozen=True)
class DriftConfig:
    """How drift is judged. Validated at construction, so a bad config fails at load.

    Raises
    ------
    ConfigError
        A field out of range or not one of its choices; the message names the field,
        the value and what was expected.

    Examples
    --------
    >>> config = DriftConfig(false_alarm_rate=0.05)
    >>> config.correction, config.resamples_for(25)
    ('benjamini_hochberg', 10000)
    >>> DriftConfig(drift_share=0)
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: drift_share: expected a number in (0, 1], got 0
    """

    method: str | None = None
    """Drift method for every column (a registered name); ``None`` picks one by column kind
    and current sample size (:func:`watchkeeper.stats.drift.default_method`)."""
    mode: Mode = "natural_spread"
    """``"natural_spread"``: p-values from the statistic's simulated no-drift spread at the
    current sample size; ``"p_value"``: the method's analytic p-value (ks and chi2 only)."""
    false_alarm_rate: float = 0.01
    """α, in (0, 0.5): the chance that a column without drift is flagged (with
    ``correction="none"``), or that any column is, when none drifted (with a correction)."""
    effect_floor: float | None = None
    """Minimum effect for a drift verdict, >= 0; ``None`` = the method's own floor
    (:attr:`~watchkeeper.stats.drift.DriftMethod.effect_floor`), ``0`` disables it."""
    correction: Correction = "benjamini_hochberg"
    """Multiple-testing correction across the columns judged together:
    ``"benjamini_hochberg"``, ``"bonferroni"`` or ``"none"``."""
    drift_share: float = 0.5
    """The dataset drifts when at least this share of the judged columns drifted, in (0, 1]."""
    n_resamples: int | None = None
    """Null draws per column, >= 100; ``None`` = ceil(20 K/α) in [2,000, 200,000], K the
    number of columns (1 with ``correction="none"``), so that the smallest corrected level
    α/K is resolved (module Notes)."""
    seed: int = 0
    """Seed of the null simulations, >= 0, for reproducible p-values and thresholds."""

    def __post_init__(self) -> None:
        if self.method is not None:
            get_method(self.method)  # ConfigError listing the known methods
        if self.mode not in ("natural_spread", "p_value"):
            raise _config_error("mode", self.mode, "one of: natural_spread, p_value")
        alpha = self.false_alarm_rate
        if not (_is_number(alpha) and 0 < alpha < 0.5):
            raise _config_error("false_alarm_rate", alpha, "a number in (0, 0.5)")
        floor = self.effect_floor
        if floor is not None and not (_is_number(floor) and 0 <= floor < math.inf):
            raise _config_error("effect_floor", floor, "a finite number >= 0 or None")
        if self.correction not in ("benjamini_hochberg", "bonferroni", "none"):
            raise _config_error(
                "correction", self.correction, "one of: benjamini_hochberg, bonferroni, none"
            )
        if not (_is_number(self.drift_share) and 0 < self.drift_share <= 1):
            raise _config_error("drift_share", self.drift_share, "a number in (0, 1]")
        b = self.n_resamples
        if b is not None and not (_is_count(b) and b >= 100):
            raise _config_error("n_resamples", b, "an integer >= 100 or None")
        if not (_is_count(self.seed) and self.seed >= 0):
            raise _config_error("seed", self.seed, "an integer >= 0")

    def _smallest_level(self, n_columns: int) -> float:
        k = max(n_columns, 1) if self.correction != "none" else 1
        return self.false_alarm_rate / k

    def resamples_for(self, n_columns: int) -> int:
        """Null draws per column when ``n_columns`` are judged together (``n_resamples``)."""
        if self.n_resamples is not None:
            return self.n_resamples
        return resamples_for_level(self._smallest_level(n_columns))

    def _screen_resamples_for(self, n_columns: int) -> int:
        level = self._smallest_level(n_columns)
        screen = max(MIN_RESAMPLES, math.ceil(round(_SCREEN_DRAWS_BEYOND / level, 6)))
        return min(self.resamples_for(n_columns), screen)


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
            raise _config_error("method", method, "a DriftMethod (see get_method)")
        if not (_is_count(seed) and seed >= 0):
            raise _config_error("seed", seed, "an integer >= 0")
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
            raise _config_error(
                "method", self.method.name, "a counts method for fit_counts (use fit_atoms)"
            )
        counts = np.asarray(ref_counts, dtype=np.float64)
        if counts.ndim != 1 or not np.isfinite(counts).all() or (counts < 0).any():
            raise _config_error("ref_counts", counts.tolist()[:10], "finite counts >= 0")
        if counts.sum() <= 0:
            raise _config_error("ref_counts", counts.tolist()[:10], "counts with a total > 0")
        p = counts / counts.sum()
        for slot, mass in (unseen or {}).items():
            if not (_is_count(slot) and 0 <= slot < p.size):
                raise _config_error("unseen", slot, f"slot indices in [0, {p.size})")
            if not (_is_number(mass) and 0 <= mass < 1):
                raise _config_error("unseen", mass, "probabilities in [0, 1)")
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
            raise _config_error(
                "method", self.method.name, "a cdf method for fit_atoms (use fit_counts)"
            )
        values = np.asarray(atoms, dtype=np.float64)
        if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
            raise _config_error("atoms", values.tolist()[:10], "a non-empty 1-d array, finite")
        if not (_is_count(n_ref) and n_ref > 0):
            raise _config_error("n_ref", n_ref, "an integer > 0")
        if not (_is_number(ref_scale) and 0 <= ref_scale < math.inf):
            raise _config_error("ref_scale", ref_scale, "a finite number >= 0")
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
        if not (_is_count(n_cur) and n_cur > 0):
            raise _config_error("n_cur", n_cur, "an integer > 0")
        if not (_is_count(n_resamples) and n_resamples > 0):
            raise _config_error("n_resamples", n_resamples, "an integer > 0")
        key = (null_size(int(n_cur)), int(n_resamples))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        rng = np.random.default_rng([self.seed, *key])
        chunk = max(1, _MAX_CELLS // self.p_.size)
        parts = []
        for start in range(0, key[1], chunk):
            size = min(chunk, key[1] - start)
            ref = self._draw(rng, self.n_ref_, size)
            cur = self._draw(rng, key[0], size)
            parts.append(np.asarray(self._kernel(ref, cur), dtype=np.float64))
        stats = np.sort(np.concatenate(parts))
        stats.flags.writeable = False
        self._cache[key] = stats
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return stats

    def _draw(self, rng: np.random.Generator, n: int, size: int) -> FloatArray:
        """``size`` count vectors of a sample of ``n`` from ``p_`` (multinomial or normal)."""
        p = self.p_
        if n * self._min_mass < GAUSSIAN_MIN_EXPECTED:
            exact: FloatArray = rng.multinomial(n, p, size=size).astype(np.float64)
            return exact
        # w has covariance diag(p); removing p·sum(w) gives diag(p) − p pᵀ and total 0
        w = rng.standard_normal((size, p.size)) * np.sqrt(p)
        w -= p * w.sum(axis=1, keepdims=True)
        approx: FloatArray = np.maximum(n * p + math.sqrt(n) * w, 0.0)
        return approx

    def _kernel(self, ref: FloatArray, cur: FloatArray) -> FloatArray:
        method = self.method
        if self.atoms_ is None:
            if method.counts_statistic is None:  # pragma: no cover - checked in fit_counts
                raise _config_error("method", method.name, "a counts method")
            return method.counts_statistic(ref, cur)
        if method.cdfs_statistic is None:  # pragma: no cover - checked in fit_atoms
            raise _config_error("method", method.name, "a cdf method")
        cdf_ref = np.cumsum(ref, axis=-1) / ref.sum(axis=-1, keepdims=True)
        cdf_cur = np.cumsum(cur, axis=-1) / cur.sum(axis=-1, keepdims=True)
        return method.cdfs_statistic(self.atoms_, cdf_ref, cdf_cur, self.ref_scale_)

    def threshold(self, n_cur: int, level: float, n_resamples: int | None = None) -> float:
        """The (1 − level) quantile of the null statistics at size ``n_cur``.

        It is the order statistic t* for which a statistic is above t* exactly when its
        :meth:`p_value` is below ``level``; ``inf`` when ``level`` <= 1/(B + 1), which no
        p-value can reach. ``n_resamples`` defaults to :func:`resamples_for_level`.
        """
        if not (_is_number(level) and 0 < level < 1):
            raise _config_error("level", level, "a number in (0, 1)")
        b = resamples_for_level(level) if n_resamples is None else n_resamples
        return _critical_value(self.null_statistics(n_cur, b), float(level))

    def p_value(self, n_cur: int, statistic: float, n_resamples: int | None = None) -> float:
        """Resampling p-value (1 + #{null >= statistic}) / (B + 1); B defaults to 2,000.

        A null draw within a relative 1e-12 of ``statistic`` counts as reaching it, so
        ties (discrete statistics, rounding) make the p-value larger, never smaller.
        """
        if not (_is_number(statistic) and math.isfinite(statistic)):
            raise _config_error("statistic", statistic, "a finite number")
        b = MIN_RESAMPLES if n_resamples is None else n_resamples
        stats = self.null_statistics(n_cur, b)
        tol = _TIE * max(1.0, abs(float(statistic)))
        exceed = stats.size - int(np.searchsorted(stats, float(statistic) - tol, side="left"))
        return (1 + exceed) / (stats.size + 1)


@dataclass(frozen=True)
class Observation:
    """One column's measured statistic, ready to be judged with the others.

    Attributes
    ----------
    column, kind
        Column name and kind (``"numeric"``, ``"categorical"`` …).
    method
        The drift method that computed ``result``.
    result
        Its :class:`~watchkeeper.stats.drift.MethodResult` (statistic, p-value, effect).
    n_reference, n_current
        Sample sizes of the two sides (``n_current`` sizes the null simulation).
    null
        The column's :class:`NullModel` for the same method; required in
        ``"natural_spread"`` mode, unused in ``"p_value"`` mode.

    Examples
    --------
    >>> from watchkeeper.stats.drift import get_method
    >>> js = get_method("jensen_shannon")
    >>> obs = Observation("x", "numeric", js, js.from_counts([50, 50], [60, 40]), 100, 100)
    >>> round(obs.result.statistic, 4)
    0.0854
    """

    column: str
    kind: str
    method: DriftMethod
    result: MethodResult
    n_reference: int
    n_current: int
    null: NullModel | None = None

    def __post_init__(self) -> None:
        where = f"column {self.column!r}: "
        for name in ("n_reference", "n_current"):
            value = getattr(self, name)
            if not (_is_count(value) and value > 0):
                raise _config_error(name, value, "an integer > 0", where)
        for name in ("statistic", "effect"):
            value = getattr(self.result, name)
            if not (_is_number(value) and math.isfinite(value)):
                raise _config_error(name, value, "a finite number", where)
        if self.null is not None and self.null.method is not self.method:
            raise _config_error(
                "null", self.null.method.name, f"a null model of method {self.method.name!r}", where
            )


@dataclass(frozen=True)
class ColumnDrift:
    """The drift verdict of one column, with its evidence.

    Attributes
    ----------
    column, kind, method
        Column name, kind and drift method name.
    statistic, effect
        The method's statistic and effect size (equal except for chi2).
    effect_floor
        Minimum effect applied.
    threshold
        The statistic's null quantile at ``level`` (its natural spread); ``nan`` in
        ``"p_value"`` mode, ``inf`` when the draws cannot resolve ``level``.
    p_value, p_value_adjusted
        Resampling p-value (analytic in ``"p_value"`` mode), and after the correction.
    level
        The column's significance level after the correction (module Notes).
    n_reference, n_current
        Sample sizes.
    drifted
        ``p_value_adjusted < false_alarm_rate`` and ``effect >= effect_floor``.
    explanation
        One line saying the statistic, the threshold and the reason.

    Examples
    --------
    >>> from watchkeeper.stats.drift import get_method
    >>> js = get_method("jensen_shannon")
    >>> ref, cur = [250, 250, 250, 250], [400, 200, 200, 200]
    >>> null = NullModel(js).fit_counts(ref)
    >>> obs = Observation("x", "numeric", js, js.from_counts(ref, cur), 1_000, 1_000, null)
    >>> column = judge([obs], DriftConfig()).columns[0]
    >>> column.drifted, round(column.statistic, 3), round(column.threshold, 3)
    (True, 0.136, 0.063)
    >>> print(column.explanation)  # doctest: +NORMALIZE_WHITESPACE
    drift: Jensen-Shannon distance 0.1365 is above its natural spread 0.06287 at 1,000 rows
    (1% false-alarm rate), and above the minimum effect 0.02
    >>> column.to_dict()["p_value"] < 0.01
    True
    """

    column: str
    kind: str
    method: str
    statistic: float
    effect: float
    effect_floor: float
    threshold: float
    p_value: float
    p_value_adjusted: float
    level: float
    n_reference: int
    n_current: int
    drifted: bool
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping; non-finite numbers (``nan``, ``inf`` thresholds) become None."""
        out: dict[str, Any] = json_ready(asdict(self))
        return out


@dataclass(frozen=True)
class DatasetDrift:
    """The verdict over all columns judged together.

    Attributes
    ----------
    columns
        One :class:`ColumnDrift` per column, in the order given.
    n_drifted, share
        How many columns drifted, and their share of all (0 when there are none).
    drift_share_threshold
        :attr:`DriftConfig.drift_share`.
    drifted
        ``share >= drift_share_threshold`` (and at least one column).
    correction
        The multiple-testing correction applied.
    explanation
        One line, naming the drifted columns.

    Examples
    --------
    >>> from watchkeeper.stats.drift import get_method
    >>> js = get_method("jensen_shannon")
    >>> ref, cur = [250, 250, 250, 250], [400, 200, 200, 200]
    >>> null = NullModel(js).fit_counts(ref)
    >>> obs = Observation("x", "numeric", js, js.from_counts(ref, cur), 1_000, 1_000, null)
    >>> result = judge([obs], DriftConfig())
    >>> result.n_drifted, result.drifted, result["x"].method
    (1, True, 'jensen_shannon')
    >>> result.explanation
    'dataset drift: 1 of 1 columns drifted (100%; threshold 50%): x'
    """

    columns: tuple[ColumnDrift, ...]
    n_drifted: int
    share: float
    drift_share_threshold: float
    drifted: bool
    correction: str
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping, with each column's :meth:`ColumnDrift.to_dict`."""
        out = asdict(self)
        out["columns"] = [c.to_dict() for c in self.columns]
        return out

    def __getitem__(self, column: str) -> ColumnDrift:
        """The verdict of ``column``; ``KeyError`` when it was not judged."""
        for col in self.columns:
            if col.column == column:
                return col
        raise KeyError(column)


def _adjust(p: FloatArray, correction: Correction) -> FloatArray:
    """P-values adjusted across columns: Bonferroni min(1, pK) or Benjamini–Hochberg."""
    k = p.size
    if correction == "none" or k == 0:
        return p.copy()
    if correction == "bonferroni":
        return np.minimum(1.0, p * k)
    order = np.argsort(p)
    ranked = p[order] * k / np.arange(1, k + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(k)
    out[order] = np.minimum(ranked, 1.0)
    return out


def _levels(p_adj: FloatArray, alpha: float, correction: Correction) -> FloatArray:
    """Per-column level: p_i < level_i exactly when p_adj_i < alpha (module Notes)."""
    k = p_adj.size
    if correction == "none":
        return np.full(k, alpha)
    if correction == "bonferroni":
        return np.full(k, alpha / max(k, 1))
    rejected = int(np.count_nonzero(p_adj < alpha))  # k*, the Benjamini–Hochberg cut-off rank
    return np.full(k, alpha * max(rejected, 1) / max(k, 1))


def _percent(x: float) -> str:
    return f"{100 * x:.3g}%"


_CORRECTION_NAMES = {"benjamini_hochberg": "Benjamini-Hochberg", "bonferroni": "Bonferroni"}


def _explain(
    obs: Observation, col: ColumnDrift, config: DriftConfig, n_columns: int, b: int
) -> str:
    stat, name = col.statistic, obs.method.display_name
    rate = f"{_percent(config.false_alarm_rate)} false-alarm rate"
    corrected = config.correction != "none" and n_columns > 1
    among = f"{_CORRECTION_NAMES.get(config.correction)} over {n_columns} columns"
    beyond = col.p_value_adjusted < config.false_alarm_rate
    if config.mode == "p_value":
        core = (
            f"{name} {stat:.4g} has {'adjusted ' if corrected else ''}p-value "
            f"{col.p_value_adjusted:.3g}, {'below' if beyond else 'not below'} the {rate}"
            + (f" ({among})" if corrected else "")
        )
    elif math.isinf(col.threshold):
        return (
            f"no drift: {name} {stat:.4g} cannot be judged at {col.n_current:,} rows: "
            f"{b:,} resamples cannot resolve its level {col.level:.3g}; "
            f"expected n_resamples >= {math.ceil(1 / col.level):,}"
        )
    else:
        core = (
            f"{name} {stat:.4g} is {'above' if beyond else 'within'} its natural spread "
            f"{col.threshold:.4g} at {col.n_current:,} rows ({rate}"
            + (f", {among})" if corrected else ")")
        )
    if not beyond:
        return f"no drift: {core}"
    effect = "" if col.effect == stat else f"its effect size {col.effect:.4g} is "
    if col.drifted:
        return f"drift: {core}, and {effect}above the minimum effect {col.effect_floor:g}"
    return (
        f"no drift: {core}, but {effect}below the minimum effect {col.effect_floor:g} "
        "(a shift too small to matter)"
    )


def _check(observations: Sequence[Observation], config: DriftConfig) -> None:
    seen: set[str] = set()
    with_p = ", ".join(sorted(m.name for m in METHODS.values() if m.has_p_value))
    for obs in observations:
        if not isinstance(obs, Observation):
            raise _config_error("observations", obs, "Observation instances")
        if obs.column in seen:
            raise _config_error("column", obs.column, "each column once")
        seen.add(obs.column)
        where = f"column {obs.column!r}: "
        if config.mode == "p_value":
            p = obs.result.p_value
            if p is None:
                raise _config_error(
                    "method",
                    obs.method.name,
                    f"a method with an analytic p-value for mode='p_value' ({with_p}); "
                    f"{obs.method.name!r} has none, use mode='natural_spread'",
                    where,
                )
            if not (_is_number(p) and 0 <= p <= 1):
                raise _config_error("p_value", p, "a number in [0, 1]", where)
        elif obs.null is None:
            raise _config_error("null", None, "a NullModel in mode='natural_spread'", where)


def judge(observations: Sequence[Observation], config: DriftConfig) -> DatasetDrift:
    """Judge columns together: p-values, correction, effect floors, dataset share.

    Parameters
    ----------
    observations
        One :class:`Observation` per column, each column once.
    config
        Mode, false-alarm rate, effect floor, correction, share, resamples and seed
        (``config.method`` is for whoever picked the methods; it is not used here).

    Returns
    -------
    DatasetDrift
        The columns' verdicts in the order given, and the dataset's.

    Raises
    ------
    ConfigError
        ``mode="p_value"`` with a method that has no analytic p-value (the message
        names it), a ``"natural_spread"`` observation without a null model, or a
        column given twice.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.stats.drift import get_method
    >>> js = get_method("jensen_shannon")
    >>> rng = np.random.default_rng(0)
    >>> p = np.full(20, 0.05)
    >>> ref = rng.multinomial(100_000, p)
    >>> null = NullModel(js).fit_counts(ref)
    >>> q = np.linspace(0.03, 0.07, 20)  # a tilt of the bin proportions
    >>> same, shifted = rng.multinomial(5_000, p), rng.multinomial(5_000, q / q.sum())
    >>> obs = [Observation(name, "numeric", js, js.from_counts(ref, cur), 100_000, 5_000, null)
    ...        for name, cur in (("a", same), ("b", shifted))]
    >>> result = judge(obs, DriftConfig())
    >>> [c.drifted for c in result.columns], result.drifted
    ([False, True], True)
    >>> print(result["a"].explanation)  # doctest: +NORMALIZE_WHITESPACE
    no drift: Jensen-Shannon distance 0.02439 is within its natural spread 0.03969 at
    5,000 rows (1% false-alarm rate, Benjamini-Hochberg over 2 columns)
    """
    _check(observations, config)
    k = len(observations)
    alpha = config.false_alarm_rate
    b_full = config.resamples_for(k)
    b_screen = config._screen_resamples_for(k)
    floors = [
        obs.method.effect_floor if config.effect_floor is None else float(config.effect_floor)
        for obs in observations
    ]
    p = np.ones(k)
    draws = [0] * k
    for i, obs in enumerate(observations):
        if config.mode == "p_value":
            p[i] = float(obs.result.p_value)  # type: ignore[arg-type]  # checked in _check
            continue
        null, stat = obs.null, obs.result.statistic
        assert null is not None  # checked in _check
        p[i], draws[i] = null.p_value(obs.n_current, stat, b_screen), b_screen
        # a column whose effect is below its floor cannot drift: its screened p-value is
        # good enough for the correction of the others, so it is not refined
        if b_full > b_screen and p[i] < _SCREEN_FACTOR * alpha and obs.result.effect >= floors[i]:
            p[i], draws[i] = null.p_value(obs.n_current, stat, b_full), b_full
    p_adj = _adjust(p, config.correction)
    levels = _levels(p_adj, alpha, config.correction)
    columns = []
    for i, obs in enumerate(observations):
        threshold = math.nan
        if config.mode == "natural_spread" and obs.null is not None:
            null_stats = obs.null.null_statistics(obs.n_current, draws[i])
            threshold = _critical_value(null_stats, float(levels[i]))
        column = ColumnDrift(
            column=obs.column,
            kind=obs.kind,
            method=obs.method.name,
            statistic=float(obs.result.statistic),
            effect=float(obs.result.effect),
            effect_floor=floors[i],
            threshold=threshold,
            p_value=float(p[i]),
            p_value_adjusted=float(p_adj[i]),
            level=float(levels[i]),
            n_reference=int(obs.n_reference),
            n_current=int(obs.n_current),
            drifted=bool(p_adj[i] < alpha and obs.result.effect >= floors[i]),
            explanation="",
        )
        columns.append(replace(column, explanation=_explain(obs, column, config, k, draws[i])))
    drifted_names = [c.column for c in columns if c.drifted]
    share = len(drifted_names) / k if k else 0.0
    drifted = k > 0 and share >= config.drift_share
    names = ", ".join(drifted_names[:5]) + (", …" if len(drifted_names) > 5 else "")
    explanation = (
        f"{'dataset drift' if drifted else 'no dataset drift'}: {len(drifted_names)} of {k} "
        f"columns drifted ({_percent(share)}; threshold {_percent(config.drift_share)})"
        + (f": {names}" if names else "")
    )
    return DatasetDrift(
        columns=tuple(columns),
        n_drifted=len(drifted_names),
        share=share,
        drift_share_threshold=float(config.drift_share),
        drifted=drifted,
        correction=config.correction,
        explanation=explanation,
    )
