"""``watchkeeper check``: the comparison of a report as a pass/fail gate in a pipeline.

A :class:`CheckPolicy` lists the conditions the current data must meet; :func:`run_check`
applies them to a :class:`~watchkeeper.report.build.Report` and returns every failure
with its column, value and limit. The CLI exits 0 when the check passes, 1 when it
fails, and 2 on bad input — so a training or batch-scoring job can stop before it uses
data that changed.

By default the check fails on dataset drift (the share of drifted columns at or above
``DriftConfig.drift_share``) and on a reference column absent from the current data; the
other conditions are off until given a limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from watchkeeper.errors import ConfigError
from watchkeeper.jsonable import json_ready
from watchkeeper.report.build import Report

__all__ = ["CheckFailure", "CheckPolicy", "CheckResult", "run_check"]


def _share(name: str, value: float | None) -> None:
    ok = value is None or (
        isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
    )
    if not ok:
        raise ConfigError(
            f"{name}: expected a share in [0, 1] or None, got {value!r}",
            field=name,
            value=value,
            expected="a share in [0, 1]",
        )


@dataclass(frozen=True)
class CheckPolicy:
    """The conditions of a check. Validated at construction.

    Examples
    --------
    >>> CheckPolicy(max_missing_ratio=0.1).max_missing_ratio
    0.1
    >>> CheckPolicy(max_missing_ratio=10)
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: max_missing_ratio: expected a share in [0, 1] or None, got 10
    """

    dataset_drift: bool = True
    """Fail when the dataset drifted (the share of drifted columns reached the threshold)."""
    any_column_drift: bool = False
    """Fail when any column drifted."""
    columns: Sequence[str] = ()
    """Columns whose drift alone fails the check (the features a model leans on)."""
    absent_columns: bool = True
    """Fail when a reference column is missing from the current data."""
    max_missing_ratio: float | None = None
    """Fail when a column's current missing ratio is above this share."""
    max_missing_increase: float | None = None
    """Fail when a column's missing ratio rose by more than this (current − reference)."""
    max_out_of_range: float | None = None
    """Fail when a numeric column has more than this share outside the reference's range."""
    max_new_category_share: float | None = None
    """Fail when a categorical column has more than this share of new categories."""
    multivariate: bool = False
    """Fail when a multivariate test flagged drift (the report must have been built with
    its multivariate part)."""

    def __post_init__(self) -> None:
        for name in (
            "max_missing_ratio",
            "max_missing_increase",
            "max_out_of_range",
            "max_new_category_share",
        ):
            _share(name, getattr(self, name))
        if isinstance(self.columns, str) or not all(isinstance(c, str) for c in self.columns):
            raise ConfigError(
                f"columns: expected a list of column names, got {self.columns!r}",
                field="columns",
                value=self.columns,
                expected="a list of column names",
            )


@dataclass(frozen=True)
class CheckFailure:
    """One condition the current data did not meet.

    Attributes
    ----------
    condition
        The :class:`CheckPolicy` field that failed.
    column
        The column concerned, ``None`` for the dataset.
    value, limit
        What was measured and the limit it crossed.
    message
        One line saying so.
    """

    condition: str
    column: str | None
    value: float
    limit: float
    message: str


@dataclass(frozen=True)
class CheckResult:
    """The outcome: ``passed`` when there is no failure."""

    failures: tuple[CheckFailure, ...]
    report: Report

    @property
    def passed(self) -> bool:
        """No condition failed."""
        return not self.failures

    @property
    def summary(self) -> str:
        """One line: passed or failed, and why."""
        drift = self.report.drift
        base = f"{drift.n_drifted} of {len(drift.columns)} columns drifted"
        if self.passed:
            return f"check passed: {base}; every condition met"
        return f"check failed: {len(self.failures)} condition(s) not met; {base}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``passed``, ``summary`` and each failure's fields."""
        return {
            "passed": self.passed,
            "summary": self.summary,
            "failures": [json_ready(asdict(f)) for f in self.failures],
        }


