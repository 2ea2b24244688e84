"""The commented collector configuration ``watchkeeper init`` writes (and the demo and
the tests start from): every top-level key, a model, notifiers and the usual rules."""

from __future__ import annotations

from watchkeeper.alerts.performance import PERFORMANCE_RULES

__all__ = ["EXAMPLE"]

EXAMPLE = """\
# watchkeeper collector configuration (watchkeeper serve --config THIS_FILE)

# Where windows, metric points, references, predictions and labels are kept.
# SQLite file (default) or PostgreSQL: postgresql+psycopg://user@host:5432/db
store: sqlite:///watchkeeper.db

# Write-ahead log: a batch is acknowledged once it is here (fsync'd); replayed at start.
wal_dir: watchkeeper-wal

# Write endpoints need one of these keys (header X-API-Key or Authorization: Bearer).
# Leave empty to accept writes from anyone who can reach the port.
api_keys: []

# This collector's name among several writing to one store (partials merge on read).
writer: collector

limits:
  max_body_bytes: 10000000     # larger bodies get 413
  max_rows_per_batch: 100000   # larger batches get 422
  max_columns_per_batch: 1000  # wider batches get 422
  max_schema_columns: 1000     # a schemaless model adopts at most this many columns
  max_queued_bytes: 256000000  # writes waiting to be applied; beyond, 429 + Retry-After
  max_model_queued_bytes: 64000000  # the same for one model
  idempotency_keys: 100000     # keys remembered so a retry is not counted twice
  idempotency_key_age: 1d      # ... for at most this long

# How malloc (glibc) holds memory, so a long-running collector stays flat: blocks from
# this size are mmap'd and given back when freed; arenas at most. null: glibc's default.
allocator:
  mmap_threshold: 131072
  arenas: 2

models:
  churn:
    version: "1"
    # reference: reference.parquet   # what normal looks like (features and outputs)
    # label: outcome                 # its ground-truth column: performance estimated early
    schema:                          # or declare the columns instead of a reference
      age: numeric
      plan: categorical
      prediction: {kind: categorical, role: output}
    window: 1m                       # tumbling window
    grace: 15s                       # wait for late rows
    rollups: [1h, 1d]                # coarser windows merged from finer ones
    retention: 7d                    # predictions kept for late labels
    max_future_skew: 5m              # rows stamped later than now + 5m are clamped
    future_rows: clamp               # ... to now + 5m; or reject them
    # max_past_age: 2d               # rows older are rejected (default: window_retention)

# Where alerts go: webhook (Alertmanager's JSON, so existing receivers work), slack,
# email (host, port, from, to) or log.
notifiers:
  - {type: log}
  # - {type: webhook, url: "http://127.0.0.1:9000/alerts"}

# Alert rules, evaluated as windows close. Fields: metric, labels (exact, "*" any,
# "~regex"), over (last N windows) + aggregate (last/avg/min/max/sum), op, threshold or
# baseline, when (a guard), for (held this long before firing), resolve_after, severity,
# summary ({label} and {value} are filled in), runbook.
rules:
  # golden signals
  - name: HighErrorRate
    metric: error_rate
    op: ">"
    threshold: 0.05
    for: 5m
    severity: critical
    summary: "error rate {value:.1%} above 5% for 5 minutes"
  - name: SlowPredictions
    metric: latency_seconds
    labels: {quantile: "0.99"}
    op: ">"
    threshold: 0.5
    for: 5m
    summary: "p99 latency {value:.3f} s above 0.5 s"
  - name: TrafficDrop
    metric: requests
    over: 5
    aggregate: avg
    op: "<"
    baseline: {over: 60, aggregate: avg, factor: 0.5}
    summary: "traffic {value:.0f}/window, under half the mean of the 60 windows before"
  - name: ServerLoad                 # saturation: log_metric("server_load", load)
    metric: custom_metric
    labels: {metric: server_load, stat: max}
    op: ">"
    threshold: 0.91
    for: 2m
    summary: "server load {value:.2f} above 0.91"
  # saturation of each service process, sampled by the SDK (Client, middleware)
  - name: HighCpu
    metric: process_cpu_utilisation
    labels: {instance_id: "*", stat: mean}
    op: ">"
    threshold: 0.9
    for: 5m
    summary: "{instance_id}: CPU {value:.0%} of its cores for 5 minutes"
  - name: MemoryGrowth
    metric: process_memory_rss_bytes
    labels: {instance_id: "*", stat: max}
    over: 15
    aggregate: min
    op: ">"
    baseline: {over: 60, aggregate: avg, factor: 1.5}
    for: 30m                         # a warming cache levels off; a leak goes on
    summary: "{instance_id}: resident memory {value:,.0f} bytes, 1.5x its mean of the hour before"
  # inputs
  - name: FeatureDrifting
    metric: feature_drifted
    labels: {feature: "*"}
    over: 2
    aggregate: min
    op: ">="
    threshold: 1
    summary: "{feature} drifted for 2 windows in a row"
  - name: DatasetDrift
    metric: dataset_drift_share
    over: 2                          # two windows: one false alarm among few features
    aggregate: min                   # would otherwise be a third of them
    op: ">"
    threshold: 0.3
    summary: "{value:.0%} of features drifted"
  - name: FeatureMissing
    metric: missing_ratio
    labels: {feature: "*"}
    op: ">"
    threshold: 0.2
    summary: "{feature} missing in {value:.0%} of rows"
  # outputs
  - name: EmptyOutputs
    metric: empty_output_ratio
    labels: {output: "*"}
    op: ">"
    threshold: 0.1
    summary: "{value:.0%} of {output} outputs are empty"
"""
EXAMPLE += PERFORMANCE_RULES  # the performance rules are the alerts package's defaults
