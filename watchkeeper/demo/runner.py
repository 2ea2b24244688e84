"""``watchkeeper demo``: the whole product on a real model, with scripted incidents.

What runs, all on 127.0.0.1, its files in a temporary directory removed at the end:

- the collector (:mod:`watchkeeper.demo.collector`: what ``watchkeeper serve`` runs —
  ingestion, analysis, alert rules, the retraining action, ``/metrics`` and the
  dashboard at ``/`` — on SQLite) in a child process, its clock the demo's accelerated
  clock (:mod:`watchkeeper.demo.clock`), so windows close and alert ``for`` durations
  count in simulated time;
- the model service (:mod:`watchkeeper.demo.service`) in a child process on its own
  port, instrumented by the watchkeeper middleware;
- the load generator (:mod:`watchkeeper.demo.loadgen`) in a thread of this process,
  replaying the scenario (:mod:`watchkeeper.demo.incidents`) with outcomes arriving
  late; this process follows the alerts through ``GET /v1/alerts`` and shows them;
- on ``LowAccuracy``, the retraining job (:mod:`watchkeeper.demo.retrain`), started by
  the collector's action runner as its child process.

The collector's configuration (``watchkeeper.yaml`` in the work directory) is
``watchkeeper init``'s example with its rules and thresholds unchanged; only
``LowAccuracy`` gets ``action: retrain``, and the model section describes the demo's
model: its reference, the window and grace of :func:`~watchkeeper.demo.plan.plan`, and
no hour or day roll-ups (joining late labels recomputes the performance of every
roll-up window they touch, on every call; the demo's windows are what it shows).

The demo ends with a table — incident, injected at, detected at, alert, delay — and
exits 0 when every incident was caught by its expected rule in time, no alert fired
outside the incidents, and the retraining promoted version 2. Ctrl-C, SIGTERM or a
closed terminal stop everything it started.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml
from rich.console import Console

from watchkeeper.demo._processes import child_process, free_port, port_or_free, start_clock
from watchkeeper.demo.clock import AcceleratedClock
from watchkeeper.demo.data import BEFORE, label, sample_applications
from watchkeeper.demo.display import Status, attribute, poll, watch
from watchkeeper.demo.incidents import Conditions
from watchkeeper.demo.loadgen import LoadGenerator
from watchkeeper.demo.model import train_model
from watchkeeper.demo.pacing import Pacer
from watchkeeper.demo.plan import MODEL, DemoOptions, Plan, plan
from watchkeeper.demo.results import duration_text
from watchkeeper.demo.summary import print_results, summarise
from watchkeeper.demo.warehouse import Warehouse
from watchkeeper.errors import ConfigError
from watchkeeper.service.config import EXAMPLE

__all__ = ["DemoOptions", "collector_config", "run_demo"]


# -- the collector's configuration ---------------------------------------------------------


def collector_config(workdir: Path, p: Plan, service_url: str) -> dict[str, Any]:
    """``watchkeeper init``'s example, with the demo's model and the retraining action."""
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE)
    doc["store"] = "sqlite:///watchkeeper.db"
    doc["wal_dir"] = "wal"
    doc["tick_seconds"] = 0.1
    doc["models"] = {
        MODEL: {
            "reference": "reference.parquet",
            "window": int(p.window),
            "grace": int(p.grace),
            "retention": "7d",
            "rollups": [],
            "task": "classification",
            "positive": "bad",  # `score` is the probability of "bad" (a default)
        }
    }
    for rule in doc["rules"]:
        if rule["name"] == "LowAccuracy":
            rule["action"] = "retrain"
    wait = max(60.0, 12 * p.window / p.speed)  # real seconds; the pacer may hold the clock
    doc["actions"] = {
        "retrain": {
            "command": [
                sys.executable,
                "-m",
                "watchkeeper.demo.retrain",
                "--workdir",
                str(workdir),
                "--service",
                service_url,
                "--wait",
                f"{wait:g}",
            ],
            "cooldown": int(p.end - p.start),  # simulated seconds: once per run
            "timeout": int(wait + 120),  # real seconds
            "promote": True,
        }
    }
    return doc


@contextlib.contextmanager
def _signals_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) stop the demo the way Ctrl-C does: through
    the clean-up path, so no child process and no temporary file is left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _train(workdir: Path, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    frame = sample_applications(rng, 30_000)
    y = label(frame, BEFORE, rng)
    train, ref = frame.iloc[:24_000], frame.iloc[24_000:].reset_index(drop=True)
    model = train_model(train, y[:24_000], version="1", seed=seed)
    decisions, scores = model.predict(ref)
    accuracy = float(np.mean(decisions == y[24_000:]))
    reference = ref.copy()
    reference["prediction"] = decisions
    reference["score"] = scores
    reference.to_parquet(workdir / "reference.parquet")
    model.save(workdir / "model-v1.pkl")
    return {"train_rows": len(train), "reference_rows": len(reference), "accuracy": accuracy}


def _log_to(workdir: Path) -> Callable[[], None]:
    """Send this process's watchkeeper logs (the SDK's) to ``demo.log``, not the screen."""
    handler = logging.FileHandler(workdir / "demo.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("watchkeeper")
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        handler.close()

    return undo


def run_demo(options: DemoOptions, console: Console | None = None) -> int:
    """Run the demo; returns the exit status (0: every incident detected in time, no
    false alarm, version 2 promoted). Raises ConfigError for bad options.

    The work directory is removed after a successful run; after a failure it is kept,
    and its path and the collector log's last lines are printed."""
    console = console or Console()
    if not console.is_terminal:  # a log file or a pipe: room for the alert names
        console = Console(file=console.file, width=max(console.width, 132))
    p = plan(options)
    if options.workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="watchkeeper-demo-"))
    else:
        workdir = options.workdir
        if workdir.exists() and any(workdir.iterdir()):
            raise ConfigError(
                f"--workdir: {workdir} is not empty; expected a new or empty directory",
                field="workdir",
                value=str(workdir),
                expected="a new or empty directory",
            )
        workdir.mkdir(parents=True, exist_ok=True)
    undo_logging = _log_to(workdir)
    status = 1
    try:
        with _signals_as_interrupt():
            status = _run(options, p, workdir, console)
        return status
    except KeyboardInterrupt:
        status = 130
        with contextlib.suppress(OSError):  # the terminal may be gone
            console.print("[yellow]interrupted; everything is stopped[/yellow]")
        return status
    except (RuntimeError, httpx.HTTPError) as exc:  # a child that would not start or answer
        console.print(f"error: {exc}", style="red", markup=False, highlight=False)
        return status
    finally:
        undo_logging()
        if status not in (0, 130):
            with contextlib.suppress(OSError):
                _show_leftovers(console, workdir)
        elif options.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _show_leftovers(console: Console, workdir: Path, lines: int = 20) -> None:
    """After a failure: where the work directory is, and the collector log's end."""
    console.print(
        f"the work directory is kept: {workdir} (collector.log, service.log, demo.log, "
        "watchkeeper.yaml, watchkeeper.db)",
        markup=False,
        highlight=False,
    )
    log = workdir / "collector.log"
    if log.exists():
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        console.print(f"last lines of {log}:", markup=False, highlight=False)
        for line in tail:
            console.print("  " + line, markup=False, highlight=False, soft_wrap=True)


