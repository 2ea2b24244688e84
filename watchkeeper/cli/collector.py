"""Running the collector: ``init`` writes a configuration, ``serve`` runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from watchkeeper import __version__
from watchkeeper.cli._console import console, error_console

__all__ = ["init", "serve"]


def init(
    path: Annotated[Path, typer.Argument(help="Config file to write")] = Path("watchkeeper.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file")] = False,
) -> None:
    """Write a commented example collector configuration."""
    from watchkeeper.service.config import EXAMPLE

    if path.exists() and not force:
        error_console.print(f"error: {path} exists; use --force to overwrite", markup=False)
        raise typer.Exit(2)
    path.write_text(EXAMPLE)
    console.print(f"wrote {path}; edit it, then: watchkeeper serve --config {path}")


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
    from watchkeeper.service import Service
    from watchkeeper.service.config import load_config

    try:
        cfg = load_config(config)
        collector = Service(cfg)  # opens the store, replays the log: fails before serving
    except WatchkeeperError as exc:
        error_console.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    console.print(f"watchkeeper {__version__} collecting on http://{host}:{port} "
                  f"({len(cfg.models)} models, store {cfg.store})")  # fmt: skip
    import signal

    def reload_rules(*_: object) -> None:  # SIGHUP: re-read rules, notifiers, actions
        try:
            collector.reload(load_config(config))
            console.print(f"reloaded rules from {config}")
        except WatchkeeperError as exc:
            error_console.print(f"reload failed, old rules kept: {exc}", markup=False)

    signal.signal(signal.SIGHUP, reload_rules)
    app_ = create_app(cfg, service=collector, config_path=config)
    uvicorn.run(app_, host=host, port=port, log_level=log_level)
