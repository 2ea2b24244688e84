"""Performance before the labels arrive: estimated per closed window, checked against the
labels once they cover it, and judged against the model's normal.

The part a :class:`~watchkeeper.monitor.Monitor` uses once :meth:`Monitor.fit_estimator`
gave it labelled reference rows: a classifier gets a
:class:`~watchkeeper.stats.performance.CBPE` (from its ``score`` or ``proba_*`` outputs),
a regressor a :class:`~watchkeeper.stats.performance.DLE` (from its numeric features and
``prediction``). Then, per base window:

- while it is open, the rows the estimator needs are kept (up to ``max_rows``; later
  rows of a busy window are left out of the estimate, not of the window);
- when it closes, the analyser thread estimates it: ``estimated_<metric>`` and
  ``estimated_bound`` [metric, bound] points;
- once labels cover ``min_coverage`` of its predictions, the realised value is set
  against the estimate: ``estimate_error`` [metric] (realised - estimated) and
  ``estimate_outside`` [metric] (1 when outside the interval; the ``EstimateUnreliable``
  rule fires after N such windows in a row);
- ``performance_drop`` and ``performance_degraded`` [metric, basis]
  (:mod:`watchkeeper.monitor.judgement`) judge the window
  against the labelled reference's performance (else the labelled windows before it) with
  :func:`~watchkeeper.stats.performance.relative.compare_to_baseline`: basis ``realised``
  from labels (with or without an estimator), ``estimated`` from the estimate.

Assumption: the estimate holds while P(y | x) is the reference's (covariate shift is
fine, concept drift is not); the self-check is what tells it broke.

Limits: the estimator lives in memory (fit it again after a restart; the stored estimates
stay and are still checked); each writer estimates the rows it saw, so with several
writers of one model only one should be given the estimator; rollups are not estimated.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper._batch import Columns, Factorized, to_columns
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor.analysis import Task
from watchkeeper.monitor.judgement import (
    FittedEstimator,
    Judgement,
    WindowPoints,
    realised_metrics,
)
from watchkeeper.schema import Schema
from watchkeeper.stats.performance import (
    CBPE,
    DLE,
    Interval,
    PerformanceEstimate,
)
from watchkeeper.stats.performance.relative import binomial_se
from watchkeeper.store import Labelled, MetricPoint, Store, WindowKey

__all__ = ["Estimation", "FittedEstimator"]

_KEPT = 2_048
"""Estimates kept in memory for the self-check (older ones are read from the store)."""


@dataclass(frozen=True)
class _Columns:
    """Which logged columns the estimator reads."""

    probabilities: tuple[str, ...] = ()
    prediction: str | None = None
    features: tuple[str, ...] = ()


class Estimation:
    """Estimates, self-check and relative judgement of one model version's windows.

    Parameters
    ----------
    store, model, version
        Where points are read (the trailing baseline, stored estimates).
    window_seconds
        The base window (the only one estimated).
    max_rows
        Rows kept per open window for its estimate.
    min_coverage
        Label coverage from which a window's estimate is checked.

    Notes
    -----
    :meth:`add` runs on the caller's thread (under the monitor's lock) and only keeps
    references to float columns; :meth:`extend` runs on the analyser thread. A lock
    guards what they share.
    """

    def __init__(
        self,
        store: Store,
        model: str,
        version: str,
        window_seconds: float,
        *,
        max_rows: int = 50_000,
        min_coverage: float = 0.9,
    ) -> None:
        self.store = store
        self.model = model
        self.version = version
        self.window_seconds = window_seconds
        self.max_rows = max_rows
        self.min_coverage = min_coverage
        self.estimator: CBPE | DLE | None = None
        self.fitted: FittedEstimator | None = None
        self._columns = _Columns()
        self._categories: dict[str, dict[str, float]] = {}
        self._reference_se: dict[str, float] = {}
        self._rows: dict[float, list[dict[str, np.ndarray]]] = {}
        self._counts: dict[float, int] = {}
        self._estimates: OrderedDict[float, PerformanceEstimate] = OrderedDict()
        self._lock = threading.Lock()
        self._judgement = Judgement(store, model, version)

    # -- fitting ----------------------------------------------------------------------
    def fit(
        self,
        data: Any,
        labels: Any,
        task: Task,
        schema: Schema | None,
        *,
        classes: Sequence[Any] | None = None,
    ) -> FittedEstimator:
        """Fit the estimator of ``task`` on labelled reference rows (features and outputs
        as :meth:`Monitor.log` takes them, one label per row).

        Raises
        ------
        ConfigError
            The task is unknown, or the rows lack what its estimator reads.
        """
        columns, n = to_columns(data)
        truth = np.asarray(labels.tolist() if hasattr(labels, "tolist") else list(labels))
        if truth.shape != (n,):
            raise ConfigError(
                f"labels: {truth.size} labels for {n} reference rows; expected one per row",
                field="labels",
                value=int(truth.size),
                expected=str(n),
            )
        if task.kind == "classification":
            estimator: CBPE | DLE = self._fit_classifier(columns, n, truth, task, classes)
        elif task.kind == "regression":
            estimator = self._fit_regressor(columns, n, truth, task, schema)
        else:
            raise ConfigError(
                "task: unknown; expected a monitor with a reference or schema whose outputs "
                "say classification or regression (or the task option)",
                field="task",
                value=None,
                expected="classification or regression",
            )
        ref = estimator.reference_
        names = ("accuracy", "precision", "recall", "f1", "roc_auc", "mae", "rmse")
        reference = {k: float(getattr(ref, k)) for k in names if hasattr(ref, k)}
        with self._lock:
            self.estimator = estimator
            self._rows.clear()
            self._counts.clear()
        method = "cbpe" if isinstance(estimator, CBPE) else "dle"
        if "accuracy" in reference:
            self._reference_se = {"accuracy": binomial_se(reference["accuracy"], ref.n)}
        self.fitted = FittedEstimator(method, ref.n, reference)
        return self.fitted

    def _fit_classifier(
        self, columns: Columns, n: int, truth: Any, task: Task, classes: Sequence[Any] | None
    ) -> CBPE:
        proba = sorted(
            (c for c in columns if c.startswith("proba_")), key=lambda c: _suffix_order(c)
        )
        if not proba and task.score is not None and task.score in columns:
            proba = [task.score]
        if not proba:
            raise ConfigError(
                "reference: no class probabilities; expected a 'score' output (binary) or "
                "'proba_<class>' outputs",
                field="reference",
                value=sorted(columns),
                expected="score or proba_* columns",
            )
        labels = [str(v) for v in _inputs.as_texts(np.asarray(truth, dtype=object), n)]
        if classes is None and len(proba) > 1:
            suffixes = [c[len("proba_") :] for c in proba]
            if set(labels) <= set(suffixes):
                classes = suffixes
        if classes is None and len(proba) == 1:
            seen = sorted(set(labels) | set(task.classes))
            if task.positive is not None and task.positive in seen and len(seen) == 2:
                seen = [c for c in seen if c != task.positive] + [task.positive]
            classes = seen if len(seen) == 2 else None
        self._columns = _Columns(
            tuple(proba), task.prediction if task.prediction in columns else None
        )
        p = self._probabilities(columns, n)
        pred = self._predictions(columns, n)
        return CBPE().fit(p, labels, classes=classes, predictions=pred)

    def _fit_regressor(
        self, columns: Columns, n: int, truth: Any, task: Task, schema: Schema | None
    ) -> DLE:
        if task.prediction is None or task.prediction not in columns:
            raise ConfigError(
                f"reference: no prediction column {task.prediction!r}; expected the model's "
                "numeric predictions beside the features",
                field="reference",
                value=sorted(columns),
                expected="a prediction column",
            )
        outputs = {task.prediction} | (
            {c.name for c in schema.with_role("output")} if schema is not None else set()
        )
        if schema is not None:
            features = [c.name for c in schema.with_role("feature") if c.name in columns]
        else:
            features = [c for c in columns if c not in outputs]
        self._columns = _Columns((), task.prediction, tuple(features))
        self._categories = {}
        for name in features:
            values = _inputs.as_floats(columns[name], n)
            if np.isnan(values).all():  # text: codes by first appearance (HGB splits them)
                texts = _inputs.as_texts(columns[name], n)
                seen = dict.fromkeys(t for t in texts if t is not None)
                self._categories[name] = {t: float(i) for i, t in enumerate(seen)}
        x = self._features(columns, n)
        y = _inputs.as_floats(np.asarray(truth, dtype=object), n)
        return DLE().fit(x, _inputs.as_floats(columns[task.prediction], n), y)

    # -- columns ----------------------------------------------------------------------
    def _probabilities(self, columns: Mapping[str, Any], n: int) -> np.ndarray:
        cols = [_inputs.as_floats(columns.get(c), n) for c in self._columns.probabilities]
        return cols[0] if len(cols) == 1 else np.column_stack(cols)

    def _predictions(self, columns: Mapping[str, Any], n: int) -> list[str | None] | None:
        name = self._columns.prediction
        return None if name is None else _inputs.as_texts(columns.get(name), n)

    def _features(self, columns: Mapping[str, Any], n: int) -> np.ndarray:
        out = []
        for name in self._columns.features:
            codes = self._categories.get(name)
            if codes is None:
                out.append(_inputs.as_floats(columns.get(name), n))
            else:
                texts = _inputs.as_texts(columns.get(name), n)
                out.append(np.array([codes.get(t, math.nan) if t else math.nan for t in texts]))
        return np.column_stack(out) if out else np.empty((n, 0))

    # -- rows in (caller's thread) --------------------------------------------------------
    def add(self, start: float, columns: Columns, n: int) -> None:
        """Keep what the estimate of the window starting at ``start`` needs of a batch."""
        if self.estimator is None:
            return
        with self._lock:
            have = self._counts.get(start, 0)
            if have >= self.max_rows:
                return
            take = min(n, self.max_rows - have)
            cols = self._columns
            kept: dict[str, Any] = {}
            for name in (*cols.probabilities, *cols.features):
                if name in columns:
                    kept[name] = _head(columns[name], take)
            if cols.prediction is not None and cols.prediction in columns:
                kept[cols.prediction] = _head(columns[cols.prediction], take)
            self._rows.setdefault(start, []).append(kept)
            self._counts[start] = have + take

    # -- points out (analyser thread) ----------------------------------------------------
    def extend(
        self,
        key: WindowKey,
        requests: int,
        labelled: Labelled,
        task: Task,
        points: list[MetricPoint],
    ) -> list[MetricPoint]:
        """``points`` of a window being analysed with this part's points added (see the
        module docstring); an estimate replaces the score-quantile ``estimated_*`` points
        of the analysis."""
        if key.seconds != self.window_seconds:
            return points
        estimate = self._estimate(key)
        out = WindowPoints(key)
        if estimate is not None:
            for name, interval in estimate.metrics.items():
                out.add(f"estimated_{name}", interval.value)
                out.add("estimated_bound", interval.lower, metric=name, bound="lower")
                out.add("estimated_bound", interval.upper, metric=name, bound="upper")
        realised = realised_metrics(labelled, task)
        n = int(realised.get("n", 0))
        stored = estimate.metrics if estimate is not None else self._stored_estimate(key)
        if stored and requests and n / requests >= self.min_coverage:
            for name, interval in stored.items():
                value = realised.get(name)
                if value is None or math.isnan(value) or math.isnan(interval.value):
                    continue
                out.add("estimate_error", value - interval.value, metric=name)
                out.add("estimate_outside", float(not interval.contains(value)), metric=name)
        self._judgement.judge(key, realised, estimate, self.fitted, self._reference_se, out)
        if estimate is not None:
            points = [p for p in points if not p.name.startswith("estimated_")]
        return points + out.points

    def _estimate(self, key: WindowKey) -> PerformanceEstimate | None:
        with self._lock:
            if key.start in self._estimates:
                self._rows.pop(key.start, None)  # late rows of a judged window
                return self._estimates[key.start]
            batches = self._rows.pop(key.start, None)
            self._counts.pop(key.start, None)
            estimator = self.estimator
        if estimator is None or not batches:
            return None
        columns: dict[str, Any] = {
            name: np.concatenate([b[name] for b in batches if name in b]) for name in batches[0]
        }
        n = min((len(v) for v in columns.values()), default=0)
        if isinstance(estimator, CBPE):
            estimate = estimator.estimate(
                self._probabilities(columns, n), self._predictions(columns, n)
            )
        else:
            name = self._columns.prediction
            pred = _inputs.as_floats(columns.get(name) if name else None, n)
            estimate = estimator.estimate(self._features(columns, n), pred)
        with self._lock:
            self._estimates[key.start] = estimate
            while len(self._estimates) > _KEPT:
                self._estimates.popitem(last=False)
        return estimate

    def _stored_estimate(self, key: WindowKey) -> dict[str, Interval]:
        """The estimate written for a window before a restart, read back from the store."""
        points = self.store.query_points(
            self.model,
            version=self.version,
            window_seconds=key.seconds,
            since=key.start,
            until=key.start + key.seconds,
        )
        values: dict[str, float] = {}
        bounds: dict[tuple[str, str], float] = {}
        for p in points:
            if p.window_start != key.start:
                continue
            if p.name == "estimated_bound":
                bounds[(p.labels.get("metric", ""), p.labels.get("bound", ""))] = p.value
            elif p.name.startswith("estimated_"):
                values[p.name.removeprefix("estimated_")] = p.value
        return {
            m: Interval(v, bounds[(m, "lower")], bounds[(m, "upper")])
            for m, v in values.items()
            if (m, "lower") in bounds and (m, "upper") in bounds
        }


def _head(column: Any, n: int) -> Any:
    if isinstance(column, Factorized):
        return np.array(_inputs.as_texts(column, len(column.codes))[:n], dtype=object)
    return np.asarray(column)[:n]


def _suffix_order(name: str) -> tuple[int, float, str]:
    suffix = name[len("proba_") :]
    try:
        return (0, float(suffix), suffix)
    except ValueError:
        return (1, 0.0, suffix)
