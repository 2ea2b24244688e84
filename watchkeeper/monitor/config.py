"""The Monitor's options, validated once: durations in seconds, drift settings, task.

:class:`MonitorConfig` is what a :class:`~watchkeeper.monitor.Monitor` runs on. Build it
from the human forms with :meth:`MonitorConfig.from_options` (``"5m"``, ``"1w"``, a drift
mapping read from a config file); every problem is a
:class:`~watchkeeper.errors.ConfigError` naming the option.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from watchkeeper.errors import ConfigError
from watchkeeper.monitor._inputs import PREDICTION
from watchkeeper.profile.segments import DEFAULT_TOP_K
from watchkeeper.stats import DriftConfig
from watchkeeper.stats.multivariate import MultivariateConfig, multivariate_config
from watchkeeper.units import parse_duration

__all__ = ["MonitorConfig", "MonitorOptions", "drift_config", "resolve_config", "valid_name"]

RESERVOIR_ROWS = 2_000
"""Rows kept per window when multivariate drift is on and no ``reservoir_size`` is given."""
MAX_RESERVOIR_ROWS = 100_000
"""The largest reservoir: it is held in memory per open window and stored with it."""
DEFAULT_ROLLUPS = (3600.0, 86400.0)
"""Coarser windows by default: hour and day (those that are whole multiples of the
window)."""


def drift_config(spec: DriftConfig | Mapping[str, Any] | None) -> DriftConfig:
    """A :class:`DriftConfig` from itself, ``None`` (the defaults) or a mapping of its fields.

    Errors name the key as ``drift.<key>``, as a config file spells it.

    Raises
    ------
    ConfigError
        Not a mapping, an unknown key (listing the known ones) or a bad value.

    Examples
    --------
    >>> drift_config({"false_alarm_rate": 0.05}).false_alarm_rate
    0.05
    >>> drift_config({"alpha": 0.05})
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: drift.alpha: unknown setting; expected one of: correction, drift_share, effect_floor, false_alarm_rate, method, mode, n_resamples, seed
    """  # noqa: E501
    if spec is None:
        return DriftConfig()
    if isinstance(spec, DriftConfig):
        return spec
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"drift: expected a mapping of settings, got {spec!r}",
            field="drift",
            value=spec,
            expected="a mapping",
        )
    known = {f.name for f in dataclasses.fields(DriftConfig)}
    for key in spec:
        if key not in known:
            raise ConfigError(
                f"drift.{key}: unknown setting; expected one of: {', '.join(sorted(known))}",
                field=f"drift.{key}",
                value=key,
                expected=", ".join(sorted(known)),
            )
    try:
        return DriftConfig(**spec)
    except ConfigError as exc:
        raise ConfigError(
            f"drift.{exc.field}: {exc.message}",
            field=f"drift.{exc.field}",
            value=exc.value,
            expected=exc.expected,
        ) from exc


class MonitorOptions(TypedDict, total=False):
    """The options of :meth:`MonitorConfig.from_options` (and of ``Monitor(...)``), in
    their human forms; each is documented on the :class:`MonitorConfig` field it sets."""

    window: str | float
    grace: str | float
    rollups: Sequence[str | float] | None
    outputs: Sequence[str]
    task: Literal["classification", "regression"] | None
    positive: Any
    drift: DriftConfig | Mapping[str, Any] | None
    column_methods: Mapping[str, str] | None
    retention: str | float
    window_retention: str | float
    batch_size: int
    max_future_skew: str | float | None
    protected_series: Sequence[str]
    multivariate: bool | MultivariateConfig | Mapping[str, Any] | None
    reservoir_size: int | None
    segments: Sequence[str]
    segment_top_k: int


@dataclass(frozen=True)
class MonitorConfig:
    """The validated options of a monitor; build it with :meth:`from_options`.

    Examples
    --------
    >>> config = MonitorConfig.from_options(window="5m", drift={"false_alarm_rate": 0.05})
    >>> config.window_seconds, config.rollup_seconds, config.drift.false_alarm_rate
    (300.0, (3600.0, 86400.0), 0.05)
    """

    window_seconds: float = 60.0
    """Tumbling window size, > 0."""
    grace_seconds: float = 15.0
    """How long after its end a window waits for late rows before it closes."""
    rollup_seconds: tuple[float, ...] = DEFAULT_ROLLUPS
    """Coarser windows, ascending, each a whole multiple of the window."""
    retention_seconds: float = 7 * 86400.0
    """How long predictions are kept for joining late labels."""
    window_retention_seconds: float = 2 * 86400.0
    """How long base window states are kept for corrections and rollups."""
    batch_size: int = 1024
    """Single rows buffered before one vectorised update, >= 1."""
    outputs: tuple[str, ...] = (PREDICTION, "score")
    """Names of the reference's output columns."""
    task: Literal["classification", "regression"] | None = None
    """The kind of problem; ``None``: from the prediction column's kind."""
    positive: str | None = None
    """The positive class of a binary classifier (as text)."""
    drift: DriftConfig = field(default_factory=DriftConfig)
    """How drift is judged."""
    column_methods: Mapping[str, str] = field(default_factory=dict)
    """Per-column drift method overrides."""
    max_future_skew_seconds: float = 300.0
    """How far ahead of the clock an event time may be (``math.inf``: no bound). Rows and
    signals stamped later are rejected and counted (``Monitor.future_rejected``), so one
    bad clock cannot move the watermark and close, then drop, every window."""
    protected_series: tuple[str, ...] = ()
    """Custom metric names always kept in a window, ahead of the per-window cap on
    series (:data:`~watchkeeper.monitor.window.MAX_SERIES`, first come): e.g. the metrics
    alert rules watch, so a flood of other names cannot push them out."""
    multivariate: MultivariateConfig | None = None
    """Multivariate drift and root-cause ranking (``None``: off); see
    :mod:`watchkeeper.stats.multivariate`."""
    reservoir_size: int = 0
    """Raw rows kept per window (and of the reference) as a uniform sample, for
    multivariate drift, root causes and example rows; 0: none. Default 2,000 when
    ``multivariate`` is on, else 0."""
    segments: tuple[str, ...] = ()
    """Segment columns (``["region", "channel"]``): each window also keeps a profile per
    value of each, for drift and performance per segment
    (:mod:`watchkeeper.monitor.segments`)."""
    segment_top_k: int = DEFAULT_TOP_K
    """Values of a segment column tracked one by one (the reference's most frequent);
    the rest are counted as ``other``, which bounds memory and metric labels."""

    @classmethod
    def from_options(
        cls,
        *,
        window: str | float = "1m",
        grace: str | float = "15s",
        rollups: Sequence[str | float] | None = None,
        outputs: Sequence[str] = (PREDICTION, "score"),
        task: Literal["classification", "regression"] | None = None,
        positive: Any = None,
        drift: DriftConfig | Mapping[str, Any] | None = None,
        column_methods: Mapping[str, str] | None = None,
        retention: str | float = "7d",
        window_retention: str | float = "2d",
        batch_size: int = 1024,
        max_future_skew: str | float | None = "5m",
        protected_series: Sequence[str] = (),
        multivariate: bool | MultivariateConfig | Mapping[str, Any] | None = None,
        reservoir_size: int | None = None,
        segments: Sequence[str] = (),
        segment_top_k: int = DEFAULT_TOP_K,
    ) -> MonitorConfig:
        """Validate the options in their human forms (the Monitor's keyword arguments).

        Raises
        ------
        ConfigError
            A duration that cannot be read, a window that is not positive, a rollup that
            is not a multiple of the window, a ``window_retention`` too short to merge
            rollups, a bad ``batch_size`` or bad ``drift`` settings, a
            ``protected_series`` that is not a list of names.
        """
        window_seconds = parse_duration(window, "window")
        if window_seconds <= 0:
            raise ConfigError(
                f"window: expected a positive duration, got {window!r}",
                field="window",
                value=window,
                expected="a positive duration",
            )
        grace_seconds = parse_duration(grace, "grace")
        if rollups is None:
            rollups = [r for r in DEFAULT_ROLLUPS if r > window_seconds and not r % window_seconds]
        rollup_seconds = tuple(sorted({parse_duration(r, "rollups") for r in rollups}))
        for r in rollup_seconds:
            if r <= window_seconds or r % window_seconds:
                raise ConfigError(
                    f"rollups: {r:g} s is not a multiple of the {window_seconds:g} s "
                    "window; expected coarser windows made of whole windows",
                    field="rollups",
                    value=r,
                    expected=f"a multiple of {window_seconds:g} s",
                )
        retention_seconds = parse_duration(retention, "retention")
        window_retention_seconds = parse_duration(window_retention, "window_retention")
        # the first rollup merges base windows: they must outlive it
        shortest = rollup_seconds[0] if rollup_seconds else window_seconds
        if window_retention_seconds < shortest + grace_seconds:
            raise ConfigError(
                f"window_retention: {window_retention!r} is shorter than a "
                f"{shortest:g} s window plus grace; expected at least "
                f"{shortest + grace_seconds:g} s so windows can still be merged",
                field="window_retention",
                value=window_retention,
                expected=f">= {shortest + grace_seconds:g} s",
            )
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(
                f"batch_size: expected an integer >= 1, got {batch_size!r}",
                field="batch_size",
                value=batch_size,
                expected="an integer >= 1",
            )
        skew = (
            math.inf
            if max_future_skew is None
            else parse_duration(max_future_skew, "max_future_skew")
        )
        if isinstance(protected_series, str) or not all(
            isinstance(name, str) and name for name in protected_series
        ):
            raise ConfigError(
                f"protected_series: expected a list of metric names, got {protected_series!r}",
                field="protected_series",
                value=protected_series,
                expected="a list of metric names",
            )
        mv = multivariate_config(multivariate)
        if reservoir_size is None:
            reservoir_size = 0 if mv is None else RESERVOIR_ROWS
        if (
            isinstance(reservoir_size, bool)
            or not isinstance(reservoir_size, int)
            or not (0 <= reservoir_size <= MAX_RESERVOIR_ROWS)
        ):
            raise ConfigError(
                f"reservoir_size: expected an integer in [0, {MAX_RESERVOIR_ROWS}], "
                f"got {reservoir_size!r}",
                field="reservoir_size",
                value=reservoir_size,
                expected=f"an integer in [0, {MAX_RESERVOIR_ROWS}]",
            )
        if mv is not None and reservoir_size < mv.min_rows:
            raise ConfigError(
                f"reservoir_size: {reservoir_size} rows is fewer than multivariate.min_rows "
                f"({mv.min_rows}); expected a reservoir the multivariate tests can use",
                field="reservoir_size",
                value=reservoir_size,
                expected=f">= {mv.min_rows}",
            )
        segment_columns = _segment_columns(segments)
        if (
            isinstance(segment_top_k, bool)
            or not isinstance(segment_top_k, int)
            or segment_top_k < 1
        ):
            raise ConfigError(
                f"segment_top_k: expected an integer >= 1, got {segment_top_k!r}",
                field="segment_top_k",
                value=segment_top_k,
                expected="an integer >= 1",
            )
        return cls(
            window_seconds=window_seconds,
            grace_seconds=grace_seconds,
            rollup_seconds=rollup_seconds,
            retention_seconds=retention_seconds,
            window_retention_seconds=window_retention_seconds,
            batch_size=batch_size,
            outputs=tuple(outputs),
            task=task,
            positive=None if positive is None else str(positive),
            drift=drift_config(drift),
            column_methods=dict(column_methods or {}),
            max_future_skew_seconds=skew,
            protected_series=tuple(protected_series),
            multivariate=mv,
            reservoir_size=reservoir_size,
            segments=segment_columns,
            segment_top_k=segment_top_k,
        )

    @property
    def sizes(self) -> tuple[float, ...]:
        """Every analysed window size: the base window, then the rollups."""
        return (self.window_seconds, *self.rollup_seconds)


def _segment_columns(segments: Sequence[str]) -> tuple[str, ...]:
    if isinstance(segments, str) or not all(isinstance(c, str) and c for c in segments):
        raise ConfigError(
            f"segments: expected a list of column names, got {segments!r}",
            field="segments",
            value=segments,
            expected="a list of column names",
        )
    return tuple(dict.fromkeys(segments))


def resolve_config(config: MonitorConfig | None, options: MonitorOptions) -> MonitorConfig:
    """``config``, or one built from ``options`` (:meth:`MonitorConfig.from_options`).

    Raises
    ------
    ConfigError
        Both were given (options set to ``None`` count as not given), or a bad option.
    """
    given = sorted(k for k, v in options.items() if v is not None)
    if config is None:
        return MonitorConfig.from_options(**options)
    if given:
        raise ConfigError(
            f"config: given with {', '.join(given)}; expected the options in one place",
            field="config",
            value=given,
            expected="config or options",
        )
    return config


def valid_name(field: str, value: Any) -> str:
    """``value`` if it is a non-empty string (a model or version name).

    Raises
    ------
    ConfigError
        It is not.
    """
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"{field}: expected a non-empty string, got {value!r}",
            field=field,
            value=value,
            expected="a non-empty string",
        )
    return value
