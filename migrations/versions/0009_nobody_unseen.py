"""What the worker needs so that nobody in danger is left unseen: when an emergency was first
and last reported and guidance last sent, whether a minor is mentioned, and what the queue has
told a waiting texter lately (so unprompted texts stay few)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emergency_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("guidance_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("minor", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("told_position", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("unprompted_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("unprompted_since", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        for column in (
            "unprompted_since",
            "unprompted_count",
            "told_position",
            "acknowledged_at",
            "minor",
            "guidance_at",
            "emergency_at",
        ):
            batch_op.drop_column(column)
