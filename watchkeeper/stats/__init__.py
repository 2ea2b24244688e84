"""Statistics: drift methods, the natural-spread verdict, and drift from two profiles.

Pure functions and small frozen value objects; nothing here does I/O or imports a web,
storage or CLI framework. See :mod:`watchkeeper.stats.drift` for the methods,
:mod:`watchkeeper.stats.null_laws` for the natural spread of the default methods (laws
known at fit time), :mod:`watchkeeper.stats.null_model` for that of the others
(resampling the reference), :mod:`watchkeeper.stats.verdict` for how statistics become
verdicts (effect floor, multiple testing), :mod:`watchkeeper.stats.config` for the
choices behind them, and :mod:`watchkeeper.stats.detector` for the profile path over a
whole dataset.
"""

from __future__ import annotations

from watchkeeper.stats.config import DriftConfig
from watchkeeper.stats.detector import DriftDetector
from watchkeeper.stats.drift import METHODS, default_method, get_method
from watchkeeper.stats.null_model import NullModel
from watchkeeper.stats.verdict import ColumnDrift, DatasetDrift

__all__ = [
    "METHODS",
    "ColumnDrift",
    "DatasetDrift",
    "DriftConfig",
    "DriftDetector",
    "NullModel",
    "default_method",
    "get_method",
]
