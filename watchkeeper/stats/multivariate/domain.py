"""Multivariate drift by a domain classifier: can a model tell the window's rows from
the reference's?

A gradient-boosted tree classifier (scikit-learn's ``HistGradientBoostingClassifier``,
categories handled natively, missing values too) learns to tell reference rows (label 0)
from current rows (label 1). Its stratified ``folds``-fold cross-validated ROC AUC (the
mean of the folds' AUCs on their held-out rows) is the statistic: 0.5 when the two are
alike, towards 1 as they differ, whatever the kind of change (a shift, a new correlation,
a new category mix).

Calibration, at a false-alarm rate α: a large sample makes any AUC above 0.5
"significant" and a small one makes it noisy, so the threshold is not a fixed AUC band
but the no-drift spread at these sizes: the same cross-validation is run with the domain
labels permuted ``n_permutations`` times (seeded), and the threshold is the normal
prediction bound of those ``B`` null AUCs: their mean plus ``t(1 − α; B − 1) x sd x
sqrt(1 + 1/B)``, which a new no-drift AUC exceeds with chance α when the null is normal
and its mean and spread are estimated from ``B`` draws (with 19 permutations an
empirical 99th percentile does not exist; cross-validated AUCs are sums of
Mann–Whitney statistics, close to normal). The p-value is the permutation one, ``(1 + #null ≥ AUC) /
(n_permutations + 1)``.

The permuted rows are reference rows (``2 * max_rows`` are kept at fit time): without
drift, current rows are exchangeable with reference rows, so labelling reference rows at
random has the same law as permuting the pooled labels, and the null then depends only
on the reference and the two sizes. It is computed once per pair of sizes and kept, so a
monitor whose windows fill their reservoir pays for it once per reference. When the
reference has too few rows for both sizes, the pooled rows of the test are permuted
(and nothing is kept).

Cost is bounded: each side is subsampled to ``max_rows`` rows, and a verdict is
``(n_permutations + 1) * folds`` fits of ``max_iter`` trees, on one thread (the fits are
deterministic and the machine's other cores stay free).

Root cause: permutation importance on the held-out folds, the mean drop in AUC when
one column is shuffled (``n_repeats`` times) — Deepchecks' multivariate drift check.

References
----------
Rabanser, Günnemann, Lipton, "Failing Loudly: An Empirical Study of Methods for Detecting
Dataset Shift", NeurIPS 2019 (domain classifiers). Breiman, "Random Forests", Machine
Learning 45, 2001 (permutation importance).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from watchkeeper.errors import MissingExtraError
from watchkeeper.stats.multivariate._matrix import MAX_BINS, Encoding, subsample
from watchkeeper.stats.multivariate._result import MultivariateDrift
from watchkeeper.stats.multivariate.config import MultivariateConfig
from watchkeeper.types import FloatArray

__all__ = ["DomainClassifier", "DomainResult", "permutation_importance_auc", "roc_auc"]


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of ``score`` for the labels ``y`` (0/1), ties counted half: the
    Mann–Whitney U of the positives over ``n1 * n0`` (scikit-learn's ``roc_auc_score``).

    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    pos = y == 1
    n1 = int(pos.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = sps.rankdata(score)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass(frozen=True)
class DomainResult:
    """What a domain-classifier test found.

    Attributes
    ----------
    verdict
        The drift verdict (statistic: the cross-validated AUC).
    fold_aucs
        The AUC of each fold.
    null_aucs
        The cross-validated AUCs with permuted domain labels.
    importances
        ``{column: mean AUC drop when shuffled}``, every column; empty when not asked.
    """

    verdict: MultivariateDrift
    fold_aucs: tuple[float, ...]
    null_aucs: tuple[float, ...]
    importances: Mapping[str, float]


@contextmanager
def _one_thread() -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _estimator_factory(config: MultivariateConfig, categorical: np.ndarray) -> Callable[[], Any]:
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError as exc:
        raise MissingExtraError.needs(
            "the domain classifier needs scikit-learn", "multivariate"
        ) from exc
    cats = categorical if categorical.any() else None

    def make() -> Any:
        return HistGradientBoostingClassifier(
            max_iter=config.max_iter,
            max_leaf_nodes=15,
            max_bins=MAX_BINS,
            early_stopping=False,
            categorical_features=cats,
            random_state=config.seed,
        )

    return make


class DomainClassifier:
    """Domain-classifier drift test (module docstring).

    Parameters
    ----------
    config
        Folds, permutations, rows, trees, α and seed.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = {"x": rng.normal(size=600), "c": rng.choice(["a", "b"], 600).astype(object)}
    >>> cur = {"x": rng.normal(0.5, 1, 600), "c": rng.choice(["a", "b"], 600).astype(object)}
    >>> clf = DomainClassifier(MultivariateConfig(n_permutations=9, max_iter=10)).fit(ref)
    >>> result = clf.test(cur)
    >>> result.verdict.drifted, max(result.importances, key=result.importances.get)
    (True, 'x')
    """

    def __init__(self, config: MultivariateConfig | None = None) -> None:
        self.config = config or MultivariateConfig()

    def fit(self, reference: Mapping[str, np.ndarray]) -> DomainClassifier:
        """Learn the encoding and keep a seeded subsample of ``2 * max_rows`` reference
        rows: the first ``max_rows`` are compared with the current rows, all of them
        calibrate the null."""
        self.encoding_ = Encoding.fit(reference)
        rng = np.random.default_rng([self.config.seed, 1])
        x = self.encoding_.transform(reference)
        self.pool_: FloatArray = rng.permutation(subsample(x, 2 * self.config.max_rows, rng))
        self.reference_: FloatArray = self.pool_[: self.config.max_rows]
        self.null_: dict[tuple[int, int], tuple[float, ...]] = {}
        """The null AUCs computed so far, by (reference rows, current rows)."""
        self._make = _estimator_factory(self.config, np.array(self.encoding_.categorical))
        return self

    def _null(self, x: FloatArray, y: np.ndarray) -> tuple[float, ...]:
        """Cross-validated AUCs with random domain labels, at the sizes of ``y``."""
        n_ref, n_cur = int((y == 0).sum()), int((y == 1).sum())
        sizes = (n_ref, n_cur)
        if sizes in self.null_:
            return self.null_[sizes]
        rng = np.random.default_rng([self.config.seed, 4, n_ref, n_cur])
        from_reference = len(self.pool_) >= n_ref + n_cur
        rows = rng.permutation(self.pool_)[: n_ref + n_cur] if from_reference else x
        null = tuple(
            self._cross_validated(rows, rng.permutation(y), rng)[0]
            for _ in range(self.config.n_permutations)
        )
        if from_reference:
            self.null_[sizes] = null
        return null

    def test(self, current: Mapping[str, np.ndarray], *, importance: bool = True) -> DomainResult:
        """The verdict on ``current`` and, with ``importance``, every column's
        permutation importance."""
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, 2])
        cur = subsample(self.encoding_.transform(current), cfg.max_rows, rng)
        x = np.vstack([self.reference_, cur])
        y = np.r_[np.zeros(len(self.reference_), int), np.ones(len(cur), int)]
        with _one_thread():
            auc, folds, models = self._cross_validated(x, y, np.random.default_rng([cfg.seed, 3]))
            null = self._null(x, y)
            imps = self._importances(x, y, models) if importance else {}
        mean, sd = float(np.mean(null)), float(np.std(null, ddof=1))
        b = len(null)
        t = float(sps.t.isf(cfg.false_alarm_rate, b - 1))
        threshold = mean + t * sd * math.sqrt(1 + 1 / b)
        p = (1 + sum(v >= auc for v in null)) / (len(null) + 1)
        why = (
            f"cross-validated domain-classifier AUC {auc:.4f} vs {threshold:.4f}: the mean "
            f"{mean:.4f} + t({1 - cfg.false_alarm_rate:g}; {b - 1}) x sd {sd:.4f} x "
            f"sqrt(1 + 1/{b}) of {b} AUCs with random domain labels "
            f"({len(self.reference_)} reference rows, {len(cur)} current rows, {cfg.folds} folds)"
        )
        verdict = MultivariateDrift(
            "domain_classifier",
            auc,
            threshold,
            auc > threshold,
            p,
            len(self.reference_),
            len(cur),
            why,
        )
        return DomainResult(verdict, tuple(folds), null, imps)

    def _cross_validated(
        self, x: FloatArray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[float, list[float], list[tuple[Any, np.ndarray]]]:
        """Mean held-out AUC of stratified folds, the folds' AUCs, and each fold's model
        with its held-out rows."""
        k = self.config.folds
        fold = np.empty(len(y), dtype=int)
        for label in (0, 1):
            where = np.flatnonzero(y == label)
            fold[rng.permutation(where)] = np.arange(len(where)) % k
        aucs, models = [], []
        for f in range(k):
            test = fold == f
            model = self._make().fit(x[~test], y[~test])
            aucs.append(roc_auc(y[test], model.predict_proba(x[test])[:, 1]))
            models.append((model, np.flatnonzero(test)))
        return float(np.mean(aucs)), aucs, models

    def _importances(
        self, x: FloatArray, y: np.ndarray, models: list[tuple[Any, np.ndarray]]
    ) -> dict[str, float]:
        """Mean drop of the held-out AUC when one column is shuffled, over folds."""
        rng = np.random.default_rng([self.config.seed, 5])
        drops = np.mean(
            [
                permutation_importance_auc(model, x[rows], y[rows], self.config.n_repeats, rng)
                for model, rows in models
            ],
            axis=0,
        )
        return {name: float(d) for name, d in zip(self.encoding_.names, drops, strict=True)}


def permutation_importance_auc(
    model: Any, x: FloatArray, y: np.ndarray, n_repeats: int, rng: np.random.Generator
) -> FloatArray:
    """Per column, the mean drop of ``model``'s ROC AUC on ``(x, y)`` when the column is
    shuffled, over ``n_repeats`` shuffles: scikit-learn's ``permutation_importance`` with
    ``scoring="roc_auc"`` (its ``importances_mean``), every shuffled copy scored in one
    call (memory: ``columns * n_repeats`` copies of ``x``)."""
    n, p = x.shape
    # every shuffled copy in one predict call: a call costs far more than its rows
    copies = np.repeat(x[None, :, :], p * n_repeats, axis=0)
    for j in range(p):
        for r in range(n_repeats):
            copies[j * n_repeats + r, :, j] = x[rng.permutation(n), j]
    scores = model.predict_proba(np.vstack([x, copies.reshape(-1, p)]))[:, 1]
    base = roc_auc(y, scores[:n])
    drops = np.zeros(p)
    for j in range(p):
        for r in range(n_repeats):
            at = (1 + j * n_repeats + r) * n
            drops[j] += base - roc_auc(y, scores[at : at + n])
    out: FloatArray = drops / n_repeats
    return out
