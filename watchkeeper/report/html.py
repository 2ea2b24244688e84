"""A :class:`~watchkeeper.report.build.Report` as one self-contained HTML page.

The page works offline and from a file: Plotly's JavaScript (from the installed ``plotly``
package), the dashboard's chart helpers and its style sheet (package data of
:mod:`watchkeeper.assets`, like the page's template) are inlined, so a report can be
mailed, archived as a CI artifact or opened years later. It holds the dataset verdict,
the data-quality findings, a table of every column (drifted first) and, per column, the
verdict in words, summary statistics and the reference-vs-current distribution drawn as
in the dashboard's feature page.

Names and values are escaped: Jinja2 escapes the HTML, the chart data travels as JSON in a
``<script type="application/json">`` block, and the charts escape what they hand to Plotly.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from watchkeeper import __version__, assets
from watchkeeper.report.build import ColumnReport, Report
from watchkeeper.report.json import report_to_dict

__all__ = ["findings", "percent", "render_html", "write_text_atomically"]

_ENV = jinja2.Environment(
    loader=jinja2.FunctionLoader(assets.template_source),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _script(text: str) -> str:
    """JavaScript made safe to inline in a ``<script>`` element: no sequence in it can
    close the element or open an HTML comment (``<\\/`` is ``</`` in every JS context
    where it can occur)."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _plotly_js() -> str:
    import plotly

    return (Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js").read_text(
        encoding="utf-8"
    )


def _number(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.{digits}g}"


def percent(value: float | None) -> str:
    """A share as ``12.3%``; ``–`` for None or NaN."""
    if value is None or math.isnan(value):
        return "–"
    return f"{100 * value:.1f}%"


def findings(report: Report) -> list[tuple[str, str]]:
    """Data-quality findings as ``(column, sentence)``, worst first: columns absent from
    the current data, new columns, values of the wrong type, missing values up by over
    five points, values outside the reference's range (over 1%), new categories (over 1%)."""
    out: list[tuple[str, str]] = []
    for col in report.columns:
        if col.absent:
            out.append(
                (col.name, "is missing from the current data (every value counts as missing)")
            )
    for name in report.extra_columns:
        out.append((name, "is in the current data but not in the reference (not compared)"))
    for col in report.columns:
        if col.absent:
            continue
        if col.type_errors:
            out.append((col.name, f"has {col.type_errors:,} values of the wrong type"))
        ref, cur = col.missing
        if not math.isnan(cur) and cur - (0.0 if math.isnan(ref) else ref) > 0.05:
            out.append((col.name, f"missing values rose from {percent(ref)} to {percent(cur)}"))
        if col.out_of_range is not None and col.out_of_range > 0.01:
            out.append(
                (
                    col.name,
                    f"{percent(col.out_of_range)} of values lie outside the reference's range",
                )
            )
        if col.new_category_share is not None and col.new_category_share > 0.01:
            named = ", ".join(list(col.new_categories)[:5]) or "unnamed"
            out.append(
                (
                    col.name,
                    f"{percent(col.new_category_share)} of values are new categories ({named})",
                )
            )
    return out


def _ordered(report: Report) -> list[tuple[int, ColumnReport]]:
    """Columns for the table: drifted first, then by adjusted p-value, then not judged."""

    def key(item: tuple[int, ColumnReport]) -> tuple[int, float, int]:
        i, col = item
        if col.drift is None:
            return (2, 0.0, i)
        p = col.drift.p_value_adjusted
        return (0 if col.drifted else 1, p if math.isfinite(p) else 1.0, i)

    return sorted(enumerate(report.columns), key=key)


def render_html(
    report: Report, *, title: str | None = None, sections: Sequence[Markup] = ()
) -> str:
    """The report page as a string (see the module docstring); ``sections`` are further
    sections already rendered and escaped (e.g. the segments section), placed last."""
    doc = report_to_dict(report)
    charts: dict[str, Any] = {
        "current_name": f"current ({report.current_name})",
        "columns": [
            {"index": i, "name": c["name"], "distribution": c["distribution"]}
            for i, c in enumerate(doc["columns"])
        ],
    }
    template = _ENV.get_template("report.html")
    return template.render(
        title=title or default_title(report),
        report=report,
        doc=doc,
        ordered=_ordered(report),
        findings=findings(report),
        charts=charts,
        number=_number,
        percent=percent,
        generated=datetime.fromtimestamp(report.generated_at, UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        sections=list(sections),
        css=assets.read_text("static", "dashboard.css"),
        scripts=[
            _script(_plotly_js()),
            _script(assets.read_text("static", "charts.js")),
            _script(assets.read_text("templates", "report.js")),
        ],
    )


def default_title(report: Report) -> str:
    """The page's title: reference then current, in the order the command takes them."""
    return f"{report.reference_name} (reference) vs {report.current_name} (current)"


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a
    rename, so a reader never sees half a report. The file's mode is what ``open``
    would give (0666 less the umask), not the temporary file's 0600."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)  # gone already after the rename
