"""``watchkeeper demo``: the scripted incidents on a real scikit-learn model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli._console import console, error_console

__all__ = ["demo"]


def demo(
    port: Annotated[
        int, typer.Option(help="Collector and dashboard port (taken: a free one; 0: any)")
    ] = 8000,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second")] = 2400.0,
    duration: Annotated[str, typer.Option(help="Simulated time to replay, e.g. 4d or 1d")] = "4d",
    headless: Annotated[bool, typer.Option(help="No live view: one line per event")] = False,
    keep_running: Annotated[
        bool, typer.Option(help="Stay up after the replay (dashboard, service) until Ctrl-C")
    ] = False,
    report: Annotated[Path | None, typer.Option(help="Also write the results as JSON")] = None,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the files here (default: a temporary directory)")
    ] = None,
) -> None:
    """Run watchkeeper on a real scikit-learn model through seven scripted incidents."""
    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.units import parse_duration

    try:
        from watchkeeper.demo.runner import DemoOptions, run_demo

        options = DemoOptions(
            port=port,
            speed=speed,
            duration=parse_duration(duration, "--duration"),
            headless=headless,
            keep_running=keep_running,
            report=report,
            workdir=workdir,
        )
        code = run_demo(options, console)
    except WatchkeeperError as exc:
        error_console.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    raise typer.Exit(code)
