"""Silences: notifications held back by label matchers until an expiry.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DOUBLE = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "wk_silences",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("matchers", sa.Text, nullable=False),
        sa.Column("ends_at", DOUBLE, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", DOUBLE, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wk_silences")
