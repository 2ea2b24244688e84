"""The ``watchkeeper`` command line. Each command parses arguments and calls one function.

The commands live by family (``offline``: drift, report, check; ``collector``: init, serve;
``alerting``: alerts, silence; ``models``; ``export``; ``demo``) and are registered here, in
the order ``watchkeeper --help`` lists them.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperCommand

from watchkeeper import __version__
from watchkeeper.cli import alerting, collector, demo, export, models, offline
from watchkeeper.cli._console import console

__all__ = ["app", "main"]

app = typer.Typer(help="watchkeeper: monitoring for machine-learning models in production.")


class _PlainHelp(TyperCommand):
    """A command whose ``--help`` is click's plain text: Rich's option table cuts long
    option names (``--max-missing-incr…``) at 80 columns, and ``check``'s help is read
    in CI logs and by people writing pipelines, who need the names whole."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rich_markup_mode = None


@app.command()
def version() -> None:
    """Print the installed watchkeeper version."""
    console.print(__version__)


app.command()(offline.drift)
app.command()(offline.report)
app.command(cls=_PlainHelp)(offline.check)
app.command()(collector.init)
app.command()(collector.serve)
app.command()(alerting.alerts)
app.command()(alerting.silence)
app.add_typer(models.models_app, name="models")
app.add_typer(export.export_app, name="export")
app.command()(demo.demo)


def _bare_json(argv: list[str]) -> list[str]:
    """``--json`` with no value (last, or before another option) means stdout: ``-``.

    Examples
    --------
    >>> _bare_json(["report", "a.csv", "b.csv", "--json"])
    ['report', 'a.csv', 'b.csv', '--json', '-']
    >>> _bare_json(["check", "--json", "--html", "x.html", "a.csv", "b.csv"])
    ['check', '--json', '-', '--html', 'x.html', 'a.csv', 'b.csv']
    >>> _bare_json(["report", "a.csv", "b.csv", "--json", "-o", "r.html"])
    ['report', 'a.csv', 'b.csv', '--json', '-', '-o', 'r.html']
    >>> _bare_json(["report", "--json", "out.json", "a.csv", "b.csv"])
    ['report', '--json', 'out.json', 'a.csv', 'b.csv']
    """
    out: list[str] = []
    for i, arg in enumerate(argv):
        out.append(arg)
        following = argv[i + 1] if i + 1 < len(argv) else None
        if arg == "--json" and (following is None or (following[:1] == "-" and following != "-")):
            out.append("-")
    return out


def main() -> None:
    """Console-script entry point."""
    app(args=_bare_json(sys.argv[1:]))
