"""The ``watchkeeper`` command line. Each command parses arguments and calls one function."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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


# -- offline comparison: drift, report and check ------------------------------------

_Reference = Annotated[Path, typer.Argument(help="Reference data: .parquet, .csv or .feather")]
_Current = Annotated[Path, typer.Argument(help="Current data, same columns")]
_FalseAlarm = Annotated[
    float, typer.Option(help="False-alarm rate per comparison, after the correction")
]
_Method = Annotated[
    str | None, typer.Option(help="Drift method for every column (default: by kind and size)")
]
_ColumnMethod = Annotated[
    list[str] | None,
    typer.Option("--column-method", help="COLUMN=METHOD, for one column; repeatable"),
]
_DriftShare = Annotated[
    float, typer.Option(help="The dataset drifts when this share of columns drifted")
]
_JsonOut = Annotated[Path | None, typer.Option("--json", help="Also write the report as JSON")]


def _fail(exc: Exception) -> typer.Exit:
    """One line on stderr and exit code 2, for bad input or a bad option."""
    _errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _compare_files(
    reference: Path,
    current: Path,
    *,
    false_alarm_rate: float,
    method: str | None,
    column_method: list[str] | None,
    drift_share: float,
) -> Any:
    """Compare both files batch by batch, with progress bars on stderr (in a terminal)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from watchkeeper.errors import ConfigError
    from watchkeeper.report.files import compare_files
    from watchkeeper.stats import DriftConfig

    methods: dict[str, str] = {}
    for item in column_method or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ConfigError(
                f"--column-method: expected COLUMN=METHOD, got {item!r}",
                field="--column-method",
                value=item,
                expected="COLUMN=METHOD",
            )
        methods[name] = value
    config = DriftConfig(method=method, false_alarm_rate=false_alarm_rate, drift_share=drift_share)
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=_errors,
        transient=True,
        disable=not _errors.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def tell(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        return compare_files(
            reference, current, config=config, column_methods=methods, progress=tell
        )


def _drift_table(report: Any) -> Table:
    """The comparison in the terminal: one row per column, the figures behind each verdict
    (the reasons in words are in the HTML report)."""
    from watchkeeper.report.html import percent

    table = Table(title=report.drift.explanation)
    for name in ("column", "method", "statistic", "threshold", "drift", "missing", "out/new"):
        table.add_column(name, no_wrap=True)
    for col in report.columns:
        d = col.drift
        quality = col.out_of_range if col.out_of_range is not None else col.new_category_share
        table.add_row(
            col.name,
            d.method if d else "–",
            f"{d.statistic:.4g}" if d else "–",
            f"{d.threshold:.4g}" if d else "–",
            "[red]yes[/red]" if col.drifted else ("no" if d else "not judged"),
            percent(col.missing[1]),
            percent(quality),
        )
    return table


def _verdict_table(report: Any) -> Table:
    """The drift verdicts in the terminal: one row per judged column, with the reason in
    words; the dataset's verdict is the title."""
    table = Table(title=report.drift.explanation)
    for name in ("column", "method", "statistic", "threshold", "drift", "why"):
        table.add_column(name)
    for col in report.drift.columns:
        table.add_row(
            col.column,
            col.method,
            f"{col.statistic:.4g}",
            f"{col.threshold:.4g}",
            "[red]yes[/red]" if col.drifted else "no",
            col.explanation,
        )
    return table


@app.command()
def drift(
    reference: _Reference,
    current: _Current,
    false_alarm_rate: _FalseAlarm = 0.01,
    method: _Method = None,
    column_method: _ColumnMethod = None,
    drift_share: _DriftShare = 0.5,
) -> None:
    """Compare two data files and print each column's drift verdict: the comparison of
    'watchkeeper report', as a table, without writing files."""
    from watchkeeper.errors import WatchkeeperError

    try:
        result = _compare_files(
            reference,
            current,
            false_alarm_rate=false_alarm_rate,
            method=method,
            column_method=column_method,
            drift_share=drift_share,
        )
    except (WatchkeeperError, OSError) as exc:
        raise _fail(exc) from exc
    _console.print(_verdict_table(result))


@app.command()
def report(
    reference: _Reference,
    current: _Current,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The HTML report (self-contained)")
    ] = Path("report.html"),
    json_path: _JsonOut = None,
    title: Annotated[str | None, typer.Option(help="Title of the page")] = None,
    false_alarm_rate: _FalseAlarm = 0.01,
    method: _Method = None,
    column_method: _ColumnMethod = None,
    drift_share: _DriftShare = 0.5,
) -> None:
    """Compare two data files: drift and data quality per column, as HTML (and JSON)."""
    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.report import render_html, report_to_json, write_text_atomically

    try:
        result = _compare_files(
            reference,
            current,
            false_alarm_rate=false_alarm_rate,
            method=method,
            column_method=column_method,
            drift_share=drift_share,
        )
        write_text_atomically(output, render_html(result, title=title))
        if json_path is not None:
            write_text_atomically(json_path, report_to_json(result))
    except (WatchkeeperError, OSError) as exc:
        raise _fail(exc) from exc
    _console.print(_drift_table(result))
    written = f"{output}" + (f" and {json_path}" if json_path is not None else "")
    _console.print(f"report written to {written}", markup=False, highlight=False)