def run_check(report: Report, policy: CheckPolicy | None = None) -> CheckResult:
    """Apply ``policy`` to ``report``.

    Raises
    ------
    ConfigError
        ``policy.columns`` names a column the report does not have.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> from watchkeeper.report import build_report
    >>> rng = np.random.default_rng(0)
    >>> ref = profile_table({"x": rng.normal(0, 1, 2_000), "y": rng.normal(0, 1, 2_000)})
    >>> cur = profile_table(
    ...     {"x": rng.normal(1, 1, 2_000), "y": rng.normal(0, 1, 2_000)}, reference=ref
    ... )
    >>> result = run_check(build_report(ref, cur))
    >>> result.passed, [f.condition for f in result.failures]
    (False, ['dataset_drift'])
    >>> run_check(build_report(ref, cur), CheckPolicy(dataset_drift=False)).passed
    True
    """
    policy = policy or CheckPolicy()
    names = {c.name for c in report.columns}
    unknown = [c for c in policy.columns if c not in names]
    if unknown:
        raise ConfigError(
            f"columns: unknown column {unknown[0]!r}; expected one of: " + ", ".join(sorted(names)),
            field="columns",
            value=unknown[0],
            expected=", ".join(sorted(names)),
        )
    failures: list[CheckFailure] = []
    drift = report.drift
    if policy.dataset_drift and drift.drifted:
        failures.append(
            CheckFailure(
                "dataset_drift", None, drift.share, drift.drift_share_threshold, drift.explanation
            )
        )
    if policy.multivariate:
        _multivariate(failures, report)
    critical = set(policy.columns)
    for col in report.columns:
        d = col.drift
        if d is not None and d.drifted and (policy.any_column_drift or col.name in critical):
            condition = "columns" if col.name in critical else "any_column_drift"
            failures.append(
                CheckFailure(
                    condition, col.name, d.statistic, d.threshold, f"{col.name}: {d.explanation}"
                )
            )
        if col.absent:
            if policy.absent_columns:
                failures.append(
                    CheckFailure(
                        "absent_columns",
                        col.name,
                        1.0,
                        0.0,
                        f"{col.name}: in the reference but missing from the current data",
                    )
                )
            continue
        ref_missing, cur_missing = col.missing
        _limit(failures, "max_missing_ratio", col.name, cur_missing, policy.max_missing_ratio,
               "missing ratio")  # fmt: skip
        if not math.isnan(cur_missing):
            rise = cur_missing - (0.0 if math.isnan(ref_missing) else ref_missing)
            _limit(failures, "max_missing_increase", col.name, rise, policy.max_missing_increase,
                   "rise in missing ratio")  # fmt: skip
        _limit(failures, "max_out_of_range", col.name, col.out_of_range, policy.max_out_of_range,
               "share outside the reference's range")  # fmt: skip
        _limit(failures, "max_new_category_share", col.name, col.new_category_share,
               policy.max_new_category_share, "share of new categories")  # fmt: skip
    return CheckResult(tuple(failures), report)


def _multivariate(failures: list[CheckFailure], report: Report) -> None:
    found = report.multivariate
    if found is None:
        raise ConfigError(
            "multivariate: the report has no multivariate part; expected a report built "
            "with it (add_multivariate, or --multivariate)",
            field="multivariate",
            value=None,
            expected="a report with a multivariate part",
        )
    top = ", ".join(c.feature for c in found.causes[:3])
    for v in found.verdicts:
        if v.drifted:
            causes = f"; top features: {top}" if top else ""
            failures.append(
                CheckFailure(
                    "multivariate", None, v.statistic, v.threshold, f"{v.method}: {v.why}{causes}"
                )
            )


def _limit(
    failures: list[CheckFailure],
    condition: str,
    column: str,
    value: float | None,
    limit: float | None,
    what: str,
) -> None:
    if limit is None or value is None or math.isnan(value) or value <= limit:
        return
    failures.append(
        CheckFailure(
            condition,
            column,
            value,
            limit,
            f"{column}: {what} {100 * value:.1f}% is above the limit {100 * limit:.1f}%",
        )
    )
