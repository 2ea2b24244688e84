"""Drift of an embedding distribution: MMD on a seeded random projection, with a
permutation null at the configured false-alarm rate.

The maximum mean discrepancy (Gretton et al., 2012) with a Gaussian kernel ``k(x, y) =
exp(−‖x − y‖² / (2σ²))`` compares two samples of vectors as a whole, not coordinate by
coordinate: its (biased, V-statistic) square is

``MMD² = mean k(X, X') + mean k(Y, Y') − 2 mean k(X, Y)``,

zero in expectation only when the distributions are equal (the kernel is
characteristic). Vectors are first projected on ``n_components`` seeded Gaussian
directions scaled by ``1/sqrt(n_components)`` (a Johnson–Lindenstrauss projection, which
keeps pairwise distances within a small factor) so the cost does not grow with the
embedding's dimension, and each sample is capped at ``max_samples`` rows (a seeded
uniform subsample), so one test costs ``O((m + n)² · n_permutations)`` whatever the
traffic. The bandwidth ``σ`` is the median distance between projected reference vectors
(the median heuristic), fixed at :meth:`EmbeddingDrift.fit`.

The null is the permutation distribution: the pooled rows are reassigned to the two
sides ``n_permutations`` times and the statistic recomputed. The p-value
``(1 + #{null >= observed}) / (1 + n_permutations)`` is exact under exchangeability (no
drift), so the false-alarm rate is at most the configured one whatever the sample sizes;
``threshold`` is the null's ``1 − α`` quantile, reported beside the statistic so a
verdict says why.

References
----------
Gretton, A., Borgwardt, K. M., Rasch, M. J., Schölkopf, B., Smola, A. (2012). A kernel
two-sample test. Journal of Machine Learning Research 13, 723–773.
Rabanser, S., Günnemann, S., Lipton, Z. (2019). Failing loudly: an empirical study of
methods for detecting dataset shift. NeurIPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper.errors import ConfigError, InvalidBatchError
from watchkeeper.types import FloatArray

__all__ = ["EmbeddingDrift", "EmbeddingDriftResult", "mmd2"]


def mmd2(kernel: FloatArray, weights: FloatArray) -> FloatArray:
    """Biased MMD² of each split of the pooled rows: ``wᵀ K w`` per column of ``weights``
    (``1/m`` on one side's rows, ``−1/n`` on the other's).

    >>> k = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> mmd2(k, np.array([[1.0], [-1.0]])).tolist()
    [1.0]
    """
    out: FloatArray = np.einsum("ib,ib->b", weights, kernel @ weights)
    return out


def _matrix(name: str, values: Any) -> FloatArray:
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidBatchError(
            f"{name}: expected a 2-D array of numbers (one vector per row), got "
            f"{type(values).__name__}",
            field=name,
            value=type(values).__name__,
            expected="rows x dimensions numbers",
        ) from exc
    if x.ndim != 2 or x.shape[0] < 2 or not np.isfinite(x).all():
        raise InvalidBatchError(
            f"{name}: expected a 2-D array of finite numbers with at least 2 rows, got "
            f"shape {x.shape}",
            field=name,
            value=str(x.shape),
            expected="at least 2 rows x dimensions, finite",
        )
    return x


@dataclass(frozen=True)
class EmbeddingDriftResult:
    """One embedding drift verdict, with its evidence."""

    statistic: float
    """MMD² of the projected samples."""
    threshold: float
    """The permutation null's ``1 − α`` quantile: drift beyond it."""
    p_value: float
    """Share of permutations (plus the observed split) at least as large."""
    drifted: bool
    """``p_value <= false_alarm_rate``."""
    false_alarm_rate: float
    n_reference: int
    n_current: int
    method: str = "mmd"

    @property
    def reason(self) -> str:
        """Why, in one sentence."""
        verdict = "drifted" if self.drifted else "no drift"
        return (
            f"{verdict}: MMD² {self.statistic:.4g} vs {self.threshold:.4g} (the no-drift "
            f"spread's {1 - self.false_alarm_rate:.0%} quantile), p = {self.p_value:.3g}"
        )


