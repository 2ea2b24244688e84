"""``watchkeeper demo --scenario speech``: the replay, window by window, and its verdict.

What runs, in this process, its files in a temporary directory removed at the end (or
in ``--workdir``):

- the collector's application service (:class:`~watchkeeper.service.Service`: write-ahead
  log, the model's Monitor, the alert engine with ``watchkeeper init``'s default rules,
  SQLite), on a manual clock that the replay moves one window at a time, so the result
  is the same on a loaded machine, only later;
- the model: :mod:`~watchkeeper.demo.speech.model`, trained at start on synthesised clips;
- the SDK :class:`~watchkeeper.sdk.client.Client`, with the audio describer: each clip
  becomes ``voice.duration_seconds``, ``voice.rms_dbfs``, ``voice.silence_ratio``,
  ``voice.clipping_share`` and ``voice.sample_rate_hz`` on the client's sender thread,
  and the bodies reach the service through an in-process transport (the HTTP routes
  call the same methods). The reference is described the same way.

Users who type instead of speaking send no audio and log a ``switched_to_typing``
event. What each user said is sent as the label right after the prediction, so the
accuracy of every window is known when it closes. The demo ends with a table —
incident, alert, delay — and exits 0 when every incident was caught by its expected
default rule in time and no other alert fired.
"""

from __future__ import annotations

import gc
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import yaml

from watchkeeper.demo.results import AlertSeen, Detection, match_alerts
from watchkeeper.demo.speech.audio import KEYWORDS, synthesise
from watchkeeper.demo.speech.model import SpeechModel, train_speech_model
from watchkeeper.demo.speech.scenario import ACCENT_FORMANTS, SpeechConditions, SpeechScenario
from watchkeeper.descriptors import Describer
from watchkeeper.errors import WatchkeeperError
from watchkeeper.monitor.clock import ManualClock
from watchkeeper.sdk.client import Client
from watchkeeper.service import Service, Unavailable
from watchkeeper.service.config import EXAMPLE, parse_config

__all__ = ["MODEL", "SCHEMA", "ServiceTransport", "SpeechOptions", "run_speech_demo"]

MODEL = "keyword-spotter"
SCHEMA: dict[str, Any] = {
    "voice": {"kind": "audio"},
    "transcript": {"kind": "text", "role": "output"},
}
"""The model's columns: the raw audio is declared, its descriptors are monitored."""
START = 1_767_600_000.0
"""Simulated start: Mon 5 Jan 2026 08:00 UTC."""
WINDOW, GRACE = 60.0, 10.0


@dataclass(frozen=True)
class SpeechOptions:
    """What ``watchkeeper demo --scenario speech`` was asked."""

    rows_per_window: int = 150
    workdir: Path | None = None
    report: Path | None = None
    seed: int = 0


class ServiceTransport(httpx.BaseTransport):
    """The collector's write endpoints, in process: each POST calls the service method
    its route calls, and answers as the route would (200 with the accepted count, 422
    with the reason)."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")  # v1 models <model> <what>
        body = request.read()
        key = request.headers.get("idempotency-key")
        try:
            if parts[-1] == "predictions":
                ctype = request.headers.get("content-type", "application/json")
                ack = self.service.write_predictions(parts[2], body, ctype, key)
            elif parts[-1] == "signals":
                ack = self.service.write_signals(parts[2], body, key)
            else:
                ack = self.service.write_labels(parts[2], body, key)
        except Unavailable as exc:  # retried by the client, as over HTTP
            headers = {"Retry-After": str(exc.retry_after)}
            return httpx.Response(exc.status, json={"detail": exc.message}, headers=headers)
        except WatchkeeperError as exc:
            return httpx.Response(422, json={"detail": exc.message})
        return httpx.Response(200, json={"accepted": ack.rows})


def _config(workdir: Path, reference: Path) -> dict[str, Any]:
    """``watchkeeper init``'s example with its rules unchanged, and the speech model."""
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE)
    doc["store"] = f"sqlite:///{workdir / 'watchkeeper.db'}"
    doc["wal_dir"] = str(workdir / "wal")
    doc["tick_seconds"] = 3600  # the replay ticks itself, once per window
    doc["notifiers"] = []
    doc["fsync"] = False  # a throw-away directory: durability across power loss is moot
    doc["models"] = {
        MODEL: {
            "schema": SCHEMA,
            "reference": str(reference),
            "window": "1m",
            "grace": "10s",
            "rollups": [],
        }
    }
    return doc


@dataclass
class Requests:
    """One window's requests: what the client logs, and the truth for the labels."""

    features: dict[str, list[Any]]
    outputs: dict[str, list[str]]
    words: list[str]
    typed: int


