"""WatchkeeperMiddleware on a real FastAPI app: metrics by route template, status and
exceptions, scopes passed through, and model logging that never touches the response."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pytest
from fastapi import APIRouter, FastAPI, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from watchkeeper.errors import ConfigError
from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.sdk.middleware import UNMATCHED, WatchkeeperMiddleware

PREDICT = "/predict/{model_id}"


def make_api(registry: CollectorRegistry) -> FastAPI:
    """A model service: predictions, a health check, a failing route, an overloaded route."""
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    api = FastAPI(lifespan=lifespan)
    api.state.events = events

    @api.post(PREDICT)
    def predict(model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"model": model_id, "prediction": 2.0 * body["x"]}
        if "reply_pad" in body:
            reply["pad"] = "a" * int(body["reply_pad"])
        return reply

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/boom")
    def boom() -> None:
        raise RuntimeError("model crashed")

    @api.get("/busy")
    def busy() -> JSONResponse:
        return JSONResponse({"detail": "overloaded"}, status_code=503)

    @api.get("/in-flight")
    def in_flight() -> dict[str, float | None]:
        return {"value": registry.get_sample_value("http_requests_in_flight")}

    @api.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text(await socket.receive_text())
        await socket.close()

    v1 = APIRouter(prefix="/v1")

    @v1.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    api.include_router(v1)
    return api


class RecordingMonitor:
    """Stands for the user's log target (a Monitor or an SDK client): keeps every call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def log(
        self, features: Any, outputs: Any = None, *, latency: Any = None, error: Any = None
    ) -> None:
        self.calls.append(
            {"features": features, "outputs": outputs, "latency": latency, "error": error}
        )


def extract_json(request: bytes, response: bytes, scope: dict[str, Any]) -> tuple[Any, Any] | None:
    """Features from the JSON request, the prediction from the JSON response."""
    if scope["path"].startswith("/predict/"):
        features = dict(json.loads(request), model=scope["path_params"]["model_id"])
        return features, json.loads(response)["prediction"]
    if scope["path"] in ("/boom", "/busy", "/health"):
        return {"x": 0.0}, None
    return None


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def count(registry: CollectorRegistry, method: str, route: str, status: int) -> float | None:
    return registry.get_sample_value(
        "http_request_count_total", {"method": method, "route": route, "status": str(status)}
    )


def route_labels(registry: CollectorRegistry) -> set[str]:
    text = generate_latest(registry).decode()
    return {
        s.labels["route"]
        for family in text_string_to_metric_families(text)
        if family.name == "http_request_count"
        for s in family.samples
        if s.name == "http_request_count_total"
    }


# -- metrics --------------------------------------------------------------------------


def test_distinct_raw_paths_count_under_one_route_template(registry: CollectorRegistry) -> None:
    app = WatchkeeperMiddleware(make_api(registry), registry=registry)
    with TestClient(app) as client:
        for i in range(100):
            assert client.post(f"/predict/model-{i}", json={"x": 1.0}).status_code == 200
    assert count(registry, "POST", PREDICT, 200) == 100
    assert route_labels(registry) == {PREDICT}


def test_router_prefix_is_part_of_the_template(registry: CollectorRegistry) -> None:
    app = WatchkeeperMiddleware(make_api(registry), registry=registry)
    with TestClient(app) as client:
        for i in range(5):
            client.get(f"/v1/items/{i}")
    assert count(registry, "GET", "/v1/items/{item_id}", 200) == 5


def test_unmatched_paths_share_one_label(registry: CollectorRegistry) -> None:
    app = WatchkeeperMiddleware(make_api(registry), registry=registry)
    with TestClient(app) as client:
        for i in range(10):
            assert client.get(f"/no/such/page/{i}").status_code == 404
    assert count(registry, "GET", UNMATCHED, 404) == 10
    assert route_labels(registry) == {UNMATCHED}


def test_wrong_method_keeps_the_template_and_odd_methods_are_other(
    registry: CollectorRegistry,
) -> None:
    app = WatchkeeperMiddleware(make_api(registry), registry=registry)
    with TestClient(app) as client:
        assert client.get("/predict/m1").status_code == 405
        assert client.request("BREW", "/health").status_code == 405
    assert count(registry, "GET", PREDICT, 405) == 1
    assert count(registry, "other", "/health", 405) == 1


