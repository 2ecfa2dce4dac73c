"""first_reply_at on conversations: the advocate's first reply, for metrics without a scan

Filled for existing conversations from their messages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE conversations SET first_reply_at = ("
        " SELECT min(messages.created_at) FROM messages"
        " WHERE messages.conversation_id = conversations.id AND messages.author_id IS NOT NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("first_reply_at")
