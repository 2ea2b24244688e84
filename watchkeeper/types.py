"""Shared type aliases and small protocols used across watchkeeper's layers."""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "BoolArray",
    "ColumnKind",
    "ColumnRole",
    "FloatArray",
    "IntArray",
    "MediaKind",
    "ObjectArray",
]

ColumnKind: TypeAlias = Literal["numeric", "categorical", "boolean", "text", "datetime"]
"""The kind of a column; decides how it is profiled and which drift methods apply."""

MediaKind: TypeAlias = Literal["image", "audio", "embedding"]
"""A declared kind that is not profiled itself: its descriptors are (``photo.brightness``)."""

ColumnRole: TypeAlias = Literal["feature", "output", "label", "id", "timestamp"]
"""What a column is to the model: an input, an output, ground truth, a join key or event time."""

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ObjectArray: TypeAlias = npt.NDArray[np.object_]
