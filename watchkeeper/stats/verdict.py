"""From statistics to verdicts: natural spread, minimum effect, multiple testing.

Large production samples make p-value tests flag shifts nobody cares about, and small
windows make distances noisy. So a column is judged drifted only when its statistic is

1. beyond the statistic's **natural spread** at the current sample size — the values it
   takes when nothing has changed, including the reference's own sampling noise: the
   law of the default methods, known at fit time
   (:mod:`~watchkeeper.stats.null_laws`), or for the other methods a simulation from
   the reference (:class:`~watchkeeper.stats.null_model.NullModel`) — at the configured
   false-alarm rate α after correcting for testing many columns; this alone is the
   calibration: with the floor off, columns without drift are flagged at rate α; and
2. at least the method's **minimum effect**
   (:attr:`~watchkeeper.stats.config.DriftConfig.effect_floor`): practical
   significance, so that a real but trivial shift on a huge sample does not alarm.

Across columns, :func:`judge` reports the share of drifted columns and a dataset verdict.

Notes
-----
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

*Limits.* The verdict is as good as the null's spread
(:mod:`watchkeeper.stats.null_laws` and :mod:`watchkeeper.stats.null_model`, Notes).
``mode="p_value"`` uses the methods' analytic p-values instead (``ks_binned``, ``ks``,
``chi2``): two-sample laws, so they carry the reference's noise too; for ``ks_binned``
Kolmogorov's law of the whole bridge, conservative on bins, so natural spread is the
more powerful mode.

References
----------
Benjamini, Y. & Hochberg, Y. (1995). "Controlling the false discovery rate: a practical
and powerful approach to multiple testing". *JRSS B* 57(1), 289–300.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from watchkeeper.jsonable import json_ready
from watchkeeper.stats._validate import config_error, is_count, is_number
from watchkeeper.stats.config import Correction, DriftConfig
from watchkeeper.stats.drift import METHODS, DriftMethod, MethodResult
from watchkeeper.stats.null_laws import NullSpread
from watchkeeper.stats.null_model import MIN_RESAMPLES, NullModel
from watchkeeper.types import FloatArray

__all__ = ["ColumnDrift", "DatasetDrift", "Observation", "judge", "screen_resamples"]

_SCREEN_DRAWS_BEYOND = 2  # the screening pass leaves this many, enough to place it
_SCREEN_FACTOR = 5.0  # refine a column whose screened p-value is below this times alpha


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
    null: NullModel | NullSpread | None = None

    def __post_init__(self) -> None:
        where = f"column {self.column!r}: "
        for name in ("n_reference", "n_current"):
            value = getattr(self, name)
            if not (is_count(value) and value > 0):
                raise config_error(name, value, "an integer > 0", where)
        for name in ("statistic", "effect"):
            value = getattr(self.result, name)
            if not (is_number(value) and math.isfinite(value)):
                raise config_error(name, value, "a finite number", where)
        if self.null is not None and self.null.method is not self.method:
            raise config_error(
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
            raise config_error("observations", obs, "Observation instances")
        if obs.column in seen:
            raise config_error("column", obs.column, "each column once")
        seen.add(obs.column)
        where = f"column {obs.column!r}: "
        if config.mode == "p_value":
            p = obs.result.p_value
            if p is None:
                raise config_error(
                    "method",
                    obs.method.name,
                    f"a method with an analytic p-value for mode='p_value' ({with_p}); "
                    f"{obs.method.name!r} has none, use mode='natural_spread'",
                    where,
                )
            if not (is_number(p) and 0 <= p <= 1):
                raise config_error("p_value", p, "a number in [0, 1]", where)
        elif obs.null is None:
            raise config_error("null", None, "a NullModel in mode='natural_spread'", where)


def screen_resamples(config: DriftConfig, n_columns: int) -> int:
    """Null draws of the screening pass: enough to place the threshold (module Notes)."""
    level = config.smallest_level(n_columns)
    screen = max(MIN_RESAMPLES, math.ceil(round(_SCREEN_DRAWS_BEYOND / level, 6)))
    return min(config.resamples_for(n_columns), screen)


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
    b_screen = screen_resamples(config, k)
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
            threshold = obs.null.threshold(obs.n_current, float(levels[i]), draws[i])
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
