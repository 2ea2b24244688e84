"""Weak segments: where accuracy (or, for regression, the error) got worse, with intervals.

A *segment* is one value of a segment column (``region=south``). For each segment the
ranking compares its current performance with a baseline — the same segment in the
reference when its outcomes are known, else the rest of the current traffic (every other
segment of the same column, "one against the rest") — and gives the *drop* with a
confidence interval. Segments are ranked by the **lower confidence bound of the drop**,
so a 30-row segment with one error, whose interval is wide, does not outrank a large
segment whose drop is smaller but certain.

Intervals
---------
Classification (``metric="accuracy"``): each accuracy gets the Wilson score interval,
and the drop ``p_baseline - p_current`` Newcombe's hybrid score interval built from the
two Wilson intervals (method 10 of Newcombe 1998), which keeps its coverage for small
counts and rates near 0 or 1 where the Wald interval fails.

Regression (``metric="mae"``): the rise of the mean absolute error
``mae_current - mae_baseline`` gets a Welch normal interval from the sufficient
statistics (count, sum and sum of squares of the absolute errors), which is what a
mergeable window keeps; from raw errors, :func:`bootstrap_rise_interval` gives a seeded
percentile bootstrap instead. The normal interval assumes ~30 rows or more per side.

Multiple testing
----------------
A segment is *flagged* when the one-sided lower bound of its drop is above zero at level
``false_alarm_rate / m`` (Bonferroni over the ``m`` segments ranked together): when no
segment changed, the chance that any is flagged is at most ``false_alarm_rate``.

References
----------
Wilson, E. B. (1927). "Probable inference, the law of succession, and statistical
inference". *JASA* 22(158), 209–212. Newcombe, R. G. (1998). "Interval estimation for the
difference between independent proportions: comparison of eleven methods". *Statistics
in Medicine* 17, 873–890.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from watchkeeper.jsonable import json_ready
from watchkeeper.stats._validate import config_error
from watchkeeper.stats.config import DriftConfig
from watchkeeper.stats.drift import METHODS

__all__ = [
    "SegmentMetric",
    "SegmentOutcome",
    "WeakSegment",
    "bootstrap_rise_interval",
    "newcombe_interval",
    "outcomes_by_segment",
    "rank_segments",
    "segment_drift_config",
    "wilson_interval",
]

SegmentMetric = Literal["accuracy", "mae"]


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise config_error("confidence", confidence, "a number in (0, 1)", "segments: ")
    return float(sps.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``successes / n``.

    Equal to ``scipy.stats.binomtest(k, n).proportion_ci(confidence, method="wilson")``;
    ``(nan, nan)`` for ``n == 0``.

    Examples
    --------
    >>> low, high = wilson_interval(29, 30)
    >>> round(low, 3), round(high, 3)
    (0.833, 0.994)
    """
    if n <= 0:
        return math.nan, math.nan
    z = _z(confidence)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    k_baseline: float,
    n_baseline: float,
    k_current: float,
    n_current: float,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """The drop ``k_baseline/n_baseline - k_current/n_current`` and Newcombe's hybrid
    score interval (method 10) for it; ``nan`` when either side has no rows.

    Examples
    --------
    >>> drop, low, high = newcombe_interval(900, 1000, 160, 200)
    >>> round(drop, 3), round(low, 3), round(high, 3)
    (0.1, 0.047, 0.163)
    """
    if n_baseline <= 0 or n_current <= 0:
        return math.nan, math.nan, math.nan
    p1, p2 = k_baseline / n_baseline, k_current / n_current
    l1, u1 = wilson_interval(k_baseline, n_baseline, confidence)
    l2, u2 = wilson_interval(k_current, n_current, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def bootstrap_rise_interval(
    baseline_errors: npt.ArrayLike,
    current_errors: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2_000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """The rise of the mean absolute error (current - baseline) and its seeded
    percentile-bootstrap interval, from raw errors (signed or absolute).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rise, low, high = bootstrap_rise_interval(rng.normal(0, 1, 500), rng.normal(0, 2, 500))
    >>> round(rise, 2), low > 0
    (0.68, True)
    """
    a = np.abs(np.asarray(baseline_errors, dtype=np.float64))
    b = np.abs(np.asarray(current_errors, dtype=np.float64))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not a.size or not b.size:
        return math.nan, math.nan, math.nan
    _z(confidence)
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, a.size, size=(n_resamples, a.size))
    ib = rng.integers(0, b.size, size=(n_resamples, b.size))
    rises = b[ib].mean(axis=1) - a[ia].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(rises, [tail, 1.0 - tail])
    return float(b.mean() - a.mean()), float(low), float(high)


@dataclass(frozen=True)
class SegmentOutcome:
    """What a segment's labelled rows add up to; mergeable by adding fields.

    Attributes
    ----------
    n
        Labelled rows.
    total
        Correct predictions (``accuracy``) or the sum of absolute errors (``mae``).
    total_sq
        Sum of squared absolute errors (``mae`` only; 0 for ``accuracy``).

    Examples
    --------
    >>> both = SegmentOutcome(100, 90) + SegmentOutcome(50, 40)
    >>> both.n, round(both.value, 3)
    (150, 0.867)
    >>> SegmentOutcome.from_errors([1.0, -3.0, float("nan")]).value
    2.0
    """

    n: int
    total: float
    total_sq: float = 0.0

    def __add__(self, other: SegmentOutcome) -> SegmentOutcome:
        return SegmentOutcome(
            self.n + other.n, self.total + other.total, self.total_sq + other.total_sq
        )

    @property
    def value(self) -> float:
        """Accuracy or mean absolute error; ``nan`` without rows."""
        return self.total / self.n if self.n else math.nan

    @classmethod
    def from_errors(cls, errors: npt.ArrayLike) -> SegmentOutcome:
        """The outcome of raw regression errors (non-finite ones left out)."""
        e = np.abs(np.asarray(errors, dtype=np.float64))
        e = e[np.isfinite(e)]
        return cls(int(e.size), float(e.sum()), float(np.square(e).sum()))


def _welch(base: SegmentOutcome, cur: SegmentOutcome, z: float) -> tuple[float, float, float]:
    """Rise of the mean (current - baseline) with a Welch normal interval."""
    if base.n < 2 or cur.n < 2:
        return math.nan, math.nan, math.nan

    def var(o: SegmentOutcome) -> float:
        return max(0.0, (o.total_sq - o.total * o.total / o.n) / (o.n - 1))

    rise = cur.value - base.value
    se = math.sqrt(var(base) / base.n + var(cur) / cur.n)
    return rise, rise - z * se, rise + z * se


def _drop(
    metric: SegmentMetric, base: SegmentOutcome, cur: SegmentOutcome, confidence: float
) -> tuple[float, float, float]:
    if metric == "accuracy":
        return newcombe_interval(base.total, base.n, cur.total, cur.n, confidence)
    return _welch(base, cur, _z(confidence))


@dataclass(frozen=True)
class WeakSegment:
    """One segment's change in performance, with the evidence.

    Attributes
    ----------
    column, segment
        Which segment (``region``, ``south``).
    metric
        ``accuracy`` or ``mae``.
    baseline
        What it is compared with: ``reference`` (the same segment in the reference) or
        ``rest`` (the other segments of the current traffic).
    n_current, n_baseline
        Labelled rows behind each figure.
    current, baseline_value
        The metric now and in the baseline.
    drop, low, high
        How much worse (accuracy: baseline - current; mae: current - baseline; > 0 is
        worse) and its interval at ``confidence``.
    flagged
        The drop's one-sided lower bound at the Bonferroni level is above 0 (module Notes).

    Examples
    --------
    >>> weak = rank_segments({"a": SegmentOutcome(400, 300), "b": SegmentOutcome(600, 560)})[0]
    >>> weak.segment, weak.baseline, round(weak.drop, 3), weak.flagged
    ('a', 'rest', 0.183, True)
    """

    column: str
    segment: str
    metric: str
    baseline: str
    n_current: int
    n_baseline: int
    current: float
    baseline_value: float
    drop: float
    low: float
    high: float
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (``nan`` becomes ``None``)."""
        out: dict[str, Any] = json_ready(asdict(self))
        return out


def rank_segments(
    current: Mapping[str, SegmentOutcome],
    reference: Mapping[str, SegmentOutcome] | None = None,
    *,
    column: str = "segment",
    metric: SegmentMetric = "accuracy",
    confidence: float = 0.95,
    false_alarm_rate: float = 0.01,
    min_rows: int = 1,
) -> list[WeakSegment]:
    """Rank a column's segments by the lower bound of their drop, worst first.

    Parameters
    ----------
    current
        ``{segment: outcome}`` of the window (or span) judged.
    reference
        ``{segment: outcome}`` of the reference; a segment absent from it (or ``None``)
        is compared with the rest of ``current``.
    column
        The segment column's name (for the result).
    metric
        ``accuracy`` (outcome totals are correct counts) or ``mae``.
    confidence
        Of the reported intervals.
    false_alarm_rate
        Chance that any segment is flagged when none changed (Bonferroni over segments).
    min_rows
        Segments with fewer current labelled rows are left out.

    Returns
    -------
    list of WeakSegment
        Sorted by ``low`` descending, then ``drop`` descending, then segment name;
        segments whose interval cannot be computed come last.

    Raises
    ------
    ConfigError
        A metric, confidence or false-alarm rate out of range.

    Examples
    --------
    >>> current = {"north": SegmentOutcome(900, 810), "south": SegmentOutcome(100, 60),
    ...            "tiny": SegmentOutcome(30, 29)}
    >>> [(s.segment, s.flagged) for s in rank_segments(current, column="region")]
    [('south', True), ('tiny', False), ('north', False)]
    """
    if metric not in ("accuracy", "mae"):
        raise config_error("metric", metric, "one of: accuracy, mae", "segments: ")
    if not 0.0 < false_alarm_rate < 1.0:
        raise config_error("false_alarm_rate", false_alarm_rate, "a number in (0, 1)", "segments: ")
    _z(confidence)
    judged = {k: v for k, v in current.items() if v.n >= max(min_rows, 1)}
    m = max(len(judged), 1)
    strict = 1.0 - 2.0 * false_alarm_rate / m  # two-sided level whose lower tail is alpha/m
    everything = sum(judged.values(), SegmentOutcome(0, 0.0))
    out = []
    for segment, cur in judged.items():
        ref = None if reference is None else reference.get(segment)
        kind = "reference" if ref is not None and ref.n else "rest"
        if ref is None or not ref.n:
            ref = SegmentOutcome(
                everything.n - cur.n,
                everything.total - cur.total,
                everything.total_sq - cur.total_sq,
            )
        drop, low, high = _drop(metric, ref, cur, confidence)
        _, strict_low, _ = _drop(metric, ref, cur, strict)
        out.append(
            WeakSegment(
                column=column,
                segment=segment,
                metric=metric,
                baseline=kind,
                n_current=cur.n,
                n_baseline=ref.n,
                current=cur.value,
                baseline_value=ref.value,
                drop=drop,
                low=low,
                high=high,
                flagged=bool(strict_low > 0.0),
            )
        )
    return sorted(out, key=_rank_key)


def _rank_key(s: WeakSegment) -> tuple[bool, float, float, str]:
    unknown = math.isnan(s.low)
    return (unknown, 0.0 if unknown else -s.low, 0.0 if math.isnan(s.drop) else -s.drop, s.segment)


def segment_drift_config(
    config: DriftConfig, n_segments: int, column_methods: Mapping[str, str] | None = None
) -> DriftConfig:
    """The drift settings of each of ``n_segments`` segments of one column.

    The false-alarm rate is divided by the number of segments (Bonferroni), so that when
    nothing changed the chance that *any* segment of the column drifts stays at
    ``config.false_alarm_rate``. The verdict uses the methods' analytic p-values
    (``mode="p_value"``: two-sample laws, conservative for ``ks_binned``) whenever every
    method in use has one — the defaults do: the natural spread would need about ``m``
    times more null draws per segment, simulated again for each segment's bin shares,
    which costs seconds per segment at fit time. Otherwise (a configured method without
    an analytic p-value) it keeps the natural spread at the divided rate.

    Examples
    --------
    >>> cfg = segment_drift_config(DriftConfig(false_alarm_rate=0.01), 5)
    >>> cfg.mode, round(cfg.false_alarm_rate, 4)
    ('p_value', 0.002)
    """
    names = [config.method, *(column_methods or {}).values()]
    analytic = all(n is None or (n in METHODS and METHODS[n].has_p_value) for n in names)
    mode = "p_value" if analytic else config.mode
    return dataclasses.replace(
        config, mode=mode, false_alarm_rate=config.false_alarm_rate / max(n_segments, 1)
    )


def outcomes_by_segment(
    segments: Sequence[str | None],
    correct_or_errors: npt.ArrayLike,
    metric: SegmentMetric,
) -> dict[str, SegmentOutcome]:
    """``{segment: outcome}`` of labelled rows: ``correct_or_errors`` is 1/0 per row
    (``accuracy``) or the row's error (``mae``); rows without a segment are left out."""
    values = np.asarray(correct_or_errors, dtype=np.float64)
    if metric == "mae":
        values = np.abs(values)
    keys = np.array(["" if s is None else s for s in segments], dtype=object)
    ok = np.array([s is not None for s in segments], dtype=bool) & np.isfinite(values)
    uniq, inverse = np.unique(keys[ok].astype(str), return_inverse=True)
    v = values[ok]
    n = np.bincount(inverse, minlength=len(uniq))
    total = np.bincount(inverse, weights=v, minlength=len(uniq))
    total_sq = np.bincount(inverse, weights=v * v, minlength=len(uniq))
    return {
        str(u): SegmentOutcome(
            int(n[i]), float(total[i]), float(total_sq[i]) if metric == "mae" else 0.0
        )
        for i, u in enumerate(uniq)
    }
