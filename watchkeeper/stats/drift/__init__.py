"""Drift methods: one module per method, registered by name in ``_registry.py``.

Each method computes its statistic from raw arrays (the exact path, checked against
SciPy) and from profiles (aligned counts for binned methods, CDFs on a grid for KS and
Wasserstein), and has a vectorised kernel for the natural-spread resampler. A new method
is one module plus one registry line.
"""

from __future__ import annotations

from watchkeeper.stats.drift._base import CdfPair, DriftMethod, MethodResult
from watchkeeper.stats.drift._registry import METHODS, default_method, get_method

__all__ = ["METHODS", "CdfPair", "DriftMethod", "MethodResult", "default_method", "get_method"]
