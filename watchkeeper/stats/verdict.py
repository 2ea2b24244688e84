"""From statistics to verdicts: natural spread, minimum effect, multiple testing.

Large production samples make p-value tests flag shifts nobody cares about, and small
windows make distances noisy. So a column is judged drifted only when its statistic is

1. beyond the statistic's **natural spread** at the current sample size: the
   distribution the statistic takes when nothing has changed, simulated by resampling
   the reference (:class:`NullModel`), at the configured false-alarm rate after the
   correction for testing many columns; and
2. at least the method's **minimum effect** (:attr:`DriftConfig.effect_floor`), so that
   a trivial shift on a huge sample does not alarm.

The null model. The reference is taken as the "no drift" distribution, discretised on
the method's own representation: bin or category proportions ``p`` for ``"counts"``
methods, G equal-probability atoms (reference quantiles) for ``"cdf"`` methods. Under no
drift a reference replica of size n and a current sample of size m are both drawn from
it — Multinomial(n, p) and Multinomial(m, p) — and the method's vectorised kernel gives
the statistic for B such pairs at once. Drawing the replica too (not comparing with the
fixed reference) keeps the reference's own sampling noise in the spread. The cost does
not depend on n or m, only on B and the number of bins or atoms.

P-values and corrections. The resampling p-value is (1 + #{null ≥ observed}) / (B + 1),
so its resolution is 1/(B + 1). With K columns the smallest corrected level is α/K, so by
default B = ceil(5 K / α) (at least 2,000, at most 200,000). Draws are spent where they
matter: every column is first screened with 2,000 draws, and only those whose p-value
is then below 5α get the full B. Bonferroni multiplies by K;
Benjamini–Hochberg uses the step-up adjusted p-values (as
``scipy.stats.false_discovery_control``); under no drift at all, both keep the chance of
any false alarm at about α. ``mode="p_value"`` uses the methods' analytic p-values
instead (KS, chi-square).

Limits. Binning and atoms discretise continuous data; the ``"cdf"`` methods on profiles
carry the quantile sketches' rank error, which this null model does not include.

References
----------
Efron & Tibshirani (1993), "An Introduction to the Bootstrap", ch. 16 (two-sample
resampling tests). Benjamini & Hochberg (1995), "Controlling the false discovery rate".
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from watchkeeper.errors import ConfigError
from watchkeeper.stats.drift import DriftMethod, MethodResult
from watchkeeper.types import FloatArray, IntArray

__all__ = [
    "ColumnDrift",
    "DatasetDrift",
    "DriftConfig",
    "NullModel",
    "Observation",
    "judge",
]

Mode = Literal["natural_spread", "p_value"]
Correction = Literal["benjamini_hochberg", "bonferroni", "none"]

_MAX_CELLS = 4_000_000  # multinomial cells per chunk: bounds memory at ~32 MB

GAUSSIAN_MIN_EXPECTED = 50.0
"""Smallest expected count per bin for which null draws use the normal approximation."""

SCREEN_RESAMPLES = 2_000
"""Null draws of the first pass; a column is refined with the full count only when this
pass finds its p-value below ``SCREEN_FACTOR`` times the false-alarm rate."""
SCREEN_FACTOR = 5.0


def _config_error(name: str, value: object, expected: str) -> ConfigError:
    return ConfigError(
        f"{name}: expected {expected}, got {value!r}", field=name, value=value, expected=expected
    )


@dataclass(frozen=True)
class DriftConfig:
    """How drift is judged. Validated at construction, so a bad config fails at load.

    Examples
    --------
    >>> DriftConfig(false_alarm_rate=0.05).correction
    'benjamini_hochberg'
    """

    method: str | None = None
    """Drift method for every column; ``None`` picks one by kind and sample size."""
    mode: Mode = "natural_spread"
    """``natural_spread`` (resampled reference) or ``p_value`` (analytic p-values)."""
    false_alarm_rate: float = 0.01
    """Configured false-alarm rate α, in (0, 0.5)."""
    effect_floor: float | None = None
    """Minimum effect for a drift verdict; ``None`` = the method's own, 0 disables."""
    correction: Correction = "benjamini_hochberg"
    """Multiple-testing correction across columns."""
    drift_share: float = 0.5
    """The dataset drifts when at least this share of compared columns drifted, in (0, 1]."""
    n_resamples: int | None = None
    """Null draws per column; ``None`` = ceil(5 K / α), clipped to [2,000, 200,000]."""
    seed: int = 0
    """Seed of the resampling, for reproducible thresholds."""

    def __post_init__(self) -> None:
        if self.mode not in ("natural_spread", "p_value"):
            raise _config_error("mode", self.mode, "one of: natural_spread, p_value")
        if not (isinstance(self.false_alarm_rate, float | int) and 0 < self.false_alarm_rate < 0.5):
            raise _config_error("false_alarm_rate", self.false_alarm_rate, "a number in (0, 0.5)")
        if self.effect_floor is not None and not (
            isinstance(self.effect_floor, float | int) and self.effect_floor >= 0
        ):
            raise _config_error("effect_floor", self.effect_floor, "a number >= 0 or None")
        if self.correction not in ("benjamini_hochberg", "bonferroni", "none"):
            raise _config_error(
                "correction", self.correction, "one of: benjamini_hochberg, bonferroni, none"
            )
        if not (isinstance(self.drift_share, float | int) and 0 < self.drift_share <= 1):
            raise _config_error("drift_share", self.drift_share, "a number in (0, 1]")
        if self.n_resamples is not None and not (
            isinstance(self.n_resamples, int) and self.n_resamples >= 100
        ):
            raise _config_error("n_resamples", self.n_resamples, "an integer >= 100 or None")

    def resamples_for(self, n_columns: int) -> int:
        """Null draws needed to resolve the smallest corrected level for ``n_columns``."""
        if self.n_resamples is not None:
            return self.n_resamples
        k = max(n_columns, 1) if self.correction != "none" else 1
        return int(min(200_000, max(2_000, math.ceil(5 * k / self.false_alarm_rate))))


