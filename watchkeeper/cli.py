"""The ``watchkeeper`` command line. Each command parses arguments and calls one function."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from watchkeeper import __version__

app = typer.Typer(help="watchkeeper: monitoring for machine-learning models in production.")
_console = Console()
_errors = Console(stderr=True)


@app.command()
def version() -> None:
    """Print the installed watchkeeper version."""
    _console.print(__version__)


@app.command()
def drift(
    reference: Annotated[Path, typer.Argument(help="Reference data: .parquet, .csv or .feather")],
    current: Annotated[Path, typer.Argument(help="Current data, same columns")],
    false_alarm_rate: Annotated[float, typer.Option(help="Configured false-alarm rate")] = 0.01,
) -> None:
    """Compare two data files column by column and print each drift verdict."""
    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.io import read_table
    from watchkeeper.profile import profile
    from watchkeeper.stats import DriftConfig, DriftDetector

    try:
        ref = profile(read_table(reference))
        cur = profile(read_table(current), reference=ref)
        result = DriftDetector(DriftConfig(false_alarm_rate=false_alarm_rate)).fit(ref).compare(cur)
    except (WatchkeeperError, OSError) as exc:
        _errors.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    table = Table(title=result.explanation)
    for name in ("column", "method", "statistic", "threshold", "drift", "why"):
        table.add_column(name)
    for col in result.columns:
        table.add_row(
            col.column,
            col.method,
            f"{col.statistic:.4g}",
            f"{col.threshold:.4g}",
            "[red]yes[/red]" if col.drifted else "no",
            col.explanation,
        )
    _console.print(table)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Config file to write")] = Path("watchkeeper.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file")] = False,
) -> None:
    """Write a commented example collector configuration."""
    from watchkeeper.server.config import EXAMPLE

    if path.exists() and not force:
        _errors.print(f"error: {path} exists; use --force to overwrite", markup=False)
        raise typer.Exit(2)
    path.write_text(EXAMPLE)
    _console.print(f"wrote {path}; edit it, then: watchkeeper serve --config {path}")


@app.command()
def serve(
    config: Annotated[Path, typer.Option(help="YAML configuration")] = Path("watchkeeper.yaml"),
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "warning",
) -> None:
    """Run the collector: ingestion API, queries, and Prometheus /metrics."""
    import uvicorn

    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.server.app import create_app
    from watchkeeper.server.collector import Collector
    from watchkeeper.server.config import load_config

    try:
        cfg = load_config(config)
        collector = Collector(cfg)  # opens the store, replays the log: fails before serving
    except WatchkeeperError as exc:
        _errors.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    _console.print(f"watchkeeper {__version__} collecting on http://{host}:{port} "
                   f"({len(cfg.models)} models, store {cfg.store})")  # fmt: skip
    uvicorn.run(create_app(cfg, collector=collector), host=host, port=port, log_level=log_level)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
