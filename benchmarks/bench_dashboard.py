"""Dashboard benchmark: how long a model page takes with 30 days of hourly windows for
50 features (the issue's bound: under one second).

A SQLite store gets 720 hourly windows x ~560 metric points (every point the model page
reads: drift statistic/threshold/p-value/verdict and data quality per feature, latency
quantiles, traffic, errors, output quantiles, performance, label coverage). A real
``watchkeeper serve`` app (uvicorn in a thread, loopback HTTP) then answers what a
browser asks for one model page over "last 30 days": the HTML, its three ``/series``
requests and ``/v1/alerts``, one after the other (a browser sends them in parallel, so
this is an upper bound). Baseline: ``sqlite3`` reading the same rows with no decoding.

Run: ``python benchmarks/bench_dashboard.py``
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import uvicorn

from watchkeeper.server.app import create_app
from watchkeeper.service import Service
from watchkeeper.service.config import parse_config
from watchkeeper.store import open_store
from watchkeeper.store.base import MetricPoint

FEATURES = [f"f{i:02d}" for i in range(50)]
WINDOWS = 30 * 24
HOUR = 3600.0
PER_FEATURE = ["feature_drift", "feature_drift_threshold", "feature_drift_p_value"]
PER_FEATURE += ["feature_drifted", "missing_ratio", "type_errors", "mean", "std"]
PER_FEATURE += ["out_of_range_share", "new_category_share"]
MODEL_PAGE = [  # the model page's requests (dashboard.js modelPage)
    [
        "latency_seconds",
        "throughput_per_second",
        "error_rate",
        "custom_metric",
        "output_quantile",
        "empty_output_ratio",
        "dataset_drift_share",
        "label_coverage",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "mae",
        "rmse",
        "r2",
        "estimated_accuracy",
        "estimated_precision",
        "estimated_recall",
        "estimated_f1",
    ],
    ["feature_drifted", "feature_drift"],
    ["missing_ratio", "type_errors", "out_of_range_share", "new_category_share", "feature_drifted"],
]


def window_points(start: float, rng: np.random.Generator) -> list[MetricPoint]:
    def p(name: str, value: float, **labels: str) -> MetricPoint:
        return MetricPoint("m", "1", start, HOUR, name, value, labels, 1)

    out = [p(n, float(rng.random()), feature=f, method="jensen_shannon")
           for f in FEATURES for n in PER_FEATURE[:4]]  # fmt: skip
    out += [p(n, float(rng.random()), feature=f) for f in FEATURES for n in PER_FEATURE[4:]]
    out += [p("latency_seconds", float(rng.random()), quantile=q) for q in ("0.5", "0.95", "0.99")]
    out += [p("output_quantile", float(rng.random()), output="score", quantile=str(q))
            for q in (0.05, 0.25, 0.5, 0.75, 0.95)]  # fmt: skip
    out += [p("custom_metric", float(rng.random()), metric="server_load", stat=s)
            for s in ("count", "mean", "min", "max")]  # fmt: skip
    for name in ["requests", "throughput_per_second", "errors", "error_rate"]:
        out.append(p(name, float(rng.random())))
    for name in ["accuracy", "precision", "recall", "f1", "roc_auc", "label_coverage"]:
        out.append(p(name, float(rng.random())))
    for name in ["estimated_accuracy", "estimated_f1", "dataset_drift_share"]:
        out.append(p(name, float(rng.random())))
    out.append(p("empty_output_ratio", float(rng.random()), output="score"))
    return out


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'wk.db'}"
    store = open_store(url)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    first = (time.time() // HOUR - WINDOWS) * HOUR
    n_points = 0
    for w in range(WINDOWS):
        points = window_points(first + w * HOUR, rng)
        store.write_points(points, now=time.time())
        n_points += len(points)
    store.close()
    print(f"store: {WINDOWS} hourly windows x {n_points // WINDOWS} points = {n_points:,} "
          f"points written in {time.perf_counter() - t0:.1f} s")  # fmt: skip

    schema = {f: "numeric" for f in FEATURES}
    cfg = parse_config(
        {
            "store": url,
            "wal_dir": str(tmp / "wal"),
            "models": {"m": {"schema": schema, "window": "1h", "rollups": ["1d"]}},
        }
    )
    collector = Service(cfg)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(cfg, service=collector), host="127.0.0.1", port=18731, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = "http://127.0.0.1:18731"
    with httpx.Client(base_url=base, timeout=60) as client:
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        totals = []
        for run in range(5):
            timings = {}
            t_page = time.perf_counter()
            t = time.perf_counter()
            assert client.get("/models/m", params={"range": "30d"}).status_code == 200
            timings["html"] = time.perf_counter() - t
            rows = 0
            for i, names in enumerate(MODEL_PAGE):
                t = time.perf_counter()
                params: dict[str, object] = {"name": names, "range": "30d", "version": "*"}
                if i == 2:
                    params["latest"] = "6"
                r = client.get("/v1/models/m/series", params=params)
                timings[f"series{i + 1}"] = time.perf_counter() - t
                rows += sum(len(s["t"]) for s in r.json()["series"])
            t = time.perf_counter()
            client.get("/v1/alerts", params={"model": "m"})
            timings["alerts"] = time.perf_counter() - t
            total = time.perf_counter() - t_page
            totals.append(total)
            detail = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items())
            print(f"model page, last 30 days, run {run + 1}: {total * 1000:.0f} ms "
                  f"({rows:,} points; {detail})")  # fmt: skip
    print(f"model page median: {sorted(totals)[2] * 1000:.0f} ms (bound: 1,000 ms)")
    server.should_exit = True
    thread.join(timeout=10)
    collector.close()

    names = sorted({n for group in MODEL_PAGE for n in group})
    t = time.perf_counter()
    with sqlite3.connect(tmp / "wk.db") as db:
        marks = ",".join("?" * len(names))
        got = db.execute(
            f"SELECT window_start, name, labels, value FROM wk_points "
            f"WHERE model = 'm' AND name IN ({marks})",
            names,
        ).fetchall()
    print(f"baseline: sqlite3 reads the same {len(got):,} rows (no decoding) in "
          f"{(time.perf_counter() - t) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
