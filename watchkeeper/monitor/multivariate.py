"""The Monitor's multivariate part: each window's row sample against the reference's.

For a window whose reservoir and reference sample both hold ``min_rows`` rows, on the
features the tests can use (numeric, categorical and boolean ones; text and times are
left out: free text is not a vector and time always "drifts"):

- the PCA reconstruction error, every window (``multivariate_drift`` and friends with
  ``method="pca"``);
- the domain classifier (``method="domain_classifier"``), every window or only when the
  PCA statistic or a univariate test flagged it (``MultivariateConfig.classifier``);
- when something drifted and the classifier ran, the root-cause ranking: one
  ``root_cause_score`` point per feature (drift contribution x model impact).

Fitted models are kept per reference id, so a reference is fitted once. scikit-learn is
needed for the classifier only (``pip install "watchkeeper[multivariate]"``); without it
the PCA statistic still runs and the classifier is skipped, counted in ``skipped``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper.errors import MissingExtraError
from watchkeeper.monitor.analysis import ReferenceContext
from watchkeeper.monitor.window import WindowState
from watchkeeper.profile.reservoir import Reservoir
from watchkeeper.stats.multivariate import (
    DomainClassifier,
    FeatureCause,
    MultivariateConfig,
    MultivariateFindings,
    PCAReconstruction,
    multivariate_columns,
    rank_causes,
)
from watchkeeper.store.base import MetricPoint, Store, WindowKey

__all__ = [
    "ID_COLUMN",
    "MAX_CAUSES",
    "MultivariateAnalysis",
    "latest_findings",
    "sample_columns",
    "top_causes",
]

log = logging.getLogger("watchkeeper.monitor")

ID_COLUMN = "__id__"
"""The reservoir column holding each row's prediction id (when logged with ids)."""


def sample_columns(
    columns: Mapping[str, Any], ids: Sequence[str | None] | None, idx: np.ndarray | None
) -> Mapping[str, Any]:
    """The columns a window's reservoir is offered: the validated batch's, plus the
    prediction ids of its rows (``idx``: the rows of the batch in this window)."""
    if ids is None:
        return columns
    picked = ids if idx is None else [ids[i] for i in idx.tolist()]
    return {**columns, ID_COLUMN: np.asarray(picked, dtype=object)}


@dataclass
class _Fitted:
    features: list[str]
    pca: PCAReconstruction
    classifier: DomainClassifier | None


class MultivariateAnalysis:
    """Multivariate verdicts and root causes of windows (module docstring).

    Parameters
    ----------
    config
        The tests' settings (with the model's feature importances, if known).
    """

    def __init__(self, config: MultivariateConfig) -> None:
        self.config = config
        self.impact = None if config.impact is None else dict(config.impact)
        self.skipped = 0
        """Classifier runs skipped because scikit-learn is not installed."""
        self._fitted: dict[int, _Fitted | None] = {}

    def _fit(self, reference: ReferenceContext) -> _Fitted | None:
        if reference.id in self._fitted:
            return self._fitted[reference.id]
        fitted = None
        sample = reference.sample
        features = multivariate_columns(reference.profile.schema)
        if sample is None:
            log.warning(
                "watchkeeper: reference %s has no row sample, so no multivariate drift; "
                "expected a reference given as data, or a .wkprof bundle with a sample",
                reference.id,
            )
        if sample is not None and len(sample) >= self.config.min_rows and features:
            cols = _features_of(sample, features)
            cfg = self.config
            pca = PCAReconstruction(
                variance=cfg.pca_variance, false_alarm_rate=cfg.false_alarm_rate, seed=cfg.seed
            ).fit(cols)
            classifier: DomainClassifier | None = None
            if cfg.classifier != "never":
                try:
                    classifier = DomainClassifier(cfg).fit(cols)
                except MissingExtraError:
                    log.warning("watchkeeper: the domain classifier needs scikit-learn")
            fitted = _Fitted(features, pca, classifier)
        self._fitted[reference.id] = fitted
        return fitted

    def findings(
        self,
        state: WindowState,
        reference: ReferenceContext | None,
        univariate: Mapping[str, tuple[float, bool]],
    ) -> MultivariateFindings | None:
        """The window's verdicts and, when it drifted and the classifier ran, its root
        causes; ``None`` when there is nothing to test (no samples, too few rows)."""
        sample = state.sample
        if reference is None or sample is None or len(sample) < self.config.min_rows:
            return None
        fitted = self._fit(reference)
        if fitted is None:
            return None
        cols = _features_of(sample, fitted.features)
        verdicts = []
        if fitted.pca.applicable:
            verdicts.append(fitted.pca.test(cols))
        alarm = any(v.drifted for v in verdicts) or any(d for _, d in univariate.values())
        run = self.config.classifier == "always" or (self.config.classifier == "on_alarm" and alarm)
        causes: tuple[FeatureCause, ...] = ()
        if run and fitted.classifier is None:
            self.skipped += 1
        elif run and fitted.classifier is not None:
            result = fitted.classifier.test(cols)
            verdicts.append(result.verdict)
            if any(v.drifted for v in verdicts):
                causes = rank_causes(result.importances, univariate, self.impact)
        return MultivariateFindings(tuple(verdicts), causes)

    def points(
        self,
        state: WindowState,
        key: WindowKey,
        reference: ReferenceContext | None,
        written: Sequence[MetricPoint],
    ) -> list[MetricPoint]:
        """The multivariate points of a window, given the points already written for it
        (the univariate verdicts are read from them)."""
        findings = self.findings(state, reference, univariate_verdicts(written))
        if findings is None or reference is None:
            return []
        out: list[MetricPoint] = []

        def add(name: str, value: float, **labels: str) -> None:
            out.append(
                MetricPoint(
                    key.model,
                    key.version,
                    key.start,
                    key.seconds,
                    name,
                    value,
                    labels,
                    reference.id,
                )
            )

        for v in findings.verdicts:
            add("multivariate_drift", v.statistic, method=v.method)
            add("multivariate_drift_threshold", v.threshold, method=v.method)
            add("multivariate_drift_p_value", v.p_value, method=v.method)
            add("multivariate_drifted", float(v.drifted), method=v.method)
        for cause in findings.causes:
            add("root_cause_score", cause.score, feature=cause.feature)
        return out


