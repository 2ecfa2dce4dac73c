"""triage: the machine's state, answers, risk, queue and timers on conversations

Conversations from before triage existed were acknowledged and left waiting: open ones join the
queue (from when they opened), closed ones end.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:43:19.003909
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)
_QUEUE = sa.text("state IN ('queued', 'queue_check_in')")
_TIMER = sa.text("timer_due_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="en")
        )
        batch_op.add_column(sa.Column("reasks", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("timer", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("timer_due_at", _WHEN, nullable=True))
        batch_op.add_column(
            sa.Column("returning_texter", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("in_danger", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("safe_to_text", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("needs_ciphertext", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("location_ciphertext", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("risk_score", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("risk_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("survey_score", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("last_texter_at", _WHEN, nullable=True))
        batch_op.add_column(sa.Column("queued_at", _WHEN, nullable=True))
        batch_op.add_column(sa.Column("claimed_at", _WHEN, nullable=True))
        batch_op.create_index(
            "ix_conversations_queue",
            ["priority", "queued_at"],
            unique=False,
            postgresql_where=_QUEUE,
            sqlite_where=_QUEUE,
        )
        batch_op.create_index(
            "ix_conversations_timer_due_at",
            ["timer_due_at"],
            unique=False,
            postgresql_where=_TIMER,
            sqlite_where=_TIMER,
        )
    op.execute(
        "UPDATE conversations SET state = 'queued', queued_at = opened_at "
        "WHERE status = 'open' AND state NOT IN ('new', 'await_danger', 'await_safety', "
        "'await_needs', 'await_location', 'queued', 'queue_check_in', 'with_advocate', "
        "'survey', 'ended')"
    )
    op.execute("UPDATE conversations SET state = 'ended' WHERE status = 'closed'")


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_conversations_timer_due_at", postgresql_where=_TIMER, sqlite_where=_TIMER
        )
        batch_op.drop_index("ix_conversations_queue", postgresql_where=_QUEUE, sqlite_where=_QUEUE)
        for column in (
            "claimed_at", "queued_at", "last_texter_at", "close_reason", "survey_score",
            "risk_reasons", "risk_score", "location_ciphertext", "needs_ciphertext",
            "safe_to_text", "in_danger", "returning_texter", "timer_due_at", "timer", "reasks",
            "language",
        ):  # fmt: skip
            batch_op.drop_column(column)
