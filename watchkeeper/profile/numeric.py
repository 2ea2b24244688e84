"""Profile of a numeric (or datetime) column: moments, extremes, quantile sketch, histogram."""

from __future__ import annotations

import math
from typing import Any, Literal

import datasketches as ds
import numpy as np

from watchkeeper.binning import bin_counts, n_slots
from watchkeeper.errors import ConfigError, IncompatibleProfilesError
from watchkeeper.types import FloatArray, IntArray

__all__ = ["DEFAULT_K", "NumericProfile"]

DEFAULT_K = 400
"""KLL accuracy parameter. At k=400 the sketch holds about 10 kB per column whatever the
row count, and its single-rank error is about 0.7% (99% confidence); the KS statistic
from two such sketches measured within 0.006 of the exact one for n >= 10,000."""


_CHUNK = 16_384  # values per cache-resident chunk in update()


class NumericProfile:
    """Mergeable summary of a numeric column.

    Counts values (finite, missing, non-finite), tracks min/max and mean/variance with
    the parallel algorithm of Chan et al., feeds finite values to a KLL quantile sketch
    (Apache DataSketches) and, when the column has reference bins, counts them on those
    bins (:mod:`watchkeeper.binning`).

    Parameters
    ----------
    edges
        Reference bin edges; ``None`` for no histogram (the reference itself before its
        edges are known, or a stream without a reference).
    k
        KLL accuracy parameter (8..65535): larger is more accurate and bigger.
    kind
        ``"numeric"``, or ``"datetime"`` for epoch seconds.

    Notes
    -----
    Missing values are NaN; ``+inf``/``-inf`` are counted as ``non_finite`` and kept out
    of every statistic. Merging is exact for counts, extremes and the histogram, exact up
    to floating-point rounding for mean and variance, and within the sketch's stated
    rank error for quantiles (``rank_error``).

    References
    ----------
    Chan, Golub, LeVeque (1979), "Updating formulae and a pairwise algorithm for
    computing sample variances". Karnin, Lang, Liberty (2016), "Optimal quantile
    approximation in streams" (KLL).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = NumericProfile().update(rng.normal(size=1000))
    >>> b = NumericProfile().update(np.array([1.0, np.nan, np.inf]))
    >>> m = a.merge(b)
    >>> m.count, m.missing, m.non_finite, round(m.mean, 3)
    (1001, 1, 1, -0.047)
    """

    def __init__(
        self,
        *,
        edges: FloatArray | None = None,
        k: int = DEFAULT_K,
        kind: Literal["numeric", "datetime"] = "numeric",
    ) -> None:
        if not 8 <= k <= 65535:
            raise ConfigError(
                f"k: expected an integer in 8..65535, got {k!r}",
                field="k",
                value=k,
                expected="8..65535",
            )
        self.kind = kind
        self.k = k
        self.count = 0
        self.missing = 0
        self.non_finite = 0
        self.min = math.inf
        self.max = -math.inf
        self.mean = 0.0
        self.m2 = 0.0
        self.sketch = ds.kll_doubles_sketch(k)
        self.edges: FloatArray | None = None
        self.bin_counts: IntArray | None = None
        if edges is not None and len(edges) > 0:
            self.edges = np.asarray(edges, dtype=np.float64)
            self.bin_counts = np.zeros(n_slots(self.edges), dtype=np.int64)

    # -- stream verbs ---------------------------------------------------------------

    def update(self, values: FloatArray) -> NumericProfile:
        """Add a batch of values (float64; NaN is missing). Vectorised; returns self."""
        values = np.asarray(values, dtype=np.float64)
        finite_mask = np.isfinite(values)
        if finite_mask.all():
            finite = values
        else:
            n_nan = int(np.isnan(values).sum())
            self.missing += n_nan
            self.non_finite += int(values.size - n_nan - finite_mask.sum())
            finite = values[finite_mask]
        n = finite.size
        if n == 0:
            return self
        mean_b = float(finite.mean())
        m2_b = 0.0
        edges, counts = self.edges, self.bin_counts
        # Work in chunks of 16,384 values that stay in the CPU cache: a million-value
        # temporary costs more in fresh pages than in arithmetic (profiling a column was
        # about 3x slower whole). Each chunk is sorted before it feeds the sketch, whose
        # compactions then merge sorted runs (KLL's error bound holds for any input
        # order), and the bin counts become binary searches.
        for start in range(0, n, _CHUNK):
            part = finite[start : start + _CHUNK]
            dev = part - mean_b
            dev *= dev  # not np.dot: BLAS threads spin and stall on a loaded machine
            m2_b += float(dev.sum())
            ordered = np.sort(part)
            self.sketch.update(ordered)
            if edges is not None and counts is not None:
                counts += bin_counts(ordered, edges, assume_sorted=True)
        self._combine_moments(n, mean_b, m2_b)
        self.min = min(self.min, float(finite.min()))
        self.max = max(self.max, float(finite.max()))
        return self

    def _combine_moments(self, n_b: int, mean_b: float, m2_b: float) -> None:
        n_a = self.count
        n = n_a + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * n_a * n_b / n
        self.count = n

    def merge(self, other: NumericProfile) -> NumericProfile:
        """A new profile equal to the profile of both inputs' rows."""
        if not isinstance(other, NumericProfile) or other.kind != self.kind:
            raise IncompatibleProfilesError(
                f"merge: expected a {self.kind} profile, got {getattr(other, 'kind', other)!r}",
                field="kind",
                value=getattr(other, "kind", None),
                expected=self.kind,
            )
        if not _same_edges(self.edges, other.edges):
            raise IncompatibleProfilesError(
                "merge: the two profiles have different reference bins; expected profiles "
                "built against the same reference",
                field="edges",
                value=None if other.edges is None else len(other.edges),
                expected=None if self.edges is None else str(len(self.edges)) + " edges",
            )
        out = NumericProfile(edges=self.edges, k=max(self.k, other.k), kind=self.kind)
        for src in (self, other):
            out.missing += src.missing
            out.non_finite += src.non_finite
            if src.count:
                out._combine_moments(src.count, src.mean, src.m2)
                out.min = min(out.min, src.min)
                out.max = max(out.max, src.max)
                out.sketch.merge(src.sketch)
            if out.bin_counts is not None and src.bin_counts is not None:
                out.bin_counts += src.bin_counts
        return out

    # -- results --------------------------------------------------------------------

    @property
    def n_total(self) -> int:
        """Every row seen: finite, missing and non-finite."""
        return self.count + self.missing + self.non_finite

    @property
    def variance(self) -> float:
        """Population variance of the finite values (NaN when there are none)."""
        return self.m2 / self.count if self.count else math.nan

    @property
    def std(self) -> float:
        """Population standard deviation of the finite values."""
        return math.sqrt(self.variance) if self.count else math.nan

    @property
    def rank_error(self) -> float:
        """The sketch's single-rank error bound (99% confidence); 0 while it is exact."""
        return float(self.sketch.normalized_rank_error(False)) if self.is_approximate else 0.0

    @property
    def is_approximate(self) -> bool:
        """Whether the sketch has started compacting (before that it holds every value)."""
        return bool(self.sketch.is_estimation_mode)

    def quantiles(self, ranks: FloatArray) -> FloatArray:
        """Quantiles at normalised ranks in [0, 1] (NaN when the column is empty)."""
        ranks = np.asarray(ranks, dtype=np.float64)
        if self.count == 0:
            return np.full(ranks.shape, np.nan)
        return np.asarray(self.sketch.get_quantiles(ranks), dtype=np.float64)

    def cdf(self, points: FloatArray) -> FloatArray:
        """Share of finite values <= each point (right-continuous empirical CDF)."""
        points = np.asarray(points, dtype=np.float64)
        if self.count == 0:
            return np.zeros(points.shape)
        return np.asarray(self.sketch.get_cdf(points, True)[:-1], dtype=np.float64)

    def histogram(self, edges: FloatArray) -> IntArray:
        """Counts on ``edges``: exact when they are this profile's bins, else from the sketch."""
        if (
            self.edges is not None
            and self.bin_counts is not None
            and _same_edges(self.edges, edges)
        ):
            return self.bin_counts.copy()
        if self.count == 0:
            return np.zeros(n_slots(edges), dtype=np.int64)
        # counts from the sketch: the mass below, between and above the edges
        below = self.cdf(edges) * self.count  # share <= edge
        strictly_below = np.asarray(self.sketch.get_cdf(edges, False)[:-1]) * self.count
        if len(edges) == 1:
            raw = [strictly_below[0], below[0] - strictly_below[0], self.count - below[0]]
        else:
            inner = np.diff(strictly_below)
            inner[-1] += below[-1] - strictly_below[-1]
            raw = [strictly_below[0], *inner, self.count - below[-1]]
        return np.rint(np.maximum(raw, 0)).astype(np.int64)

    # -- state for the codec ----------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Plain state: numbers, lists and bytes (see :mod:`watchkeeper.profile.codec`)."""
        return {
            "kind": self.kind,
            "k": self.k,
            "count": self.count,
            "missing": self.missing,
            "non_finite": self.non_finite,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "m2": self.m2,
            "sketch": bytes(self.sketch.serialize()),
            "edges": None if self.edges is None else self.edges.tobytes(),
            "bin_counts": None if self.bin_counts is None else self.bin_counts.tobytes(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> NumericProfile:
        """Inverse of :meth:`to_state`."""
        edges = None if state["edges"] is None else np.frombuffer(state["edges"], np.float64)
        out = cls(edges=edges, k=int(state["k"]), kind=state["kind"])
        out.count = int(state["count"])
        out.missing = int(state["missing"])
        out.non_finite = int(state["non_finite"])
        out.min, out.max = float(state["min"]), float(state["max"])
        out.mean, out.m2 = float(state["mean"]), float(state["m2"])
        out.sketch = ds.kll_doubles_sketch.deserialize(state["sketch"])
        if state["bin_counts"] is not None:
            counts = np.frombuffer(state["bin_counts"], np.int64).copy()
            if out.bin_counts is None or counts.shape != out.bin_counts.shape:
                raise ValueError("bin_counts: length does not match the edges")
            out.bin_counts = counts
        return out

    def __repr__(self) -> str:
        return (
            f"NumericProfile(kind={self.kind!r}, count={self.count}, missing={self.missing}, "
            f"non_finite={self.non_finite}, mean={self.mean:.4g}, std={self.std:.4g})"
        )


def _same_edges(a: FloatArray | None, b: FloatArray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.array_equal(a, b))
