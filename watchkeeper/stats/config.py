"""How drift is judged: one frozen, validated configuration.

:class:`DriftConfig` holds the choices behind every drift verdict — the method (or the
default by column kind and size), the mode, the false-alarm rate, the effect floor, the
multiple-testing correction, the dataset's drift share, the number of null draws and
their seed. It is validated at construction, so a bad config fails at load;
:func:`watchkeeper.stats.verdict.judge` and :class:`watchkeeper.stats.DriftDetector`
apply it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from watchkeeper.stats._validate import config_error, is_count, is_number
from watchkeeper.stats.drift import get_method
from watchkeeper.stats.null_model import resamples_for_level

__all__ = ["Correction", "DriftConfig", "Mode"]

Mode = Literal["natural_spread", "p_value"]
Correction = Literal["benjamini_hochberg", "bonferroni", "none"]


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
    """``"natural_spread"``: p-values from the statistic's no-drift spread at the current
    sample size (a law known at fit time for the defaults ``ks_binned`` and ``chi2``, a
    simulation for the other methods); ``"p_value"``: the method's analytic p-value
    (``ks_binned``, ``ks`` and ``chi2``, so every default method)."""
    false_alarm_rate: float = 0.01
    """α, in (0, 0.5): the chance that a column without drift is flagged (with
    ``correction="none"``), or that any column is, when none drifted (with a correction)."""
    effect_floor: float | None = None
    """Minimum effect for a drift verdict, >= 0; ``None`` = the method's own floor
    (:attr:`~watchkeeper.stats.drift.DriftMethod.effect_floor`), ``0`` disables it. It is
    practical significance, not calibration: the false-alarm rate holds without it."""
    correction: Correction = "benjamini_hochberg"
    """Multiple-testing correction across the columns judged together:
    ``"benjamini_hochberg"``, ``"bonferroni"`` or ``"none"``."""
    drift_share: float = 0.5
    """The dataset drifts when at least this share of the judged columns drifted, in (0, 1]."""
    n_resamples: int | None = None
    """Null draws per column, >= 100; ``None`` = ceil(20 K/α) in [2,000, 200,000], K the
    number of columns (1 with ``correction="none"``), so that the smallest corrected level
    α/K is resolved (:mod:`watchkeeper.stats.verdict`, Notes)."""
    seed: int = 0
    """Seed of the null simulations, >= 0: the same inputs give the same p-values,
    thresholds and verdicts in every run and process."""

    def __post_init__(self) -> None:
        if self.method is not None:
            get_method(self.method)  # ConfigError listing the known methods
        if self.mode not in ("natural_spread", "p_value"):
            raise config_error("mode", self.mode, "one of: natural_spread, p_value")
        alpha = self.false_alarm_rate
        if not (is_number(alpha) and 0 < alpha < 0.5):
            raise config_error("false_alarm_rate", alpha, "a number in (0, 0.5)")
        floor = self.effect_floor
        if floor is not None and not (is_number(floor) and 0 <= floor < math.inf):
            raise config_error("effect_floor", floor, "a finite number >= 0 or None")
        if self.correction not in ("benjamini_hochberg", "bonferroni", "none"):
            raise config_error(
                "correction", self.correction, "one of: benjamini_hochberg, bonferroni, none"
            )
        if not (is_number(self.drift_share) and 0 < self.drift_share <= 1):
            raise config_error("drift_share", self.drift_share, "a number in (0, 1]")
        b = self.n_resamples
        if b is not None and not (is_count(b) and b >= 100):
            raise config_error("n_resamples", b, "an integer >= 100 or None")
        if not (is_count(self.seed) and self.seed >= 0):
            raise config_error("seed", self.seed, "an integer >= 0")

    def smallest_level(self, n_columns: int) -> float:
        """The smallest corrected level when ``n_columns`` are judged together: α/K.

        K is ``n_columns`` (at least 1) under a correction and 1 without one; the
        Bonferroni level, and the Benjamini–Hochberg level when no column drifted.

        Examples
        --------
        >>> DriftConfig().smallest_level(4), DriftConfig(correction="none").smallest_level(4)
        (0.0025, 0.01)
        """
        k = max(n_columns, 1) if self.correction != "none" else 1
        return self.false_alarm_rate / k

    def resamples_for(self, n_columns: int) -> int:
        """Null draws per column when ``n_columns`` are judged together (``n_resamples``)."""
        if self.n_resamples is not None:
            return self.n_resamples
        return resamples_for_level(self.smallest_level(n_columns))