def _requests(
    rng: np.random.Generator, model: SpeechModel, n: int, cond: SpeechConditions
) -> Requests:
    """``n`` requests: the raw clips (``None`` for a typed request), the transcripts."""
    words = [str(w) for w in rng.choice(list(KEYWORDS), n)]
    typed = rng.random(n) < cond.typing_share
    accent = np.where(rng.random(n) < cond.accent_share, ACCENT_FORMANTS, 1.0)
    clips: list[Any] = [
        None if t else (synthesise(rng, w, cond.capture, f), float(cond.capture.rate))
        for w, t, f in zip(words, typed, accent, strict=True)
    ]
    spoken = [c for c in clips if c is not None]
    text = iter(model.transcribe(spoken)[0] if spoken else [])
    transcripts = [
        w if t else ("" if rng.random() < cond.empty_share else next(text))
        for w, t in zip(words, typed, strict=True)
    ]  # a typed query is its own transcript
    return Requests({"voice": clips}, {"transcript": transcripts}, words, int(typed.sum()))


def _alerts(service: Service) -> list[AlertSeen]:
    return [
        AlertSeen(a.rule, dict(a.labels), a.started_at, a.resolved_at, dict(a.evidence))
        for a in service.store.alerts(MODEL)
    ]


def run_speech_demo(options: SpeechOptions, say: Callable[[str], None] = print) -> int:
    """Run the replay; 0 when every incident was caught in time without false alarms.

    Raises
    ------
    MissingExtraError
        scikit-learn (the ``demo`` extra) is not installed.
    """
    rng = np.random.default_rng(options.seed)
    scenario = SpeechScenario()
    say("training the keyword model on synthesised clips ...")
    model = train_speech_model(rng)
    own = options.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="wk-speech-")) if own else Path(options.workdir or ".")
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        normal = _requests(rng, model, 600, SpeechConditions())
        describer = Describer.for_schema(SCHEMA)
        if describer is None:  # the schema declares audio: never
            raise RuntimeError("the speech schema declares no media")
        reference = describer.fit(normal.features).columns(normal.features)
        frame = pd.DataFrame({**reference, **normal.outputs})
        frame.to_parquet(workdir / "reference.parquet")
        config = parse_config(_config(workdir, workdir / "reference.parquet"), base=workdir)
        clock = ManualClock(START)
        service = Service(config, clock=clock)
        try:
            result = _replay(service, clock, describer, model, scenario, options, rng, say)
        finally:
            service.close()
            for monitor in service.monitors.values():
                monitor.close()  # its analyser thread (Service.close leaves it running)
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)
        gc.collect()  # free the sketches of closed monitors before the interpreter exits
    return result


def _replay(
    service: Service,
    clock: ManualClock,
    describer: Describer,
    model: SpeechModel,
    scenario: SpeechScenario,
    options: SpeechOptions,
    rng: np.random.Generator,
    say: Callable[[str], None],
) -> int:
    n = options.rows_per_window
    seen: set[tuple[str, float]] = set()
    transport = ServiceTransport(service)
    with Client("http://in-process", MODEL, transport=transport, describe=describer,
                batch_size=10 * n, flush_interval=0.05) as client:  # fmt: skip
        for w in range(scenario.windows):
            for incident in scenario.incidents:
                if incident.start == w:
                    say(f"window {w:2d}: incident {incident.number}: {incident.title}")
            batch = _requests(rng, model, n, scenario.conditions(w))
            ts = START + w * WINDOW + np.sort(rng.uniform(0, WINDOW - 1, n))
            ids = [f"w{w}-{i}" for i in range(n)]
            client.log(batch.features, batch.outputs, ids=ids, timestamps=ts,
                       latency=rng.gamma(4, 0.01, n))  # fmt: skip
            client.log_labels(ids, batch.words)  # what the users said (known at once here)
            for t in ts[: batch.typed]:
                client.log_event("switched_to_typing", timestamp=float(t))
            if not client.flush(60):
                raise RuntimeError(f"window {w}: the collector did not take the rows in 60 s")
            clock.set(START + (w + 1) * WINDOW + GRACE + 1)
            service.tick()
            for a in _alerts(service):
                if (a.name, a.started_at) not in seen:
                    seen.add((a.name, a.started_at))
                    say(f"window {w:2d}: alert {a.name}")
        dropped = client.dropped + client.rejected
    detections, false_alarms = match_alerts(
        scenario.incidents, _alerts(service), start=START, window_seconds=WINDOW
    )
    _print(detections, false_alarms, say)
    if options.report is not None:
        doc = {
            "scenario": "speech",
            "incidents": [d.to_dict(WINDOW) for d in detections],
            "false_alarms": [a.name for a in false_alarms],
            "rows_not_delivered": dropped,
        }
        options.report.write_text(json.dumps(doc, indent=2))
    ok = all(d.ok for d in detections) and not false_alarms and dropped == 0
    return 0 if ok else 1


def _print(
    detections: list[Detection], false_alarms: list[AlertSeen], say: Callable[[str], None]
) -> None:
    say(f"{'#':>2}  {'incident':44} {'alert':48} delay")
    for d in detections:
        alert = d.detected_by.name if d.detected_by else "NOT DETECTED"
        delay = "-" if d.delay is None else f"{d.delay / WINDOW:.0f} windows"
        say(f"{d.incident.number:>2}  {d.incident.short:44} {alert:48} {delay}")
    say(f"false alarms: {', '.join(a.name for a in false_alarms) or 'none'}")
