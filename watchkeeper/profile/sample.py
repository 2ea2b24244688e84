"""A seeded, bounded sample of a numeric stream, for reference bins that are the same
every run.

A KLL sketch flips coins that cannot be seeded from Python, so bins read off it move a
little from run to run, and with them every statistic counted on them. The bins of a
streamed reference are therefore taken from :class:`SeededSample` instead: each value
gets a key from a generator seeded by the batch's position, and the ``capacity`` values
with the smallest keys are kept (a bottom-k sample, a uniform sample without
replacement). The same batches in the same order give the same sample, in any process;
while the stream has at most ``capacity`` values the sample is all of them, so the bins
are exactly those of :func:`watchkeeper.binning.quantile_edges` on the whole column.

With 65,536 values the rank of a sample quantile is off by about 0.2% (one standard
deviation, sqrt(p(1 − p)/k) at the median), finer than the KLL sketch's 0.5%; a bin
whose share is not exactly 1/``n_bins`` is harmless, since the reference and the current
data are both counted exactly on the same edges.
"""

from __future__ import annotations

import numpy as np

from watchkeeper.binning import quantile_edges
from watchkeeper.types import FloatArray

__all__ = ["SAMPLE_CAPACITY", "SeededSample", "bottom_k"]

SAMPLE_CAPACITY = 65_536
"""Values kept per column: about 1 MB with their keys."""


def bottom_k(keys: FloatArray, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest keys, in ascending key order (all of them when
    there are at most ``k``): the selection step of every bottom-k sample here.

    >>> bottom_k(np.array([0.5, 0.1, 0.9, 0.3]), 2).tolist()
    [1, 3]
    """
    if keys.size > k:
        part = np.argpartition(keys, k - 1)[:k]
        return part[np.argsort(keys[part], kind="stable")]
    return np.argsort(keys, kind="stable")


class SeededSample:
    """Bottom-k sample of the finite values of a stream (module docstring).

    Parameters
    ----------
    capacity
        Values kept, >= 1.
    seed
        Seed of the keys, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = SeededSample(capacity=100), SeededSample(capacity=100)
    >>> for s in (a, b):
    ...     for i in range(5):
    ...         _ = s.update(np.arange(i * 1_000.0, (i + 1) * 1_000.0))
    >>> bool(np.array_equal(a.values, b.values)), a.values.size, a.seen
    (True, 100, 5000)
    >>> SeededSample().update(np.array([3.0, np.nan, 1.0, 2.0])).edges(2).tolist()
    [1.0, 2.0, 3.0]
    """

    def __init__(self, *, capacity: int = SAMPLE_CAPACITY, seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError(f"capacity: expected an integer >= 1, got {capacity!r}")
        self.capacity = int(capacity)
        self.seed = int(seed)
        self.seen = 0
        self.min = np.inf
        self.max = -np.inf
        self._batches = 0
        self._values: FloatArray = np.empty(0)
        self._keys: FloatArray = np.empty(0)

    @property
    def values(self) -> FloatArray:
        """The kept values, in no particular order."""
        return self._values

    def update(self, values: FloatArray) -> SeededSample:
        """Add a batch (NaN and inf are ignored); returns self."""
        arr = np.asarray(values, dtype=np.float64)
        arr = arr[np.isfinite(arr)]
        rng = np.random.default_rng([self.seed, self._batches])
        self._batches += 1
        if arr.size == 0:
            return self
        self.seen += arr.size
        self.min = min(self.min, float(arr.min()))
        self.max = max(self.max, float(arr.max()))
        keys = rng.random(arr.size)
        if self._keys.size >= self.capacity:
            # only keys below the largest kept one can enter: usually a small share
            entering = keys < self._keys.max()
            arr, keys = arr[entering], keys[entering]
        values = np.concatenate([self._values, arr])
        all_keys = np.concatenate([self._keys, keys])
        if values.size > self.capacity:
            keep = bottom_k(all_keys, self.capacity)
            values, all_keys = values[keep], all_keys[keep]
        self._values, self._keys = values, all_keys
        return self

    @property
    def is_exact(self) -> bool:
        """Whether every value seen is in the sample."""
        return self.seen <= self.capacity

    def edges(self, n_bins: int) -> FloatArray:
        """Quantile bin edges: exact while every value is kept, else from the sample with
        the stream's exact minimum and maximum as the outer edges."""
        if self.seen == 0:
            return np.empty(0, dtype=np.float64)
        edges = quantile_edges(self._values, n_bins)
        if self.is_exact:
            return edges
        inner = edges[1:-1]
        inner = inner[(inner > self.min) & (inner < self.max)]
        return np.unique(np.concatenate([[self.min], inner, [self.max]]))
