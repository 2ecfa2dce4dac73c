"""Who needs me now (issue 18): an advocate's hold on each conversation they held, so the
console can count unread texts, alert on what concerns them, and explain a conversation taken
from them until they dismiss it.

Empty at first: the console opens a row for each conversation it finds held.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holdings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("came_how", sa.String(24), nullable=False),
        sa.Column("read_through", sa.Integer(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_how", sa.String(24), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("wrapped_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["staff_users.id"], name="fk_holdings_advocate_id_staff_users"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_holdings_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["staff_users.id"], name="fk_holdings_ended_by_id_staff_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_holdings"),
    )
    op.create_index(
        "uq_holdings_advocate_conversation",
        "holdings",
        ["advocate_id", "conversation_id"],
        unique=True,
    )
    op.create_index("ix_holdings_conversation_id", "holdings", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_holdings_conversation_id", table_name="holdings")
    op.drop_index("uq_holdings_advocate_conversation", table_name="holdings")
    op.drop_table("holdings")
