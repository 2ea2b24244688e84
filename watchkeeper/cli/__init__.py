"""The ``watchkeeper`` command line. Each command parses arguments and calls one function.

The commands live by family (``offline``: drift, report, check; ``collector``: init, serve;
``alerting``: alerts, silence; ``models``; ``export``; ``demo``) and are registered here, in
the order ``watchkeeper --help`` lists them.
"""

from __future__ import annotations

import typer

from watchkeeper import __version__
from watchkeeper.cli import alerting, collector, demo, export, models, offline
from watchkeeper.cli._console import console

__all__ = ["app", "main"]

app = typer.Typer(help="watchkeeper: monitoring for machine-learning models in production.")


@app.command()
def version() -> None:
    """Print the installed watchkeeper version."""
    console.print(__version__)


app.command()(offline.drift)
app.command()(offline.report)
app.command()(offline.check)
app.command()(collector.init)
app.command()(collector.serve)
app.command()(alerting.alerts)
app.command()(alerting.silence)
app.add_typer(models.models_app, name="models")
app.add_typer(export.export_app, name="export")
app.command()(demo.demo)


def main() -> None:
    """Console-script entry point."""
    app()