def univariate_verdicts(points: Sequence[MetricPoint]) -> dict[str, tuple[float, bool]]:
    """``{feature: (statistic, drifted)}`` read from a window's drift points."""
    stats: dict[str, float] = {}
    drifted: dict[str, bool] = {}
    for p in points:
        feature = p.labels.get("feature")
        if feature is None:
            continue
        if p.name == "feature_drift":
            stats[feature] = p.value
        elif p.name == "feature_drifted":
            drifted[feature] = p.value > 0
    return {f: (s, drifted.get(f, False)) for f, s in stats.items()}


def _features_of(sample: Reservoir, features: list[str]) -> dict[str, np.ndarray]:
    cols = sample.columns()
    n = len(sample)
    return {f: cols[f] if f in cols else np.full(n, np.nan) for f in features}


def top_causes(
    store: Store, model: str, version: str, window_seconds: float, start: float, limit: int = 5
) -> list[dict[str, Any]]:
    """The ``limit`` features with the largest part in a stored window's multivariate
    drift, ``[{"feature", "score"}]`` best first; empty when the window was not ranked."""
    points = store.query_points(
        model,
        "root_cause_score",
        version=version,
        window_seconds=window_seconds,
        since=start,
        until=start + window_seconds,
    )
    ranked = sorted(points, key=lambda p: (-p.value, p.labels.get("feature", "")))
    return [{"feature": p.labels.get("feature", ""), "score": p.value} for p in ranked[:limit]]


def latest_findings(
    store: Store, model: str, version: str, window_seconds: float, since: float, until: float
) -> dict[str, Any] | None:
    """The multivariate verdicts and root causes of the newest window in ``[since,
    until)`` that has them, as the dashboard shows them: ``{"window_start", "verdicts":
    [{method, statistic, threshold, drifted}], "root_causes": [{feature, score}]}``."""
    points = [
        p
        for name in ("multivariate_drift", "multivariate_drift_threshold", "multivariate_drifted")
        for p in store.query_points(
            model, name, version=version, window_seconds=window_seconds, since=since, until=until
        )
    ]
    if not points:
        return None
    start = max(p.window_start for p in points)
    keys = {
        "multivariate_drift": "statistic",
        "multivariate_drift_threshold": "threshold",
        "multivariate_drifted": "drifted",
    }
    verdicts: dict[str, dict[str, Any]] = {}
    for p in points:
        if p.window_start == start:
            method = p.labels.get("method", "")
            row = verdicts.setdefault(method, {"method": method, "why": ""})
            row[keys[p.name]] = bool(p.value) if p.name == "multivariate_drifted" else p.value
    causes = top_causes(store, model, version, window_seconds, start, limit=MAX_CAUSES)
    order = {"pca": 0, "domain_classifier": 1}
    return {
        "window_start": start,
        "verdicts": sorted(verdicts.values(), key=lambda v: order.get(v["method"], 2)),
        "root_causes": causes,
    }


MAX_CAUSES = 50
"""Root causes shown at most (the rest have the smallest parts)."""