@app.command()
def check(
    reference: _Reference,
    current: _Current,
    column: Annotated[
        list[str] | None,
        typer.Option("--column", help="Fail when this column drifts; repeatable"),
    ] = None,
    any_column: Annotated[bool, typer.Option(help="Fail when any column drifts")] = False,
    dataset_drift: Annotated[
        bool, typer.Option(help="Fail when the dataset drifts (share of drifted columns)")
    ] = True,
    allow_absent: Annotated[
        bool, typer.Option(help="Pass even when reference columns are missing")
    ] = False,
    max_missing: Annotated[
        float | None, typer.Option(help="Fail when a column's missing share is above this")
    ] = None,
    max_missing_increase: Annotated[
        float | None, typer.Option(help="Fail when a column's missing share rose by more")
    ] = None,
    max_out_of_range: Annotated[
        float | None, typer.Option(help="Fail above this share outside the reference's range")
    ] = None,
    max_new_categories: Annotated[
        float | None, typer.Option(help="Fail above this share of new categories")
    ] = None,
    json_path: _JsonOut = None,
    html: Annotated[Path | None, typer.Option(help="Also write the HTML report")] = None,
    false_alarm_rate: _FalseAlarm = 0.01,
    method: _Method = None,
    column_method: _ColumnMethod = None,
    drift_share: _DriftShare = 0.5,
) -> None:
    """Gate a pipeline on two data files: exit 0 when the check passes, 1 when it fails."""
    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.report import (
        CheckPolicy,
        render_html,
        report_to_dict,
        run_check,
        write_text_atomically,
    )

    try:
        policy = CheckPolicy(
            dataset_drift=dataset_drift,
            any_column_drift=any_column,
            columns=tuple(column or ()),
            absent_columns=not allow_absent,
            max_missing_ratio=max_missing,
            max_missing_increase=max_missing_increase,
            max_out_of_range=max_out_of_range,
            max_new_category_share=max_new_categories,
        )
        result = _compare_files(
            reference,
            current,
            false_alarm_rate=false_alarm_rate,
            method=method,
            column_method=column_method,
            drift_share=drift_share,
        )
        outcome = run_check(result, policy)
        if json_path is not None:
            import json

            doc = report_to_dict(result)
            doc["check"] = outcome.to_dict()
            write_text_atomically(json_path, json.dumps(doc, indent=2, allow_nan=False))
        if html is not None:
            write_text_atomically(html, render_html(result))
    except (WatchkeeperError, OSError, ValueError) as exc:
        raise _fail(exc) from exc
    for failure in outcome.failures:  # one line each, unwrapped: CI logs are grepped
        line = f"FAIL {failure.condition}: {failure.message}"
        _console.print(line, markup=False, highlight=False, soft_wrap=True)
    _console.print(outcome.summary, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(0 if outcome.passed else 1)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Config file to write")] = Path("watchkeeper.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file")] = False,
) -> None:
    """Write a commented example collector configuration."""
    from watchkeeper.service.config import EXAMPLE

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
    from watchkeeper.service import Service
    from watchkeeper.service.config import load_config

    try:
        cfg = load_config(config)
        collector = Service(cfg)  # opens the store, replays the log: fails before serving
    except WatchkeeperError as exc:
        _errors.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    _console.print(f"watchkeeper {__version__} collecting on http://{host}:{port} "
                   f"({len(cfg.models)} models, store {cfg.store})")  # fmt: skip
    import signal

    def reload_rules(*_: object) -> None:  # SIGHUP: re-read rules, notifiers, actions
        try:
            collector.reload(load_config(config))
            _console.print(f"reloaded rules from {config}")
        except WatchkeeperError as exc:
            _errors.print(f"reload failed, old rules kept: {exc}", markup=False)

    signal.signal(signal.SIGHUP, reload_rules)
    app_ = create_app(cfg, service=collector, config_path=config)
    uvicorn.run(app_, host=host, port=port, log_level=log_level)


def _api(url: str, api_key: str | None) -> Any:
    import httpx

    headers = {"X-API-Key": api_key} if api_key else {}
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=10.0)


