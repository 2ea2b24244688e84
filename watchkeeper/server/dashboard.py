"""The dashboard: server-rendered pages (Jinja2, autoescaped) whose charts (Plotly, its
JavaScript served from the installed Python package) fetch their data from the JSON API
below. Nothing is loaded from the internet.

Pages: ``/`` overview, ``/models/{model}``, ``/models/{model}/features/{feature}``,
``/alerts``. Every page takes ``range`` (1h, 1d, 7d, 30d, custom with ``since`` and
``until``), ``version`` and ``refresh`` (seconds) in its URL, so a view can be shared.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from watchkeeper import __version__
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import Monitor
from watchkeeper.server import views
from watchkeeper.server.collector import Collector

__all__ = ["add_dashboard"]

ASSETS = Path(__file__).resolve().parent.parent / "dashboard"
_STATIC = {
    "dashboard.js": (ASSETS / "static" / "dashboard.js", "text/javascript"),
    "charts.js": (ASSETS / "static" / "charts.js", "text/javascript"),
    "dashboard.css": (ASSETS / "static" / "dashboard.css", "text/css"),
}
_REFRESH = (0, 30, 60, 300)
_SERIES_LIMIT = 40
"""Names per ``/series`` request: enough for any page, bounded for the server."""


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def add_dashboard(app: FastAPI, get: Callable[[], Collector]) -> None:
    """Mount the pages, their static files and their JSON endpoints on ``app``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ASSETS / "templates"),
        autoescape=True,  # every name and value on a page is escaped
        undefined=jinja2.StrictUndefined,
    )

    def resolve(
        c: Collector, model: str, name: str, since: float | None, until: float | None
    ) -> views.TimeRange:
        monitor = c.monitor(model)  # unknown model: 404 through the app's handler
        try:
            return views.time_range(monitor, name, since, until, now=c.clock.now())
        except ValueError as exc:
            raise _BadQuery(str(exc)) from exc

    def render(template: str, request: Request, **page: Any) -> HTMLResponse:
        c = get()
        params = request.query_params
        rng = params.get("range", "1d")
        refresh = params.get("refresh", "0")
        context = {
            "version": __version__,
            "models": sorted(c.monitors),
            "ranges": [*views.RANGES, "custom"],
            "range": rng if rng in (*views.RANGES, "custom") else "1d",
            "refresh_choices": _REFRESH,
            "refresh": int(refresh) if refresh.isdigit() else 0,
            "query": dict(params),
            "page": page,
        }
        return HTMLResponse(env.get_template(template).render(**context))

    @app.exception_handler(_BadQuery)
    async def _bad_query(_r: Request, exc: _BadQuery) -> JSONResponse:
        return JSONResponse({"error": {"path": "query", "message": str(exc)}}, 422)

    # -- pages ----------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview_page(request: Request) -> HTMLResponse:
        return render("overview.html", request, kind="overview")

    @app.get("/models/{model}", response_class=HTMLResponse, include_in_schema=False)
    def model_page(request: Request, model: str) -> HTMLResponse:
        m = get().monitor(model)  # unknown model: 404 through the app's handler
        features = _columns(m, "feature")
        outputs = _columns(m, "output")
        return render(
            "model.html",
            request,
            kind="model",
            model=model,
            current_version=m.version,
            versions=_versions(get(), model),
            features=features,
            outputs=outputs,
            window_seconds=m.window_seconds,
        )

    @app.get(
        "/models/{model}/features/{feature:path}",
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def feature_page(request: Request, model: str, feature: str) -> HTMLResponse:
        m = get().monitor(model)
        columns = [*_columns(m, "feature"), *_columns(m, "output")]
        if m.schema is not None and feature not in columns:
            raise ConfigError(
                f"feature {feature!r}: not in the schema of {model!r}",
                field="model",  # 404, like an unknown model
                value=feature,
                expected=", ".join(columns),
            )
        return render(
            "feature.html",
            request,
            kind="feature",
            model=model,
            feature=feature,
            role="output" if feature in _columns(m, "output") else "feature",
            current_version=m.version,
            versions=_versions(get(), model),
        )

    @app.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
    def alerts_page(request: Request) -> HTMLResponse:
        return render("alerts.html", request, kind="alerts")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name == "plotly.min.js":
            path, media = _plotly_js(), "text/javascript"
        elif name in _STATIC:
            path, media = _STATIC[name]
        else:
            raise ConfigError(f"static file {name!r}: not found", field="model", value=name)
        return FileResponse(path, media_type=media, headers={"Cache-Control": "max-age=3600"})

    # -- JSON for the pages ---------------------------------------------------------

    @app.get("/v1/overview", tags=["dashboard"])
    def overview(
        range: str = "1d",
    ) -> dict[str, Any]:
        """Every model: version, health per family (software, inputs, outputs,
        performance: ``ok``, ``warn`` (pending alert), ``alert`` (firing), ``none`` (no
        data)), firing alerts, and sparklines of traffic, p99 latency, error rate and
        dataset drift share over the range."""
        c = get()
        out = []
        for name in sorted(c.monitors):
            rng = resolve(c, name, range, None, None)
            out.append({**views.model_health(c, name, rng), "range": _range_json(rng)})
        return {"models": out}

    @app.get("/v1/models/{model}/series", tags=["dashboard"])
    def get_series(
        model: str,
        name: list[str] = Query(default=[]),  # noqa: B008 - FastAPI's idiom
        range: str = "1d",
        since: float | None = None,
        until: float | None = None,
        version: str | None = None,
        label: list[str] = Query(default=[]),  # noqa: B008
        latest: int = 0,
    ) -> Response:
        """Series of metric points for charts: one per name, version and label set, as
        parallel arrays ``t`` (window starts, epoch s) and ``v``. ``version`` empty or
        ``*`` means every version; ``latest=N`` keeps only the range's last N windows."""
        c = get()
        if not name or len(name) > _SERIES_LIMIT:
            raise _BadQuery(f"name: expected 1 to {_SERIES_LIMIT} metric names, got {len(name)}")
        rng = resolve(c, model, range, since, until)
        if latest > 0:  # only the range's last `latest` windows
            since = max(rng.since, rng.until - latest * rng.window_seconds)
            rng = views.TimeRange(rng.name, since, rng.until, rng.window_seconds)
        labels = {}
        for item in label:
            k, sep, v = item.partition(":")
            if not sep or not k:
                raise _BadQuery(f"label: {item!r} is not key:value")
            labels[k] = v
        chosen = None if version in (None, "", "*") else version
        data = views.series(c.monitor(model), name, rng, version=chosen, labels=labels)
        body = {"model": model, "range": _range_json(rng), "series": data}
        # tens of thousands of floats: json.dumps directly is ~10x faster than FastAPI's
        # generic encoder (values are finite or None already)
        return Response(json.dumps(body, allow_nan=False), media_type="application/json")

    @app.get("/v1/models/{model}/features/{feature:path}/distribution", tags=["dashboard"])
    def get_distribution(
        model: str,
        feature: str,
        range: str = "1d",
        since: float | None = None,
        until: float | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        """Reference vs current shares of rows per reference bin (numeric) or category,
        the current side merged over the range's stored windows (the last 48)."""
        c = get()
        rng = resolve(c, model, range, since, until)
        chosen = None if version in (None, "", "*") else version
        data = views.distribution(c.monitor(model), feature, rng, version=chosen)
        return {"model": model, "range": _range_json(rng), **_finite(data)}


class _BadQuery(Exception):
    """A query parameter the dashboard endpoints cannot use (422)."""


def _columns(m: Monitor, role: str) -> list[str]:
    return [col.name for col in m.schema.columns if col.role == role] if m.schema else []


def _versions(c: Collector, model: str) -> list[str]:
    return [v.version for v in c.store.versions(model)]


def _range_json(rng: views.TimeRange) -> dict[str, Any]:
    return {
        "name": rng.name,
        "since": rng.since,
        "until": rng.until,
        "window_seconds": rng.window_seconds,
    }


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
