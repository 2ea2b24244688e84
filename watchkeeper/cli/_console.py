"""Where the commands write: the terminal, and one line on stderr for an error."""

from __future__ import annotations

import typer
from rich.console import Console

__all__ = ["console", "error_console", "fail"]

console = Console()
error_console = Console(stderr=True)


def fail(exc: Exception) -> typer.Exit:
    """One line on stderr and exit code 2, for bad input or a bad option."""
    error_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(2)
