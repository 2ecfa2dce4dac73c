"""erasure: when a texter asked to be erased (their number goes once nothing is left to send)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:18:20.043865
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("texters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erasure_requested_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("texters", schema=None) as batch_op:
        batch_op.drop_column("erasure_requested_at")
