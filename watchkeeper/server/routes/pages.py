"""The dashboard's pages: server-rendered (Jinja2, autoescaped), their charts (Plotly,
its JavaScript served from the installed Python package) fetching their data from the
JSON endpoints of :mod:`~watchkeeper.server.routes.page_data`. Nothing is loaded from
the internet.

Pages: ``/`` overview, ``/models/{model}``, ``/models/{model}/features/{feature}``,
``/alerts``. Every page takes ``range`` (1h, 1d, 7d, 30d, custom with ``since`` and
``until``), ``version`` and ``refresh`` (seconds) in its URL, so a view can be shared.
Templates and static files are package data of :mod:`watchkeeper.assets`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from watchkeeper import __version__, assets
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import Monitor
from watchkeeper.server import views
from watchkeeper.server.deps import ServiceDep
from watchkeeper.service import Service

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_STATIC = {
    "dashboard.js": "text/javascript",
    "charts.js": "text/javascript",
    "segments.js": "text/javascript",
    "dashboard.css": "text/css",
}
_CACHE = {"Cache-Control": "max-age=3600"}
_REFRESH = (0, 30, 60, 300)
_ENV = jinja2.Environment(
    loader=jinja2.FunctionLoader(assets.template_source),
    autoescape=True,  # every name and value on a page is escaped
    undefined=jinja2.StrictUndefined,
)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def _columns(m: Monitor, role: str) -> list[str]:
    return [col.name for col in m.schema.columns if col.role == role] if m.schema else []


def _versions(service: Service, model: str) -> list[str]:
    return [v.version for v in service.store.versions(model)]


def _render(template: str, request: Request, service: Service, **page: Any) -> HTMLResponse:
    params = request.query_params
    rng = params.get("range", "1d")
    refresh = params.get("refresh", "0")
    context = {
        "version": __version__,
        "models": sorted(service.monitors),
        "ranges": [*views.RANGES, "custom"],
        "range": rng if rng in (*views.RANGES, "custom") else "1d",
        "refresh_choices": _REFRESH,
        # a few digits at most: int() of 4,300+ digits raises (a 500 before)
        "refresh": int(refresh) if refresh.isdigit() and len(refresh) <= 6 else 0,
        "query": dict(params),
        "page": page,
    }
    return HTMLResponse(_ENV.get_template(template).render(**context))


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, service: ServiceDep) -> HTMLResponse:
    return _render("overview.html", request, service, kind="overview")


@router.get("/models/{model}", response_class=HTMLResponse)
def model_page(request: Request, model: str, service: ServiceDep) -> HTMLResponse:
    m = service.monitor(model)  # unknown model: 404 through the app's handler
    return _render(
        "model.html",
        request,
        service,
        kind="model",
        model=model,
        current_version=m.version,
        versions=_versions(service, model),
        features=_columns(m, "feature"),
        outputs=_columns(m, "output"),
        window_seconds=m.window_seconds,
    )


@router.get("/models/{model}/features/{feature:path}", response_class=HTMLResponse)
def feature_page(request: Request, model: str, feature: str, service: ServiceDep) -> HTMLResponse:
    m = service.monitor(model)
    columns = [*_columns(m, "feature"), *_columns(m, "output")]
    if m.schema is not None and feature not in columns:
        raise ConfigError(
            f"feature {feature!r}: not in the schema of {model!r}",
            field="model",  # 404, like an unknown model
            value=feature,
            expected=", ".join(columns),
        )
    return _render(
        "feature.html",
        request,
        service,
        kind="feature",
        model=model,
        feature=feature,
        role="output" if feature in _columns(m, "output") else "feature",
        current_version=m.version,
        versions=_versions(service, model),
        window_seconds=m.window_seconds,
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, service: ServiceDep) -> HTMLResponse:
    return _render("alerts.html", request, service, kind="alerts")


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name == "plotly.min.js":
        return FileResponse(_plotly_js(), media_type="text/javascript", headers=_CACHE)
    if name not in _STATIC:
        raise ConfigError(f"static file {name!r}: not found", field="model", value=name)
    # read as package data (not by path), so it is found however watchkeeper is installed
    return Response(assets.read_bytes("static", name), media_type=_STATIC[name], headers=_CACHE)