def _run(options: DemoOptions, p: Plan, workdir: Path, console: Console) -> int:
    say = console.print
    say(
        f"[bold]watchkeeper demo[/bold]: {duration_text(p.end - p.start)} of loan "
        f"applications in {p.scenario.windows} windows of {duration_text(p.window)}, "
        f"replayed {p.speed:g}x faster than real time (about {p.real_seconds:.0f} s; "
        "the replay waits whenever the collector falls behind, so a busy machine makes it "
        "slower, not wrong)"
    )
    with console.status("training the credit-risk model (scikit-learn)…"):
        trained = _train(workdir, options.seed)
    say(
        f"model v1: HistGradientBoostingClassifier pipeline, {trained['train_rows']:,} "
        f"applications; held-out accuracy {trained['accuracy']:.3f}"
    )
    rate = p.traffic.requests_per_window * p.speed / p.window  # requests per real second
    capacity = max(4, math.ceil(rate * 0.5))
    collector_port = port_or_free(options.port)
    service_port = free_port()
    url = f"http://127.0.0.1:{collector_port}"
    service_url = f"http://127.0.0.1:{service_port}"
    (workdir / "watchkeeper.yaml").write_text(
        "# written by watchkeeper demo: the `watchkeeper init` example, its rules unchanged\n"
        "# but for `action: retrain` on LowAccuracy; the demo's model and retraining action\n"
        + yaml.safe_dump(collector_config(workdir, p, service_url), sort_keys=False)
    )
    with contextlib.ExitStack() as stack:
        collector = stack.enter_context(
            child_process(
                "collector",
                ["watchkeeper.demo.collector", "--config", str(workdir / "watchkeeper.yaml"),
                 "--port", str(collector_port), "--sim-start", repr(p.start),
                 "--speed", repr(p.speed)],
                port=collector_port,
                log=workdir / "collector.log",
                env={"OMP_NUM_THREADS": "1"},  # and its retraining job: no oversubscription
            )
        )  # fmt: skip
        service = stack.enter_context(
            child_process(
                "model service",
                ["watchkeeper.demo.service", "--model", str(workdir / "model-v1.pkl"),
                 "--port", str(service_port), "--collector", url, "--model-name", MODEL,
                 "--capacity", str(capacity)],
                port=service_port,
                log=workdir / "service.log",
                env={"OMP_NUM_THREADS": "1"},  # one request, one core: steady latencies
            )
        )  # fmt: skip
        with console.status("starting the collector and the model service…"):
            collector.wait_ready("/readyz")
            service.wait_ready("/healthz")
        say(f"dashboard: [bold cyan]{url}/[/bold cyan]  (metrics: {url}/metrics)")
        say(f"model service: {service_url}/v1/score (FastAPI + WatchkeeperMiddleware)")
        from watchkeeper.sdk import Client

        labels = Client(url, MODEL, batch_size=2_000, flush_interval=0.1, resources=False)
        stack.callback(labels.close, 10.0)
        warehouse = Warehouse(workdir / "warehouse.db")
        stack.callback(warehouse.close)
        status = Status()
        clock = AcceleratedClock(sim_start=p.start, speed=p.speed)

        def on_faults(c: Conditions) -> None:
            band = "off" if c.empty_band is None else f"{c.empty_band[0]:g}-{c.empty_band[1]:g}"
            status.event(
                clock.now(), f"service: slowdown {c.slowdown_seconds:g} s, decision filter {band}"
            )

        gen = LoadGenerator(
            p.scenario,
            clock,
            p.traffic,
            start=p.start,
            service_url=service_url,
            send_labels=labels.log_labels,
            warehouse=warehouse,
            seed=options.seed,
            on_faults=on_faults,
        )
        stack.callback(gen.close)
        stop = threading.Event()
        stack.callback(stop.set)  # unwinds before gen.close
        api = httpx.Client(base_url=url, timeout=30)
        stack.callback(api.close)

        def broadcast() -> None:
            start_clock(collector, clock)
            start_clock(service, clock)

        pacer = Pacer(  # sets the clock's first gate: before the children hear of it
            p,
            clock,
            httpx.Client(base_url=url, timeout=10),
            gen.sent,
            broadcast,
            lambda line: status.event(clock.now(), line),
        )
        stack.callback(pacer.close)
        clock.start(time.time() + 0.2)
        broadcast()
        pacer.start()
        failure: list[BaseException] = []

        def replay() -> None:
            try:
                gen.run(stop)
            except BaseException as exc:  # re-raised by the main thread
                failure.append(exc)

        thread = threading.Thread(target=replay, name="demo-replay", daemon=True)
        thread.start()
        watch(
            p,
            clock,
            api,
            thread,
            status,
            console,
            headless=options.headless,
            waiting=lambda: pacer.waiting,
        )
        if failure:
            raise failure[0]
        with console.status("waiting for the last windows to close…"):
            _settle(p, api, status)
        pacer.stop()
        detections, false_alarms = attribute(p, status)
        summary = summarise(p, detections, false_alarms, status, api, gen)
        summary["pacing"] = {"holds": pacer.holds, "held_seconds": round(pacer.held_seconds, 1)}
        print_results(console, p, detections, false_alarms, summary)
        if options.report is not None:
            options.report.write_text(json.dumps(summary, indent=2, default=str))
        if options.keep_running:
            say(f"[bold]still running[/bold]: dashboard {url}/; press Ctrl-C to stop")
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
        return 0 if summary["ok"] else 1


def _settle(p: Plan, api: httpx.Client, status: Status) -> None:
    """Wait for the last window to close and a running retraining to finish."""
    deadline = time.monotonic() + 120 + p.grace / p.speed  # the pacer may hold the clock
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, IndexError):
            closed = api.get("/v1/models").json()["models"][0]["last_closed_window"]
            if closed is not None and closed >= p.end - p.window:
                break
        time.sleep(0.2)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        poll(api, status)
        running = [
            a for a in status.alerts
            if (a.get("evidence") or {}).get("action", {}).get("status") == "started"
        ]  # fmt: skip
        if not running:
            break
        time.sleep(0.5)
