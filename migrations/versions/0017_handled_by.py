"""Metrics that survive transfers (issue 18): when a conversation was first taken by anyone
(``conversations.first_claimed_at``), and everyone who held it (``conversation_handlers``).

Back-filled from what is known: a conversation's first claim is its earliest ``claimed`` event,
else its ``claimed_at``; its handlers are whoever claimed it, whoever it was transferred,
reassigned or taken over to (events whose details were erased say nothing more), and whoever
holds it or last held it (``advocate_id``), each from the first time the record shows them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 18:10:00
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

# Read and written through the models' type: SQLite keeps no zone, and times must compare.
from hotline.db.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Event kinds that gave a conversation to someone, and where each names them.
_TO_STAFF = ("reassigned", "taken_over")


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_claimed_at", sa.DateTime(timezone=True), nullable=True)
        )
    handlers = op.create_table(
        "conversation_handlers",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("conversation_id", "staff_id"),
    )
    op.create_index(
        "ix_conversation_handlers_staff_id", "conversation_handlers", ["staff_id"], unique=False
    )
    _back_fill(op.get_bind(), handlers)


def _back_fill(connection: sa.Connection, handlers: sa.Table) -> None:
    conversations = sa.table(
        "conversations",
        sa.column("id", sa.Integer()),
        sa.column("advocate_id", sa.Integer()),
        sa.column("claimed_at", UTCDateTime()),
        sa.column("opened_at", UTCDateTime()),
        sa.column("first_claimed_at", UTCDateTime()),
    )
    events = sa.table(
        "events",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("conversation_id", sa.Integer()),
        sa.column("actor_id", sa.Integer()),
        sa.column("created_at", UTCDateTime()),
    )
    details = sa.table(
        "event_details", sa.column("event_id", sa.Integer()), sa.column("detail", sa.JSON())
    )
    staff = sa.table("staff_users", sa.column("id", sa.Integer()), sa.column("email", sa.String()))
    by_email = {email: staff_id for staff_id, email in connection.execute(sa.select(staff))}
    known = set(by_email.values())
    first_claim: dict[int, datetime] = {}
    held: dict[tuple[int, int], datetime] = {}

    def credit(conversation_id: int, staff_id: Any, at: datetime) -> None:
        if not isinstance(staff_id, int) or staff_id not in known:
            return
        key = (conversation_id, staff_id)
        held[key] = min(held.get(key, at), at)

    found = connection.execute(
        sa.select(
            events.c.kind, events.c.conversation_id, events.c.actor_id, events.c.created_at,
            details.c.detail,
        )
        .select_from(events.outerjoin(details, details.c.event_id == events.c.id))
        .where(
            events.c.conversation_id.is_not(None),
            events.c.kind.in_(("claimed", "transferred", *_TO_STAFF)),
        )
    )  # fmt: skip
    for kind, conversation_id, actor_id, at, detail in found:
        detail = detail or {}
        if kind == "claimed":
            first_claim[conversation_id] = min(first_claim.get(conversation_id, at), at)
            credit(conversation_id, actor_id, at)
        elif kind == "transferred":
            to_staff = detail.get("to_staff")  # newer events; older ones name an email
            credit(conversation_id, to_staff or by_email.get(str(detail.get("to"))), at)
        else:
            credit(conversation_id, detail.get("to_staff"), at)
    rows = connection.execute(
        sa.select(
            conversations.c.id, conversations.c.advocate_id, conversations.c.claimed_at,
            conversations.c.opened_at,
        ).where(conversations.c.claimed_at.is_not(None) | conversations.c.advocate_id.is_not(None))
    ).all()  # fmt: skip
    for conversation_id, advocate_id, claimed_at, opened_at in rows:
        first = min(filter(None, (first_claim.get(conversation_id), claimed_at)), default=None)
        if first is not None:
            first_claim[conversation_id] = first
        # The holder took it at their claim, transfer or (before 0017, the first) claim time.
        credit(conversation_id, advocate_id, claimed_at or first or opened_at)
    for conversation_id, at in first_claim.items():
        connection.execute(
            sa.update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(first_claimed_at=at)
        )
    if held:
        connection.execute(
            sa.insert(handlers),
            [
                {"conversation_id": c, "staff_id": s, "first_at": at}
                for (c, s), at in sorted(held.items())
            ],
        )


def downgrade() -> None:
    op.drop_index("ix_conversation_handlers_staff_id", table_name="conversation_handlers")
    op.drop_table("conversation_handlers")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("first_claimed_at")
