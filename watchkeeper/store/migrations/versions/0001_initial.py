"""Initial tables: versions, references, windows, points, predictions, labels, alerts.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DOUBLE = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "wk_versions",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("schema_json", sa.Text, nullable=False),
        sa.Column("created_at", DOUBLE, nullable=False),
    )
    op.create_table(
        "wk_references",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("created_at", DOUBLE, nullable=False),
        sa.Column("profile", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "wk_windows",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("seconds", DOUBLE, primary_key=True),
        sa.Column("start", DOUBLE, primary_key=True),
        sa.Column("writer", sa.Text, primary_key=True),
        sa.Column("blob", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", DOUBLE, nullable=False),
    )
    op.create_table(
        "wk_points",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("window_seconds", DOUBLE, primary_key=True),
        sa.Column("window_start", DOUBLE, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("labels", sa.Text, primary_key=True),
        sa.Column("value", DOUBLE, nullable=True),
        sa.Column("reference_id", sa.Integer, nullable=True),
        sa.Column("computed_at", DOUBLE, nullable=False),
    )
    op.create_table(
        "wk_predictions",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("ts", DOUBLE, nullable=False),
        sa.Column("prediction", sa.Text, nullable=True),
        sa.Column("score", DOUBLE, nullable=True),
    )
    op.create_index("wk_predictions_time", "wk_predictions", ["model", "version", "ts"])
    op.create_table(
        "wk_labels",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("ts", DOUBLE, nullable=False),
    )
    op.create_table(
        "wk_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("started_at", DOUBLE, nullable=False),
        sa.Column("resolved_at", DOUBLE, nullable=True),
        sa.Column("evidence", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "wk_alerts",
        "wk_labels",
        "wk_predictions",
        "wk_points",
        "wk_windows",
        "wk_references",
        "wk_versions",
    ):
        op.drop_table(table)
