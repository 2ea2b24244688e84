"""What the per-value descriptors (images, audio clips) share: missing values, the
column transform and one value's descriptors, around each kind's ``describe`` function."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Self

import numpy as np

from watchkeeper.schema.media import DESCRIPTORS
from watchkeeper.types import FloatArray

__all__ = ["PerValueDescriptors", "is_missing"]


def is_missing(value: Any) -> bool:
    """A missing media value: ``None`` or a float NaN (pandas' missing marker)."""
    return value is None or (isinstance(value, float) and value != value)


class PerValueDescriptors:
    """Descriptors computed value by value, stateless (:meth:`fit` learns nothing); a
    subclass names its ``kind`` and its :meth:`describe`."""

    kind: str

    def __init__(self, *, names: Sequence[str] | None = None) -> None:
        self.names = tuple(DESCRIPTORS[self.kind] if names is None else names)

    @staticmethod
    def describe(value: Any) -> dict[str, float]:  # pragma: no cover - abstract
        """Every descriptor of one present value."""
        raise NotImplementedError

    def fit(self, reference: Sequence[Any]) -> Self:
        """Nothing to learn; returns ``self``."""
        return self

    def transform(self, values: Sequence[Any]) -> dict[str, FloatArray]:
        """One float array per descriptor (NaN where the value is missing)."""
        out = {name: np.full(len(values), np.nan) for name in self.names}
        for i, value in enumerate(values):
            if is_missing(value):
                continue
            row = self.describe(value)
            for name in self.names:
                out[name][i] = row[name]
        return out

    def one(self, value: Any) -> dict[str, float]:
        """The descriptors of one value (NaN when it is missing)."""
        if is_missing(value):
            return dict.fromkeys(self.names, math.nan)
        row = self.describe(value)
        return {name: row[name] for name in self.names}
