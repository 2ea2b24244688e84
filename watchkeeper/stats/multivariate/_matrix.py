"""Rows as a matrix the multivariate methods can learn on: numbers as they are,
categories as codes of the reference's most frequent values."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from watchkeeper.schema import Schema
from watchkeeper.types import FloatArray

__all__ = [
    "MAX_BINS",
    "MAX_CATEGORIES",
    "TESTED_KINDS",
    "Encoding",
    "multivariate_columns",
    "subsample",
]

MAX_CATEGORIES = 61
"""Reference values coded per categorical column; the rest share one "other" code (the
classifier's categories must fit its :data:`MAX_BINS` bins)."""
MAX_BINS = 63
"""Histogram bins of the domain classifier: with at most ``max_rows`` rows a side, 63
quantile bins resolve what the trees can learn, and a fit costs about half of one on
the default 255 (measured: 94 vs 171 ms for 1,000 rows x 25 columns, 30 trees)."""


TESTED_KINDS = ("numeric", "categorical", "boolean")
"""Column kinds the multivariate tests use: free text is not a vector, and times always
"drift" (they move on)."""


def multivariate_columns(schema: Schema) -> list[str]:
    """The features of ``schema`` the multivariate tests use (:data:`TESTED_KINDS`)."""
    return [c.name for c in schema if c.role == "feature" and c.kind in TESTED_KINDS]


@dataclass(frozen=True)
class Encoding:
    """Which columns enter the matrix, and the category codes learnt on the reference.

    Numeric columns (float arrays) enter as they are, NaN for missing; any other column
    enters as the code of its value among the reference's :data:`MAX_CATEGORIES` most
    frequent ones (ties by value), one code for any other value, NaN for missing.

    Examples
    --------
    >>> import numpy as np
    >>> enc = Encoding.fit({"x": np.array([1.0, 2.0]), "c": np.array(["a", "b"], dtype=object)})
    >>> enc.names, enc.categorical
    (('x', 'c'), (False, True))
    >>> enc.transform({"x": np.array([3.0]), "c": np.array(["z"], dtype=object)}).tolist()
    [[3.0, 2.0]]
    """

    names: tuple[str, ...]
    categorical: tuple[bool, ...]
    categories: Mapping[str, tuple[str, ...]]

    @classmethod
    def fit(cls, reference: Mapping[str, np.ndarray]) -> Encoding:
        """Learn the columns and the category codes of ``reference``."""
        names, flags, cats = [], [], {}
        for name, col in reference.items():
            arr = np.asarray(col)
            names.append(name)
            if arr.dtype.kind == "f":
                flags.append(False)
                continue
            flags.append(True)
            counts = Counter(str(v) for v in arr if v is not None)
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES]
            cats[name] = tuple(sorted(v for v, _ in top))
        return cls(tuple(names), tuple(flags), cats)

    @property
    def numeric(self) -> tuple[str, ...]:
        """The numeric columns."""
        return tuple(n for n, c in zip(self.names, self.categorical, strict=True) if not c)

    def transform(self, columns: Mapping[str, np.ndarray]) -> FloatArray:
        """The ``rows x columns`` matrix of ``columns`` (a missing column is all NaN)."""
        n = len(next(iter(columns.values()))) if columns else 0
        out = np.full((n, len(self.names)), np.nan)
        for j, (name, is_cat) in enumerate(zip(self.names, self.categorical, strict=True)):
            col = columns.get(name)
            if col is None:
                continue
            arr = np.asarray(col)
            if not is_cat:
                out[:, j] = arr.astype(np.float64) if arr.dtype.kind in "fiub" else np.nan
                continue
            cats = self.categories[name]
            lookup = {v: float(i) for i, v in enumerate(cats)}
            other = float(len(cats))
            out[:, j] = [np.nan if v is None else lookup.get(str(v), other) for v in arr]
        return out


def subsample(x: FloatArray, rows: int, rng: np.random.Generator) -> FloatArray:
    """At most ``rows`` rows of ``x``, drawn without replacement (all of them, in order,
    when there are no more)."""
    if len(x) <= rows:
        return x
    return x[np.sort(rng.choice(len(x), rows, replace=False))]
