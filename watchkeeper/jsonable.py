"""The one JSON cleaner: any result of ours into values strict JSON can carry."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["json_ready"]


def json_ready(value: Any) -> Any:
    """``value`` with every non-finite float as ``None``, recursively.

    Mappings become dicts with string keys, tuples and lists become lists, NumPy scalars
    become Python numbers; anything else is returned as it is. The result passes
    ``json.dumps(..., allow_nan=False)`` when its leaves are JSON types.

    Examples
    --------
    >>> json_ready({"x": float("nan"), 1: (2.5, float("inf")), "n": np.int64(3)})
    {'x': None, '1': [2.5, None], 'n': 3}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return json_ready(value.item())
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value
