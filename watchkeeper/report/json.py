"""A :class:`~watchkeeper.report.build.Report` as a versioned JSON document.

The document (``"format": "watchkeeper.report/1"``) holds everything the HTML page shows:
the dataset verdict, the drift configuration, and per column its drift verdict (method,
statistic, threshold, p-values, sample sizes, explanation), data quality, summary
statistics and the two distributions on the reference's slots; with ``--multivariate``,
the multivariate verdicts and the root-cause ranking (else ``null``). Non-finite numbers (an
undefined mean, an unreachable threshold) are written as ``null``, so the output is
strict JSON that any parser reads.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from watchkeeper import __version__
from watchkeeper.jsonable import json_ready
from watchkeeper.report.build import ColumnReport, Report

__all__ = ["FORMAT", "report_to_dict", "report_to_json"]

FORMAT = "watchkeeper.report/1"
"""Name and version of the document layout; bumped when a field changes meaning."""


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> from watchkeeper.report import build_report
    >>> rng = np.random.default_rng(0)
    >>> ref = profile_table({"x": rng.normal(0, 1, 2_000)})
    >>> cur = profile_table({"x": rng.normal(1, 1, 2_000)}, reference=ref)
    >>> doc = report_to_dict(build_report(ref, cur))
    >>> doc["format"], doc["drift"]["drifted"], doc["columns"][0]["drift"]["method"]
    ('watchkeeper.report/1', True, 'ks_binned')
    """
    drift = report.drift
    return {
        "format": FORMAT,
        "watchkeeper": __version__,
        "generated_at": datetime.fromtimestamp(report.generated_at, UTC).isoformat(),
        "reference": {"name": report.reference_name, "rows": report.rows[0]},
        "current": {"name": report.current_name, "rows": report.rows[1]},
        "drift": {
            "drifted": drift.drifted,
            "n_drifted": drift.n_drifted,
            "n_judged": len(drift.columns),
            "share": drift.share,
            "share_threshold": drift.drift_share_threshold,
            "correction": drift.correction,
            "drifted_columns": list(report.drifted_columns),
            "explanation": drift.explanation,
        },
        "config": json_ready(asdict(report.config)),
        "columns": [_column(c) for c in report.columns],
        "extra_columns": list(report.extra_columns),
        "multivariate": _multivariate(report),
    }


def report_to_json(report: Report, *, indent: int | None = 2) -> str:
    """:func:`report_to_dict` serialised as strict JSON (no NaN or Infinity)."""
    return json.dumps(report_to_dict(report), indent=indent, allow_nan=False)


def _multivariate(report: Report) -> dict[str, Any] | None:
    """The multivariate verdicts and root causes (``None`` when not asked for)."""
    found = report.multivariate
    if found is None:
        return None
    out: dict[str, Any] = json_ready(
        {
            "drifted": found.drifted,
            "verdicts": [asdict(v) for v in found.verdicts],
            "root_causes": [asdict(c) for c in found.causes],
        }
    )
    return out


def _column(col: ColumnReport) -> dict[str, Any]:
    dist = col.distribution
    out: dict[str, Any] = json_ready(
        {
            "name": col.name,
            "kind": col.kind,
            "role": col.role,
            "absent": col.absent,
            "drifted": col.drifted,
            "drift": col.drift.to_dict() if col.drift is not None else None,
            "rows": {"reference": col.rows[0], "current": col.rows[1]},
            "missing_ratio": {"reference": col.missing[0], "current": col.missing[1]},
            "type_errors": col.type_errors,
            "out_of_range_share": col.out_of_range,
            "new_category_share": col.new_category_share,
            "new_categories": [{"value": v, "count": n} for v, n in col.new_categories.items()],
            "summary": {k: {"reference": a, "current": b} for k, (a, b) in col.summary.items()},
            "distribution": None
            if dist is None
            else {
                "kind": dist.kind,
                "labels": list(dist.labels),
                "edges": list(dist.edges) if dist.edges is not None else None,
                "reference": list(dist.reference),
                "current": list(dist.current),
            },
        }
    )
    return out
