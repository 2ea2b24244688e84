"""watchkeeper: monitoring for machine-learning models in production.

The core is importable without any web, storage or CLI framework::

    import watchkeeper as wk
    ref = wk.profile_table(reference_frame)
    cur = wk.profile_table(current_frame, reference=ref)
    print(wk.DriftDetector().fit(ref).compare(cur).explanation)
"""

from __future__ import annotations

from watchkeeper.monitor import Monitor
from watchkeeper.profile import DatasetProfile, profile_table
from watchkeeper.schema import ColumnSpec, Schema, infer_schema, validate
from watchkeeper.stats import ColumnDrift, DatasetDrift, DriftConfig, DriftDetector

__version__ = "0.1.0"

__all__ = [
    "ColumnDrift",
    "ColumnSpec",
    "DatasetDrift",
    "DatasetProfile",
    "DriftConfig",
    "DriftDetector",
    "Monitor",
    "Schema",
    "__version__",
    "infer_schema",
    "profile_table",
    "validate",
]