@app.command()
def alerts(
    url: Annotated[str, typer.Option(help="Collector URL")] = "http://127.0.0.1:8000",
    model: Annotated[str | None, typer.Option(help="Only this model")] = None,
    state: Annotated[str | None, typer.Option(help="firing or resolved")] = None,
) -> None:
    """List alerts (newest first) and pending ones from a running collector."""
    import datetime as dt

    import httpx

    params = {k: v for k, v in (("model", model), ("state", state)) if v}
    try:
        with _api(url, None) as client:
            doc = client.get("/v1/alerts", params=params).raise_for_status().json()
    except httpx.HTTPError as exc:
        _errors.print(f"error: {url}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    table = Table(title=f"alerts at {url}")
    for name in ("id", "state", "rule", "model", "labels", "since", "value", "summary"):
        table.add_column(name, no_wrap=name in ("id", "state", "rule", "model"))

    def when(t: float | None) -> str:
        return "" if t is None else dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M")

    for a in doc["alerts"]:
        state_text = a["state"] + (" (silenced)" if a["silenced"] else "")
        colour = "red" if a["state"] == "firing" else "green"
        table.add_row(
            str(a["id"]),
            f"[{colour}]{state_text}[/{colour}]",
            a["rule"],
            a["model"],
            ", ".join(f"{k}={v}" for k, v in a["labels"].items()),
            when(a["started_at"]),
            str(a["evidence"].get("value")),
            str(a["evidence"].get("summary", "")),
        )
    for p in doc["pending"]:
        labels = ", ".join(f"{k}={v}" for k, v in p["labels"].items())
        table.add_row("", "[yellow]pending[/yellow]", p["rule"], p["model"], labels, "", "", "")
    _console.print(table)


@app.command()
def silence(
    match: Annotated[list[str], typer.Option(help="label=value (repeat for several)")],
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 2h")] = "1h",
    comment: Annotated[str, typer.Option(help="Why")] = "",
    url: Annotated[str, typer.Option(help="Collector URL")] = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(help="API key for writes")] = None,
) -> None:
    """Hold back notifications of matching alerts for a while."""
    import httpx

    matchers = {}
    for item in match:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _errors.print(f"error: --match {item!r}: expected label=value", markup=False)
            raise typer.Exit(2)
        matchers[key] = value
    body = {"matchers": matchers, "duration": duration, "comment": comment}
    try:
        with _api(url, api_key) as client:
            r = client.post("/v1/silences", json=body)
    except httpx.HTTPError as exc:
        _errors.print(f"error: {url}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    if r.status_code != 200:
        _errors.print(f"error: {r.status_code}: {r.text}", markup=False, highlight=False)
        raise typer.Exit(2)
    _console.print(f"silence {r.json()['id']} until {r.json()['ends_at']:.0f}: {matchers}")


models_app = typer.Typer(help="Model versions in a running collector.")
app.add_typer(models_app, name="models")


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
        with _api(url, api_key) as client:
            r = client.put(
                f"/v1/models/{model}/versions/{version}",
                content=body,
                headers={"content-type": "application/vnd.apache.parquet"},
            )
    except (httpx.HTTPError, OSError) as exc:
        _errors.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    if r.status_code != 200:
        _errors.print(f"error: {r.status_code}: {r.text}", markup=False, highlight=False)
        raise typer.Exit(2)
    _console.print(f"{model}: now monitoring version {r.json()['version']}")


export_app = typer.Typer(help="Write configuration for other tools.")
app.add_typer(export_app, name="export")


@export_app.command("prometheus-rules")
def export_prometheus_rules(
    config: Annotated[Path, typer.Option(help="Collector YAML with rules")] = Path(
        "watchkeeper.yaml"
    ),
    output: Annotated[Path | None, typer.Option(help="File to write (default: stdout)")] = None,
    window: Annotated[str, typer.Option(help="Window size the rules' 'over' counts")] = "1m",
) -> None:
    """Write the alert rules as Prometheus alerting rules over the /metrics names."""
    import yaml

    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.exporters.prometheus_rules import prometheus_rules
    from watchkeeper.service.config import load_config
    from watchkeeper.units import parse_duration

    try:
        cfg = load_config(config)
        doc, skipped = prometheus_rules(cfg.rules, parse_duration(window, "window"))
    except WatchkeeperError as exc:
        _errors.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    header = "# generated by watchkeeper export prometheus-rules\n"
    if skipped:
        header += f"# not expressible over /metrics (left to watchkeeper): {', '.join(skipped)}\n"
    text = header + yaml.safe_dump(doc, sort_keys=False)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        _console.print(f"wrote {len(doc['groups'][0]['rules'])} rules to {output}")


@export_app.command("grafana-dashboard")
def export_grafana_dashboard(
    output: Annotated[Path | None, typer.Option(help="File to write (default: stdout)")] = None,
    title: Annotated[str, typer.Option(help="Dashboard title (its uid is derived from it)")] = (
        "watchkeeper"
    ),
    model: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="Offer only this model (repeat for several)"),
    ] = None,
) -> None:
    """Write a Grafana dashboard (JSON) over the /metrics names, for a Prometheus source."""
    import json

    from watchkeeper.exporters.grafana import grafana_dashboard

    text = json.dumps(grafana_dashboard(title=title, models=model), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    partial = output.with_name(output.name + ".partial")
    partial.write_text(text)
    partial.replace(output)  # a provisioning Grafana never reads half a file
    typer.echo(f"wrote the dashboard to {output}")


@app.command()
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
        code = run_demo(options, _console)
    except WatchkeeperError as exc:
        _errors.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