class NullModel:
    """The no-drift distribution of one method's statistic for one reference column.

    Parameters
    ----------
    method
        The drift method; its vectorised kernel is applied to simulated pairs.
    seed
        Base seed; combined with the current sample size, so thresholds are reproducible.

    Examples
    --------
    >>> from watchkeeper.stats.drift import get_method
    >>> null = NullModel(get_method("jensen_shannon")).fit_counts([500, 300, 200])
    >>> round(null.threshold(1_000, 0.01), 3)
    0.059
    """

    def __init__(self, method: DriftMethod, *, seed: int = 0) -> None:
        self.method = method
        self.seed = seed
        self._cache: OrderedDict[tuple[int, int], FloatArray] = OrderedDict()

    def fit_counts(
        self,
        ref_counts: Sequence[int] | IntArray,
        *,
        unseen: Mapping[int, float] | None = None,
    ) -> NullModel:
        """Fit on reference bin or category counts (``"counts"`` methods); returns self.

        ``unseen`` gives a probability to slots the reference cannot fill by
        construction — the underflow and overflow bins of its own quantile bins (a new
        value falls outside the reference's range with probability 1/(n+1) on each side)
        and the "other" slot of its categories (new categories, by Good–Turing). Without
        it, the null model would never draw a value there, while real no-drift samples
        do, and the false-alarm rate would be too high.
        """
        if self.method.counts_statistic is None:
            raise _config_error("method", self.method.name, "a counts method for fit_counts")
        counts = np.asarray(ref_counts, dtype=np.float64)
        if counts.ndim != 1 or counts.sum() <= 0 or (counts < 0).any():
            raise _config_error("ref_counts", counts.tolist()[:10], "non-negative counts, sum > 0")
        self.n_ref_ = int(counts.sum())
        p = counts / counts.sum()
        for slot, mass in (unseen or {}).items():
            if not 0 <= mass < 1:
                raise _config_error("unseen", mass, "probabilities in [0, 1)")
            p[slot] = max(p[slot], mass)
        self.p_ = p / p.sum()
        self.atoms_: FloatArray | None = None
        self.ref_scale_ = 0.0
        self._cache.clear()
        return self

    def fit_atoms(self, atoms: FloatArray, n_ref: int, ref_scale: float) -> NullModel:
        """Fit on G equal-probability reference atoms (``"cdf"`` methods); returns self."""
        if self.method.cdfs_statistic is None:
            raise _config_error("method", self.method.name, "a cdf method for fit_atoms")
        grid = np.unique(np.asarray(atoms, dtype=np.float64))
        if grid.size == 0 or n_ref <= 0:
            raise _config_error("atoms", grid.size, "at least one atom and n_ref > 0")
        # tied atoms merge into one with their summed probability
        weights = np.array([np.count_nonzero(atoms == g) for g in grid], dtype=np.float64)
        self.atoms_ = grid
        self.p_ = weights / weights.sum()
        self.n_ref_ = int(n_ref)
        self.ref_scale_ = float(ref_scale)
        self._cache.clear()
        return self

    def null_statistics(self, n_cur: int, n_resamples: int) -> FloatArray:
        """Sorted statistics of ``n_resamples`` simulated no-drift pairs at size ``n_cur``."""
        key = (int(n_cur), int(n_resamples))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        rng = np.random.default_rng([self.seed, int(n_cur), int(n_resamples)])
        chunk = max(1, _MAX_CELLS // self.p_.size)
        out = []
        for start in range(0, n_resamples, chunk):
            size = min(chunk, n_resamples - start)
            ref = self._draw(rng, self.n_ref_, size)
            cur = self._draw(rng, int(n_cur), size)
            out.append(self._kernel(ref, cur))
        stats = np.sort(np.concatenate(out))
        self._cache[key] = stats
        if len(self._cache) > 64:
            self._cache.popitem(last=False)
        return stats

    def _draw(self, rng: np.random.Generator, n: int, size: int) -> FloatArray:
        """``size`` count vectors of a sample of ``n`` from ``p_``.

        Exact multinomial draws while some bin expects few values; once every bin with
        mass expects at least ``GAUSSIAN_MIN_EXPECTED`` values, the multinomial's normal
        approximation (same mean n·p and covariance n·(diag p − p pᵀ)), which is several
        times faster and whose error is far below the resampling noise at those sizes.
        """
        p = self.p_
        support = p > 0
        if n * float(p[support].min()) < GAUSSIAN_MIN_EXPECTED:
            drawn: FloatArray = rng.multinomial(n, p, size=size).astype(np.float64)
            return drawn
        z = rng.standard_normal((size, p.size)) * np.sqrt(p)
        # project out the total so that every draw sums to n, as a multinomial does
        z -= np.sqrt(p) * (z @ np.sqrt(p))[:, None]
        approx: FloatArray = np.maximum(n * p + math.sqrt(n) * z, 0.0)
        return approx

    def _kernel(self, ref: FloatArray, cur: FloatArray) -> FloatArray:
        if self.atoms_ is None:
            assert self.method.counts_statistic is not None  # checked in fit_counts
            return self.method.counts_statistic(ref, cur)
        assert self.method.cdfs_statistic is not None  # checked in fit_atoms
        cdf_ref = np.cumsum(ref, axis=-1) / ref.sum(axis=-1, keepdims=True)
        cdf_cur = np.cumsum(cur, axis=-1) / cur.sum(axis=-1, keepdims=True)
        return self.method.cdfs_statistic(self.atoms_, cdf_ref, cdf_cur, self.ref_scale_)

    def threshold(self, n_cur: int, level: float, n_resamples: int = 2_000) -> float:
        """The (1 − level) quantile of the null statistics at size ``n_cur``."""
        stats = self.null_statistics(n_cur, n_resamples)
        return float(np.quantile(stats, 1.0 - level, method="higher"))

    def p_value(self, n_cur: int, statistic: float, n_resamples: int = 2_000) -> float:
        """Resampling p-value: (1 + #{null >= statistic}) / (B + 1)."""
        stats = self.null_statistics(n_cur, n_resamples)
        tol = 1e-12 * max(1.0, abs(statistic))
        exceed = stats.size - int(np.searchsorted(stats, statistic - tol, side="left"))
        return (1 + exceed) / (stats.size + 1)


@dataclass(frozen=True)
class Observation:
    """One column's measured statistic, ready to be judged with the others."""

    column: str
    kind: str
    method: DriftMethod
    result: MethodResult
    n_reference: int
    n_current: int
    null: NullModel | None = None


@dataclass(frozen=True)
class ColumnDrift:
    """The drift verdict of one column, with its evidence."""

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
        """JSON-ready mapping."""
        return asdict(self)


@dataclass(frozen=True)
class DatasetDrift:
    """The verdict over all compared columns."""

    columns: tuple[ColumnDrift, ...]
    n_drifted: int
    share: float
    drift_share_threshold: float
    drifted: bool
    correction: str
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        out = asdict(self)
        out["columns"] = [c.to_dict() for c in self.columns]
        return out

    def __getitem__(self, column: str) -> ColumnDrift:
        for col in self.columns:
            if col.column == column:
                return col
        raise KeyError(column)


def _adjust(p: FloatArray, correction: Correction) -> FloatArray:
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
    k = p_adj.size
    if correction == "none":
        return np.full(k, alpha)
    if correction == "bonferroni":
        return np.full(k, alpha / max(k, 1))
    rejected = int(np.count_nonzero(p_adj < alpha))
    return np.full(k, alpha * max(rejected, 1) / max(k, 1))


def _explain(
    obs: Observation,
    stat: float,
    threshold: float,
    floor: float,
    mode: Mode,
    p_adj: float,
    alpha: float,
    beyond: bool,
    big: bool,
) -> str:
    name = obs.method.display_name
    size = f"{obs.n_current:,} rows"
    if mode == "p_value":
        core = f"{name} {stat:.4g}, adjusted p-value {p_adj:.3g} vs {alpha:g}"
    else:
        where = "above" if beyond else "within"
        core = (
            f"{name} {stat:.4g} is {where} its natural spread {threshold:.4g} at {size} "
            f"({alpha:.0%} false-alarm rate)"
        )
    if beyond and big:
        return (
            f"drift: {core} and the effect {obs.result.effect:.4g} is above the minimum "
            f"effect {floor:g}"
        )
    if beyond:
        return (
            f"no drift: {core}, but the effect {obs.result.effect:.4g} is below the minimum "
            f"effect {floor:g} (a shift too small to matter)"
        )
    return f"no drift: {core}"


def _floor(obs: Observation, config: DriftConfig) -> float:
    return obs.method.effect_floor if config.effect_floor is None else config.effect_floor


def _refine(p: float, alpha: float, obs: Observation, config: DriftConfig) -> bool:
    return p < SCREEN_FACTOR * alpha and obs.result.effect >= _floor(obs, config)


def judge(observations: Sequence[Observation], config: DriftConfig) -> DatasetDrift:
    """Judge columns together: p-values, correction, effect floors, dataset share.

    Raises
    ------
    ConfigError
        ``mode="p_value"`` with a method that has no p-value, or a natural-spread
        observation without a null model.
    """
    alpha = config.false_alarm_rate
    n_resamples = config.resamples_for(len(observations))
    p = np.empty(len(observations))
    for i, obs in enumerate(observations):
        if config.mode == "p_value":
            if obs.result.p_value is None:
                raise _config_error(
                    "mode",
                    "p_value",
                    f"a method with a p-value for column {obs.column!r} "
                    f"(method {obs.method.name!r} has none; use natural_spread)",
                )
            p[i] = obs.result.p_value
        else:
            if obs.null is None:
                raise _config_error("null", None, f"a null model for column {obs.column!r}")
            # Screen with few draws; only columns near or beyond the tail need them all.
            # A column whose effect is below its floor cannot drift, so it is not refined:
            # its coarser (larger) p-value only makes the correction stricter for others.
            p[i] = obs.null.p_value(obs.n_current, obs.result.statistic, SCREEN_RESAMPLES)
            if _refine(p[i], alpha, obs, config) and n_resamples > SCREEN_RESAMPLES:
                p[i] = obs.null.p_value(obs.n_current, obs.result.statistic, n_resamples)
    p_adj = _adjust(p, config.correction)
    levels = _levels(p_adj, alpha, config.correction)
    columns = []
    for i, obs in enumerate(observations):
        floor = _floor(obs, config)
        if obs.null is not None and config.mode == "natural_spread":
            b = n_resamples if _refine(p[i], alpha, obs, config) else SCREEN_RESAMPLES
            threshold = obs.null.threshold(obs.n_current, float(levels[i]), b)
        else:
            threshold = float("nan")
        beyond = bool(p_adj[i] < alpha)
        big = bool(obs.result.effect >= floor)
        columns.append(
            ColumnDrift(
                column=obs.column,
                kind=obs.kind,
                method=obs.method.name,
                statistic=obs.result.statistic,
                effect=obs.result.effect,
                effect_floor=floor,
                threshold=threshold,
                p_value=float(p[i]),
                p_value_adjusted=float(p_adj[i]),
                level=float(levels[i]),
                n_reference=obs.n_reference,
                n_current=obs.n_current,
                drifted=beyond and big,
                explanation=_explain(
                    obs,
                    obs.result.statistic,
                    threshold,
                    floor,
                    config.mode,
                    float(p_adj[i]),
                    alpha,
                    beyond,
                    big,
                ),
            )
        )
    n_drifted = sum(c.drifted for c in columns)
    share = n_drifted / len(columns) if columns else 0.0
    drifted = bool(columns) and share >= config.drift_share
    explanation = (
        f"{'dataset drift' if drifted else 'no dataset drift'}: {n_drifted} of "
        f"{len(columns)} columns drifted (share {share:.0%}; threshold {config.drift_share:.0%})"
    )
    return DatasetDrift(
        columns=tuple(columns),
        n_drifted=n_drifted,
        share=share,
        drift_share_threshold=config.drift_share,
        drifted=drifted,
        correction=config.correction,
        explanation=explanation,
    )
