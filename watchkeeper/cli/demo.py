"""``watchkeeper demo``: the scripted incidents on a real scikit-learn model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli._console import console, error_console

__all__ = ["demo"]


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


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
    scenario: Annotated[
        str,
        typer.Option(
            help="tabular: a credit model, seven incidents, the dashboard; speech: a keyword "
            "model on synthesised audio, six incidents, in process (only --report and "
            "--workdir apply)"
        ),
    ] = "tabular",
) -> None:
    """Run watchkeeper on a real scikit-learn model through scripted incidents."""
    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.units import parse_duration

    if scenario not in ("tabular", "speech"):
        error_console.print(
            f"error: --scenario: unknown scenario {scenario!r}; expected one of: tabular, speech",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2)
    try:
        if scenario == "speech":
            from watchkeeper.demo.speech.run import SpeechOptions, run_speech_demo

            code = run_speech_demo(SpeechOptions(workdir=workdir, report=report), _say)
        else:
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
