"""``watchkeeper models``: model versions in a running collector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli._console import console, error_console
from watchkeeper.cli._http import api_client

__all__ = ["models_app", "models_promote"]


models_app = typer.Typer(help="Model versions in a running collector.")


@models_app.command("promote")
def models_promote(
    model: Annotated[str, typer.Argument(help="Model name")],
    version: Annotated[str, typer.Option(help="The new version")],
    reference: Annotated[Path | None, typer.Option(help="Its reference data (.parquet)")] = None,
    url: Annotated[str, typer.Option(help="Collector URL")] = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(help="API key for writes")] = None,
) -> None:
    """Register a new version with its reference; the collector then monitors it."""
    import httpx

    body = b""
    if reference is not None:
        import io as _io

        from watchkeeper.tables import read_table

        buffer = _io.BytesIO()
        read_table(reference).to_parquet(buffer)
        body = buffer.getvalue()
    try:
        with api_client(url, api_key) as client:
            r = client.put(
                f"/v1/models/{model}/versions/{version}",
                content=body,
                headers={"content-type": "application/vnd.apache.parquet"},
            )
    except (httpx.HTTPError, OSError) as exc:
        error_console.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    if r.status_code != 200:
        error_console.print(f"error: {r.status_code}: {r.text}", markup=False, highlight=False)
        raise typer.Exit(2)
    console.print(f"{model}: now monitoring version {r.json()['version']}")
