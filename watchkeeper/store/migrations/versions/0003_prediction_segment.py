"""Kept predictions carry their segments, for performance per segment.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("wk_predictions", sa.Column("segment", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wk_predictions") as batch:  # SQLite cannot drop in place
        batch.drop_column("segment")