def test_request_rejected_before_routing_is_labelled_by_matching_the_app_routes(
    registry: CollectorRegistry,
) -> None:
    api = make_api(registry)

    class RejectAll:  # an auth layer inside the app that answers before the router
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            await PlainTextResponse("no", status_code=401)(scope, receive, send)

    api.add_middleware(RejectAll)
    app = WatchkeeperMiddleware(api, registry=registry)
    with TestClient(app) as client:
        assert client.post("/predict/m7", json={"x": 1.0}).status_code == 401
        assert client.get("/nowhere").status_code == 401
    assert count(registry, "POST", PREDICT, 401) == 1
    assert count(registry, "GET", UNMATCHED, 401) == 1


def test_exception_is_counted_as_500_and_still_reaches_the_server(
    registry: CollectorRegistry,
) -> None:
    app = WatchkeeperMiddleware(make_api(registry), registry=registry)
    with TestClient(app) as client, pytest.raises(RuntimeError, match="model crashed"):
        client.get("/boom")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert count(registry, "GET", "/boom", 500) == 2
    labels = {"method": "GET", "route": "/boom", "exception": "RuntimeError"}
    assert registry.get_sample_value("http_request_exceptions_total", labels) == 2
    assert registry.get_sample_value("http_requests_in_flight") == 0


def test_app_failing_before_any_response_is_recorded_as_500(registry: CollectorRegistry) -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("no response at all")

    app = WatchkeeperMiddleware(bare, registry=registry)
    client = TestClient(app, raise_server_exceptions=False)  # no lifespan: bare has none
    assert client.get("/anything").status_code == 500
    assert count(registry, "GET", UNMATCHED, 500) == 1
    labels = {"method": "GET", "route": UNMATCHED, "exception": "KeyError"}
    assert registry.get_sample_value("http_request_exceptions_total", labels) == 1


def test_status_sent_by_the_app_is_recorded(registry: CollectorRegistry) -> None:
    app = WatchkeeperMiddleware(make_api(registry), registry=registry)
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/busy").status_code == 503
        client.get("/health")
    assert count(registry, "GET", "/busy", 503) == 3
    assert count(registry, "GET", "/health", 200) == 1
    labels = {"method": "GET", "route": "/busy", "exception": "RuntimeError"}
    assert registry.get_sample_value("http_request_exceptions_total", labels) is None


def test_in_flight_is_one_during_a_request_and_zero_after(registry: CollectorRegistry) -> None:
    app = WatchkeeperMiddleware(make_api(registry), registry=registry)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/in-flight").json() == {"value": 1.0}
        client.get("/boom")
        client.get("/nowhere")
    assert registry.get_sample_value("http_requests_in_flight") == 0


def test_duration_histogram_counts_every_request(registry: CollectorRegistry) -> None:
    app = WatchkeeperMiddleware(make_api(registry), registry=registry)
    with TestClient(app) as client:
        for i in range(25):
            client.post(f"/predict/{i}", json={"x": float(i)})
    labels = {"method": "POST", "route": PREDICT}
    assert registry.get_sample_value("http_request_duration_seconds_count", labels) == 25
    total = registry.get_sample_value("http_request_duration_seconds_sum", labels)
    assert total is not None and total > 0
    inf = registry.get_sample_value(
        "http_request_duration_seconds_bucket", {**labels, "le": "+Inf"}
    )
    low = registry.get_sample_value(
        "http_request_duration_seconds_bucket", {**labels, "le": "0.005"}
    )
    assert inf == 25
    assert low is not None and low <= inf


def test_lifespan_and_websocket_pass_through_uncounted(registry: CollectorRegistry) -> None:
    api = make_api(registry)
    app = WatchkeeperMiddleware(api, registry=registry)
    with TestClient(app) as client:
        assert api.state.events == ["startup"]
        with client.websocket_connect("/ws") as socket:
            socket.send_text("ping")
            assert socket.receive_text() == "ping"
    assert api.state.events == ["startup", "shutdown"]
    assert route_labels(registry) == set()
    assert registry.get_sample_value("http_requests_in_flight") == 0


