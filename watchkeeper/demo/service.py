"""The demo's model service: the credit-risk model behind FastAPI, on its own port.

``POST /v1/score`` takes ``{"applications": [{"id", "submitted_at", <features>}, ...]}``
and answers ``{"model_version", "decisions": [{"id", "decision", "probability_bad"}]}``.
The app is wrapped in :class:`~watchkeeper.sdk.WatchkeeperMiddleware`, whose ``extract``
function turns each request and response body into features and outputs, handed to an
SDK :class:`~watchkeeper.sdk.Client` that sends them to the collector. The request
carries its own time (``submitted_at``): the load generator replays traffic on an
accelerated clock, so rows land in the simulated windows whatever the real delays.

The service also reports its saturation: ``server_load`` (in-flight requests, smoothed,
over the number it is provisioned for) through ``log_metric`` a few times a second.

Operator endpoints, for the demo's incidents and its retraining job:
``PUT /admin/faults`` (``slowdown_seconds``, ``empty_band``), ``PUT /admin/model``
(``{"path": ...}``: serve a new model file). The accelerated clock comes as a JSON line
on stdin (:mod:`watchkeeper.demo._processes`).

Run it as ``python -m watchkeeper.demo.service --model model-v1.pkl --port 8001
--collector http://127.0.0.1:8000``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from watchkeeper.demo._processes import read_clock
from watchkeeper.demo.clock import AcceleratedClock
from watchkeeper.demo.data import FEATURES, NUMERIC
from watchkeeper.demo.model import TrainedModel, load_model
from watchkeeper.sdk import Client, ResourceSampler, WatchkeeperMiddleware

__all__ = ["ReplayLog", "create_service", "extract_scoring", "main"]

MODEL_NAME = "credit-risk"
SCORE_ROUTE = "/v1/score"
META = ("id", "submitted_at")


class ScoreRequest(BaseModel):
    """Applications to score; each has ``id``, ``submitted_at`` and the nine features."""

    applications: list[dict[str, Any]]


class FaultSettings(BaseModel):
    slowdown_seconds: float = 0.0
    empty_band: tuple[float, float] | None = None


class ModelFile(BaseModel):
    path: str


def extract_scoring(
    request_body: bytes, response_body: bytes, scope: Any
) -> tuple[dict[str, list[Any]], dict[str, list[Any]] | None] | None:
    """Features and outputs of one ``/v1/score`` call, as columns (other routes: None).

    The features keep ``id`` and ``submitted_at``, which :class:`ReplayLog` turns into
    the rows' ids and event times. A failed call is logged without outputs (it counts
    as an error).

    Examples
    --------
    >>> req = {"applications": [{"id": "a1", "submitted_at": 5.0, "age": 40}]}
    >>> res = {"decisions": [{"id": "a1", "decision": "good", "probability_bad": 0.1}]}
    >>> features, outputs = extract_scoring(
    ...     json.dumps(req).encode(), json.dumps(res).encode(), {"path": "/v1/score"}
    ... )
    >>> features["id"], features["age"], features["income"], outputs
    (['a1'], [40], [None], {'prediction': ['good'], 'score': [0.1]})
    """
    if scope.get("path") != SCORE_ROUTE:
        return None
    applications = json.loads(request_body)["applications"]
    features = {name: [a.get(name) for a in applications] for name in (*META, *FEATURES)}
    try:
        decisions = json.loads(response_body)["decisions"]
    except (ValueError, KeyError, TypeError):
        return features, None
    outputs = {
        "prediction": [d.get("decision") for d in decisions],
        "score": [d.get("probability_bad") for d in decisions],
    }
    return features, outputs


class ReplayLog:
    """What the middleware logs to: an SDK client, with ids and event times taken from
    the extracted ``id`` and ``submitted_at`` columns.

    Each application is logged as one row: the client merges queued rows into one
    request body per flush, where a batch would be a body of its own (a request to the
    collector per scoring call).
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self.last_logged = 0.0

    def log(
        self, features: Any, outputs: Any = None, *, latency: Any = None, error: Any = None
    ) -> None:
        columns = dict(features)
        ids = columns.pop("id")
        times = columns.pop("submitted_at")
        names = list(columns)
        out_names = list(outputs or {})
        for i, (pid, t) in enumerate(zip(ids, times, strict=True)):
            row = {name: columns[name][i] for name in names}
            out = {name: outputs[name][i] for name in out_names} if outputs else None
            self.client.log(row, out, ids=pid, timestamps=t, latency=latency, error=error)
        self.last_logged = time.monotonic()


class _State:
    def __init__(self, model: TrainedModel, clock: AcceleratedClock | None) -> None:
        self.model = model
        self.clock = clock
        self.faults = FaultSettings()
        self.lock = threading.Lock()