class EmbeddingDrift:
    """Two-sample drift test of embedding vectors (module docstring).

    Parameters
    ----------
    false_alarm_rate
        α in (0, 0.5): the chance that a sample without drift is flagged.
    n_components
        Dimensions of the random projection (vectors with fewer are used as they are).
    max_samples
        Rows of each sample used, at most (a seeded subsample beyond).
    n_permutations
        Draws of the permutation null (>= ``1/α − 1``, so a p-value can reach α).
    seed
        Seed of the projection, the subsamples and the permutations.

    Attributes
    ----------
    projection_ : ndarray or None
        ``dimension x n_components``; ``None`` when vectors are used as they are.
    reference_ : ndarray
        The projected reference sample.
    bandwidth_ : float
        The kernel's ``σ``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(300, 64))
    >>> test = EmbeddingDrift(false_alarm_rate=0.05).fit(ref)
    >>> test.test(rng.normal(size=(300, 64))).drifted
    False
    >>> shifted = rng.normal(size=(300, 64)) + np.r_[np.full(8, 0.5), np.zeros(56)]
    >>> test.test(shifted).drifted
    True
    """

    def __init__(
        self,
        *,
        false_alarm_rate: float = 0.01,
        n_components: int = 16,
        max_samples: int = 500,
        n_permutations: int = 200,
        seed: int = 0,
    ) -> None:
        if not 0.0 < false_alarm_rate < 0.5:
            raise ConfigError(
                f"false_alarm_rate: expected a number in (0, 0.5), got {false_alarm_rate!r}",
                field="false_alarm_rate",
                value=false_alarm_rate,
                expected="a number in (0, 0.5)",
            )
        if n_permutations + 1 < 1.0 / false_alarm_rate:
            raise ConfigError(
                f"n_permutations: {n_permutations} cannot give a p-value as small as "
                f"{false_alarm_rate}; expected at least {int(np.ceil(1 / false_alarm_rate)) - 1}",
                field="n_permutations",
                value=n_permutations,
                expected=f">= {int(np.ceil(1 / false_alarm_rate)) - 1}",
            )
        for name, value in (("n_components", n_components), ("max_samples", max_samples)):
            if value < 2:
                raise ConfigError(
                    f"{name}: expected an integer >= 2, got {value!r}",
                    field=name,
                    value=value,
                    expected="an integer >= 2",
                )
        self.false_alarm_rate = float(false_alarm_rate)
        self.n_components = int(n_components)
        self.max_samples = int(max_samples)
        self.n_permutations = int(n_permutations)
        self.seed = int(seed)
        self.projection_: FloatArray | None = None
        self.reference_: FloatArray = np.empty((0, 0))
        self.bandwidth_ = 1.0

    def _reduce(self, x: FloatArray, salt: int) -> FloatArray:
        if x.shape[0] > self.max_samples:
            rng = np.random.default_rng([self.seed, salt, x.shape[0]])
            x = x[np.sort(rng.choice(x.shape[0], self.max_samples, replace=False))]
        if self.projection_ is None:
            return x
        reduced: FloatArray = x @ self.projection_
        return reduced

    def fit(self, reference: Any) -> EmbeddingDrift:
        """Draw the projection, keep a projected reference sample, set the bandwidth."""
        x = _matrix("reference", reference)
        dim = x.shape[1]
        self.projection_ = None
        if dim > self.n_components:
            rng = np.random.default_rng([self.seed, dim])
            self.projection_ = rng.standard_normal((dim, self.n_components)) / np.sqrt(
                self.n_components
            )
        self.reference_ = self._reduce(x, 1)
        sq = _sq_distances(self.reference_)
        upper = sq[np.triu_indices(sq.shape[0], k=1)]
        median = float(np.median(np.sqrt(upper)))
        self.bandwidth_ = median if median > 0 else 1.0
        return self

    def test(self, current: Any) -> EmbeddingDriftResult:
        """Judge ``current`` vectors against the fitted reference.

        Raises
        ------
        InvalidBatchError
            Not a 2-D array of finite numbers, or of another dimension than the reference.
        """
        if self.reference_.size == 0:
            raise ConfigError(
                "EmbeddingDrift: not fitted; expected fit(reference) first",
                field="reference",
                value=None,
                expected="fit(reference)",
            )
        y = _matrix("current", current)
        dim = self.reference_.shape[1] if self.projection_ is None else self.projection_.shape[0]
        if y.shape[1] != dim:
            raise InvalidBatchError(
                f"current: vectors of dimension {y.shape[1]}; expected {dim}, as the reference",
                field="current",
                value=y.shape[1],
                expected=str(dim),
            )
        ref, cur = self.reference_, self._reduce(y, 2)
        m, n = ref.shape[0], cur.shape[0]
        pooled = np.vstack([ref, cur])
        kernel = np.exp(-_sq_distances(pooled) / (2.0 * self.bandwidth_**2))
        observed = np.r_[np.full(m, 1.0 / m), np.full(n, -1.0 / n)]
        rng = np.random.default_rng([self.seed, 3, m, n])
        perms = rng.permuted(np.tile(observed[:, None], (1, self.n_permutations)), axis=0)
        stat = float(mmd2(kernel, observed[:, None])[0])
        null = mmd2(kernel, perms)
        # a tolerance: permutations equal to the observed split tie with it exactly
        p_value = (1 + int(np.count_nonzero(null >= stat - 1e-12))) / (1 + null.size)
        threshold = float(np.quantile(null, 1.0 - self.false_alarm_rate, method="higher"))
        return EmbeddingDriftResult(
            statistic=stat,
            threshold=threshold,
            p_value=p_value,
            drifted=p_value <= self.false_alarm_rate,
            false_alarm_rate=self.false_alarm_rate,
            n_reference=m,
            n_current=n,
        )


def _sq_distances(x: FloatArray) -> FloatArray:
    norms = np.einsum("ij,ij->i", x, x)
    sq: FloatArray = np.maximum(norms[:, None] + norms[None, :] - 2.0 * (x @ x.T), 0.0)
    return sq
