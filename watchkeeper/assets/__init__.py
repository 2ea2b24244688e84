"""Templates (Jinja2) and static files of the dashboard and of the offline report.

``templates/`` holds the dashboard's pages (``base.html`` and the pages extending it)
and the report's page and script (``report.html``, ``report.js``); ``static/`` holds
what the dashboard serves under ``/static/`` (``dashboard.js``, ``charts.js``,
``dashboard.css``), which the report inlines too. They are package data, found with
:mod:`importlib.resources` wherever watchkeeper is installed, never by a path relative
to a module's file.

Examples
--------
>>> "distributionChart" in read_text("static", "charts.js")
True
"""

from __future__ import annotations

from importlib.resources import files

__all__ = ["read_bytes", "read_text", "template_source"]


def read_bytes(*parts: str) -> bytes:
    """An asset's bytes, e.g. ``read_bytes("static", "dashboard.css")``.

    Raises
    ------
    FileNotFoundError
        If there is no such asset.
    """
    return files(__name__).joinpath(*parts).read_bytes()


def read_text(*parts: str) -> str:
    """An asset's text (UTF-8), e.g. ``read_text("templates", "report.html")``.

    Raises
    ------
    FileNotFoundError
        If there is no such asset.
    """
    return files(__name__).joinpath(*parts).read_text(encoding="utf-8")


def template_source(name: str) -> str | None:
    """The text of ``templates/<name>``, or ``None`` if there is none: the contract of
    ``jinja2.FunctionLoader``, which both the dashboard and the report load through."""
    try:
        return read_text("templates", name)
    except FileNotFoundError:
        return None
