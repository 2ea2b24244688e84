"""Offline comparison of two datasets: a report (HTML and JSON) and a pass/fail check.

``watchkeeper report reference.parquet current.parquet`` answers "did my data change?"
as a self-contained HTML page (it works offline: Plotly's JavaScript is inlined) and a
versioned JSON document; ``watchkeeper check`` applies the same comparison as a gate in a
pipeline, exiting non-zero when the current data fails its conditions.

:func:`compare_frames` / :func:`build_report` return a :class:`Report` (frozen
dataclasses, no presentation); :func:`render_html` and :func:`report_to_dict` present it;
:class:`CheckPolicy` and :func:`run_check` judge it; :func:`add_multivariate` adds
multivariate drift and the root-cause ranking from row samples (:func:`sample_file`).
"""

from __future__ import annotations

from watchkeeper.report.build import (
    ColumnReport,
    Distribution,
    Report,
    build_report,
    compare_frames,
    distribution,
)
from watchkeeper.report.check import CheckFailure, CheckPolicy, CheckResult, run_check
from watchkeeper.report.html import render_html, write_text_atomically
from watchkeeper.report.json import FORMAT, report_to_dict, report_to_json
from watchkeeper.report.multivariate import add_multivariate, sample_batches, sample_file

__all__ = [
    "FORMAT",
    "CheckFailure",
    "CheckPolicy",
    "CheckResult",
    "ColumnReport",
    "Distribution",
    "Report",
    "add_multivariate",
    "build_report",
    "compare_frames",
    "distribution",
    "render_html",
    "report_to_dict",
    "report_to_json",
    "run_check",
    "sample_batches",
    "sample_file",
    "write_text_atomically",
]
