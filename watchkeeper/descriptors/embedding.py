"""Descriptors of embedding vectors: the norm and a few seeded random projections.

- ``norm``: the Euclidean norm of the vector (an encoder whose inputs changed, or a new
  encoder version, often moves it);
- ``proj1`` … ``proj3``: the vector's coordinates along three directions drawn once from
  a standard normal (seeded by ``seed`` and the dimension, so the SDK and the Monitor
  draw the same ones) and scaled to unit length. By Johnson–Lindenstrauss a shift of the
  embedding distribution shows, with high probability, along random directions; each
  projection is then profiled and drift-tested like any numeric feature, with the same
  calibrated verdict.

The whole distribution is compared by :class:`watchkeeper.stats.embedding.EmbeddingDrift`
(MMD on a random projection with a permutation null) where raw vectors are at hand
(offline, or a sample kept by the caller).

A vector is a 1-D sequence of numbers; all vectors of a column have the dimension of the
first one seen (by :meth:`EmbeddingDescriptors.fit` or the first batch); another
dimension, or a non-finite entry, gives missing descriptors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from watchkeeper.schema.media import DESCRIPTORS
from watchkeeper.types import FloatArray

__all__ = ["EmbeddingDescriptors", "projection_directions"]

_PROJECTIONS = tuple(n for n in DESCRIPTORS["embedding"] if n.startswith("proj"))


def projection_directions(dim: int, k: int, seed: int = 0) -> FloatArray:
    """``dim x k`` unit-length Gaussian directions, the same for the same arguments.

    >>> d = projection_directions(5, 2)
    >>> d.shape, np.allclose(np.linalg.norm(d, axis=0), 1.0)
    ((5, 2), True)
    """
    rng = np.random.default_rng([seed, dim])
    directions = rng.standard_normal((dim, k))
    unit: FloatArray = directions / np.linalg.norm(directions, axis=0)
    return unit


def _vector(value: Any) -> FloatArray | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if arr.ndim == 1 and arr.size else None


class EmbeddingDescriptors:
    """Embedding descriptors of a column.

    Parameters
    ----------
    names
        The descriptors computed (default: all of ``DESCRIPTORS["embedding"]``).
    seed
        Seed of the projection directions.

    Attributes
    ----------
    dim_ : int or None
        The vectors' dimension, from :meth:`fit` or the first vector transformed.

    Examples
    --------
    >>> d = EmbeddingDescriptors(names=("norm",))
    >>> d.transform([[3.0, 4.0], None, [1.0, 0.0, 0.0]])["norm"].tolist()
    [5.0, nan, nan]
    """

    kind = "embedding"

    def __init__(self, *, names: Sequence[str] | None = None, seed: int = 0) -> None:
        self.names = tuple(DESCRIPTORS["embedding"] if names is None else names)
        self.seed = int(seed)
        self.dim_: int | None = None
        self._directions: FloatArray | None = None

    def _matrix(self, values: Sequence[Any]) -> tuple[FloatArray, np.ndarray]:
        """The vectors as rows (NaN rows where missing) and the mask of those present."""
        vectors = [_vector(v) for v in values]
        if self.dim_ is None:
            first = next((v for v in vectors if v is not None), None)
            if first is not None:
                self._set_dim(first.size)
        dim = self.dim_ or 1
        out = np.full((len(values), dim), np.nan)
        ok = np.zeros(len(values), dtype=bool)
        for i, v in enumerate(vectors):
            if v is not None and v.size == dim and np.isfinite(v).all():
                out[i] = v
                ok[i] = True
        return out, ok

    def _set_dim(self, dim: int) -> FloatArray:
        self.dim_ = int(dim)
        self._directions = projection_directions(dim, len(_PROJECTIONS), self.seed)
        return self._directions

    def fit(self, reference: Sequence[Any]) -> EmbeddingDescriptors:
        """Learn the dimension from the reference's first vector."""
        self.dim_ = None
        self._matrix(reference)
        return self

    def transform(self, values: Sequence[Any]) -> dict[str, FloatArray]:
        """One float array per descriptor (NaN where the vector is missing or wrong)."""
        x, ok = self._matrix(values)
        out: dict[str, FloatArray] = {}
        for name in self.names:
            if name == "norm":
                out[name] = np.where(ok, np.linalg.norm(np.nan_to_num(x), axis=1), np.nan)
            else:
                column = np.nan_to_num(x) @ self._direction(name)
                out[name] = np.where(ok, column, np.nan)
        return out

    def _direction(self, name: str) -> FloatArray:
        directions = self._directions
        if directions is None:  # nothing seen yet: every row is missing anyway
            directions = self._set_dim(1)
        return directions[:, _PROJECTIONS.index(name)]

    def one(self, value: Any) -> dict[str, float]:
        """The descriptors of one vector (NaN when missing or of another dimension)."""
        return {k: float(v[0]) for k, v in self.transform([value]).items()}

    @staticmethod
    def is_one(value: Any) -> bool:
        """Whether ``value`` is one vector rather than a batch of them."""
        if isinstance(value, np.ndarray):
            return value.ndim == 1 and value.dtype.kind in "iuf"
        return isinstance(value, list | tuple) and bool(value) and isinstance(value[0], int | float)