def test_exposition_parses_and_holds_every_metric(registry: CollectorRegistry) -> None:
    app = WatchkeeperMiddleware(
        make_api(registry), registry=registry, monitor=RecordingMonitor(), extract=extract_json
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/predict/m1", json={"x": 1.0})
        client.get("/boom")
    families = {
        f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())
    }
    assert families["http_request_count"].type == "counter"
    assert families["http_request_duration_seconds"].type == "histogram"
    assert families["http_requests_in_flight"].type == "gauge"
    assert families["http_request_exceptions"].type == "counter"
    assert families["watchkeeper_middleware_errors"].type == "counter"


def test_middlewares_on_one_registry_share_their_metrics(registry: CollectorRegistry) -> None:
    first = WatchkeeperMiddleware(make_api(registry), registry=registry)
    second = WatchkeeperMiddleware(make_api(registry), registry=registry)
    for app in (first, second):
        with TestClient(app) as client:
            client.get("/health")
    assert count(registry, "GET", "/health", 200) == 2


def test_namespace_prefixes_the_http_metrics(registry: CollectorRegistry) -> None:
    app = WatchkeeperMiddleware(make_api(registry), registry=registry, namespace="svc")
    with TestClient(app) as client:
        client.get("/health")
    labels = {"method": "GET", "route": "/health", "status": "200"}
    assert registry.get_sample_value("svc_http_request_count_total", labels) == 1
    assert registry.get_sample_value("http_request_count_total", labels) is None


def test_a_name_held_by_another_collector_is_a_config_error(registry: CollectorRegistry) -> None:
    Counter("http_request_count", "someone else's", ("handler",), registry=registry)
    with pytest.raises(ConfigError, match="http_request_count") as info:
        WatchkeeperMiddleware(make_api(registry), registry=registry)
    assert info.value.field == "registry"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"monitor": RecordingMonitor()}, "extract"),
        ({"extract": extract_json}, "monitor"),
        ({"monitor": object(), "extract": extract_json}, "monitor"),
        ({"monitor": RecordingMonitor(), "extract": "json"}, "extract"),
        ({"max_body_bytes": -1}, "max_body_bytes"),
        ({"max_body_bytes": 1.5}, "max_body_bytes"),
    ],
)
def test_bad_options_name_the_field(
    registry: CollectorRegistry, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError) as info:
        WatchkeeperMiddleware(make_api(registry), registry=registry, **options)
    assert info.value.field == field


# -- model logging --------------------------------------------------------------------