class LoadReporter:
    """Sample the in-flight gauge, smooth it, report ``server_load`` to the collector.

    ``server_load`` is the exponentially smoothed number of requests in flight (time
    constant about half a second) over ``capacity``, the number the service is
    provisioned for: above 1 requests queue up. It is reported while the service has
    traffic (a prediction logged in the last two seconds): once the replay is over the
    demo's clock runs on, and windows holding nothing but load reports would read as
    traffic gone to zero.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        client: Client,
        state: _State,
        capacity: float,
        *,
        interval: float = 0.1,
        activity: ReplayLog | None = None,
    ) -> None:
        self.registry, self.client, self.state = registry, client, state
        self.activity = activity
        self.capacity, self.interval = capacity, interval
        self.smoothed = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-load", daemon=True)

    def start(self) -> LoadReporter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        alpha = 1.0 - float(np.exp(-self.interval / 0.5))
        while not self._stop.wait(self.interval):
            in_flight = self.registry.get_sample_value("http_requests_in_flight") or 0.0
            self.smoothed += alpha * (in_flight - self.smoothed)
            clock = self.state.clock
            idle = self.activity is not None and (
                time.monotonic() - self.activity.last_logged > 2.0
            )
            if clock is not None and time.time() >= (clock.real_start or math.inf) and not idle:
                load = self.smoothed / self.capacity
                self.client.log_metric("server_load", round(load, 4), timestamp=clock.now())


def _frame(applications: Sequence[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(
        [{name: a.get(name) for name in FEATURES} for a in applications], columns=list(FEATURES)
    )
    for name in NUMERIC:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)
    return frame


def create_service(
    model: TrainedModel,
    *,
    client: Client,
    registry: CollectorRegistry | None = None,
    capacity: float = 8.0,
    clock: AcceleratedClock | None = None,
) -> FastAPI:
    """The model service, instrumented; ``client`` sends its predictions to a collector,
    ``clock`` (once started) times its ``server_load`` reports."""
    registry = registry if registry is not None else CollectorRegistry()
    state = _State(model, clock)
    replay_log = ReplayLog(client)
    reporter = LoadReporter(registry, client, state, capacity, activity=replay_log)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        reporter.start()
        try:
            yield
        finally:
            reporter.stop()
            await asyncio.to_thread(client.close, 10.0)

    app = FastAPI(title="credit-risk model (watchkeeper demo)", lifespan=lifespan)

    @app.post(SCORE_ROUTE)
    async def score(request: ScoreRequest) -> dict[str, Any]:
        """Score loan applications: the decision and the probability of default."""
        faults = state.faults
        if faults.slowdown_seconds:  # a saturated host: every request waits its turn
            await asyncio.sleep(faults.slowdown_seconds * random.uniform(0.85, 1.15))
        if not request.applications:
            return {"model_version": state.model.version, "decisions": []}
        model = state.model
        decisions, p_bad = model.predict(_frame(request.applications))
        band = faults.empty_band
        out = []
        for app_, decision, p in zip(request.applications, decisions, p_bad, strict=True):
            withheld = band is not None and band[0] <= p <= band[1]
            out.append(
                {
                    "id": app_.get("id"),
                    "decision": None if withheld else str(decision),
                    "probability_bad": round(float(p), 5),
                }
            )
        return {"model_version": model.version, "decisions": out}

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "model_version": state.model.version}

    @app.put("/admin/faults")
    def set_faults(settings: FaultSettings) -> dict[str, Any]:
        """Inject (or clear) the server-side incidents."""
        state.faults = settings
        return settings.model_dump()

    @app.put("/admin/model")
    def set_model(file: ModelFile) -> dict[str, Any]:
        """Serve the model in ``path`` from the next request on."""
        try:
            new = load_model(Path(file.path))
        except (OSError, TypeError, ValueError) as exc:
            raise HTTPException(422, f"path: {exc}") from exc
        with state.lock:
            state.model = new
        return {"model_version": new.version}

    app.add_middleware(
        WatchkeeperMiddleware,
        monitor=replay_log,
        registry=registry,
        extract=extract_scoring,
    )
    return app


def _simulated_now(clock: AcceleratedClock) -> float:
    """The simulated time of a saturation sample; raises (no sample) until the demo's
    clock has started, so no sample lands at the epoch before the first window."""
    if time.time() < (clock.real_start or math.inf):
        raise RuntimeError("the demo's clock has not started")
    return clock.now()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m watchkeeper.demo.service``: serve a model file on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", type=Path, required=True, help="model file (pickle)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--collector", required=True, help="collector URL")
    parser.add_argument("--model-name", default=MODEL_NAME)
    parser.add_argument("--capacity", type=float, default=8.0, help="requests provisioned")
    args = parser.parse_args(argv)
    import uvicorn

    clock = AcceleratedClock(0.0, 1.0)
    read_clock(clock)
    # saturation samples are stamped on the simulated clock, so they land in its windows
    client = Client(
        args.collector,
        args.model_name,
        batch_size=1_000,
        flush_interval=0.1,
        resources=ResourceSampler(clock=lambda: _simulated_now(clock)),
    )
    app = create_service(load_model(args.model), client=client, capacity=args.capacity, clock=clock)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
