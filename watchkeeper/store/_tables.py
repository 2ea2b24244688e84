"""The SQL tables, as SQLAlchemy Core objects for queries (the migrations create them)."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["METADATA", "TABLES"]

METADATA = sa.MetaData()
DOUBLE = sa.Float(precision=53)

versions = sa.Table(
    "wk_versions",
    METADATA,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("schema_json", sa.Text, nullable=False),
    sa.Column("created_at", DOUBLE, nullable=False),
)

references = sa.Table(
    "wk_references",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("created_at", DOUBLE, nullable=False),
    sa.Column("profile", sa.LargeBinary, nullable=False),
)

windows = sa.Table(
    "wk_windows",
    METADATA,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("seconds", DOUBLE, primary_key=True),
    sa.Column("start", DOUBLE, primary_key=True),
    sa.Column("writer", sa.Text, primary_key=True),
    sa.Column("blob", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", DOUBLE, nullable=False),
)

points = sa.Table(
    "wk_points",
    METADATA,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("window_seconds", DOUBLE, primary_key=True),
    sa.Column("window_start", DOUBLE, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("labels", sa.Text, primary_key=True),
    sa.Column("value", DOUBLE, nullable=True),  # NULL stands for NaN (SQLite has no NaN)
    sa.Column("reference_id", sa.Integer, nullable=True),
    sa.Column("computed_at", DOUBLE, nullable=False),
)

predictions = sa.Table(
    "wk_predictions",
    METADATA,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("ts", DOUBLE, nullable=False),
    sa.Column("prediction", sa.Text, nullable=True),
    sa.Column("score", DOUBLE, nullable=True),
    sa.Column("segment", sa.Text, nullable=True),
    sa.Index("wk_predictions_time", "model", "version", "ts"),
)

labels = sa.Table(
    "wk_labels",
    METADATA,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("ts", DOUBLE, nullable=False),
)

alerts = sa.Table(
    "wk_alerts",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("started_at", DOUBLE, nullable=False),
    sa.Column("resolved_at", DOUBLE, nullable=True),
    sa.Column("evidence", sa.Text, nullable=False),
)

silences = sa.Table(
    "wk_silences",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("matchers", sa.Text, nullable=False),
    sa.Column("ends_at", DOUBLE, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", DOUBLE, nullable=False),
)

TABLES = (versions, references, windows, points, predictions, labels, alerts, silences)