def test_extracted_predictions_are_logged_with_latency_and_error(
    registry: CollectorRegistry,
) -> None:
    monitor = RecordingMonitor()
    app = WatchkeeperMiddleware(
        make_api(registry), registry=registry, monitor=monitor, extract=extract_json
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/predict/m1", json={"x": 1.5}).json()["prediction"] == 3.0
        assert client.get("/health").status_code == 200
        assert client.get("/boom").status_code == 500
        assert client.get("/busy").status_code == 503
        assert client.get("/v1/items/3").status_code == 200  # extract returns None: no call
    calls = monitor.calls
    assert [(c["features"], c["outputs"], c["error"]) for c in calls] == [
        ({"x": 1.5, "model": "m1"}, 3.0, None),
        ({"x": 0.0}, None, None),
        ({"x": 0.0}, None, "RuntimeError"),
        ({"x": 0.0}, None, "http_5xx"),
    ]
    for call in calls:
        assert isinstance(call["latency"], float)
        assert 0 < call["latency"] < 10
    assert (
        registry.get_sample_value("watchkeeper_middleware_errors_total", {"stage": "extract"})
        is None
    )


def test_failing_extract_leaves_the_response_alone_and_is_counted(
    registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: bytes, response: bytes, scope: dict[str, Any]) -> tuple[Any, Any]:
        raise ZeroDivisionError("user bug")

    monitor = RecordingMonitor()
    app = WatchkeeperMiddleware(
        make_api(registry), registry=registry, monitor=monitor, extract=broken
    )
    caplog.set_level(logging.DEBUG, logger="watchkeeper.sdk")
    with TestClient(app) as client:
        for _ in range(3):
            response = client.post("/predict/m1", json={"x": 2.0})
            assert response.status_code == 200
            assert response.json() == {"model": "m1", "prediction": 4.0}
    assert monitor.calls == []
    assert (
        registry.get_sample_value("watchkeeper_middleware_errors_total", {"stage": "extract"}) == 3
    )
    assert count(registry, "POST", PREDICT, 200) == 3
    levels = [r.levelno for r in caplog.records if r.name == "watchkeeper.sdk"]
    assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert caplog.records[0].exc_info is not None


def test_extract_returning_a_wrong_shape_is_counted(registry: CollectorRegistry) -> None:
    monitor = RecordingMonitor()
    app = WatchkeeperMiddleware(
        make_api(registry),
        registry=registry,
        monitor=monitor,
        extract=lambda request, response, scope: (1, 2, 3),  # type: ignore[arg-type, return-value]
    )
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
    assert monitor.calls == []
    assert (
        registry.get_sample_value("watchkeeper_middleware_errors_total", {"stage": "extract"}) == 1
    )


def test_failing_monitor_log_leaves_the_response_alone_and_is_counted(
    registry: CollectorRegistry,
) -> None:
    class BrokenMonitor:
        def log(self, features: Any, outputs: Any = None, **_: Any) -> None:
            raise ConnectionError("collector down")

    app = WatchkeeperMiddleware(
        make_api(registry), registry=registry, monitor=BrokenMonitor(), extract=extract_json
    )
    with TestClient(app) as client:
        assert client.post("/predict/m1", json={"x": 1.0}).json()["prediction"] == 2.0
    assert registry.get_sample_value("watchkeeper_middleware_errors_total", {"stage": "log"}) == 1


@pytest.mark.parametrize(
    "body",
    [{"x": 1.0, "pad": "a" * 200}, {"x": 1.0, "reply_pad": 200}],
    ids=["request-too-large", "response-too-large"],
)
def test_bodies_over_the_limit_skip_logging_but_not_metrics(
    registry: CollectorRegistry, body: dict[str, Any]
) -> None:
    monitor = RecordingMonitor()
    app = WatchkeeperMiddleware(
        make_api(registry),
        registry=registry,
        monitor=monitor,
        extract=extract_json,
        max_body_bytes=100,
    )
    with TestClient(app) as client:
        assert client.post("/predict/m1", json=body).status_code == 200
        assert client.post("/predict/m1", json={"x": 1.0}).status_code == 200
    assert [c["features"] for c in monitor.calls] == [{"x": 1.0, "model": "m1"}]
    assert count(registry, "POST", PREDICT, 200) == 2
    assert (
        registry.get_sample_value("watchkeeper_middleware_errors_total", {"stage": "extract"})
        is None
    )


def test_real_monitor_counts_every_request_and_its_latency(registry: CollectorRegistry) -> None:
    rng = np.random.default_rng(0)
    reference = {"x": rng.normal(0, 1, 2_000), "prediction": rng.normal(0, 2, 2_000)}

    def extract(request: bytes, response: bytes, scope: dict[str, Any]) -> tuple[Any, Any]:
        return {"x": json.loads(request)["x"]}, json.loads(response)["prediction"]

    with Monitor("m", store="memory://", reference=reference, clock=ManualClock(0.0)) as monitor:
        app = WatchkeeperMiddleware(
            make_api(registry), registry=registry, monitor=monitor, extract=extract
        )
        n = 40
        with TestClient(app) as client:
            for x in rng.normal(0, 1, n):
                assert client.post("/predict/m1", json={"x": float(x)}).status_code == 200
        monitor.flush()
        assert monitor.metrics("requests")["value"].sum() == n
        latency = monitor.metrics("latency_seconds")
        assert not latency.empty
        assert (latency["value"] > 0).all()
        assert monitor.rejected_calls == 0
