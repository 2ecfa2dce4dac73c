"""A starting tag list: advocates may use only the tags on the list, so it must not be empty

Tags already on the list (from conversations, see 0006) are left as they are.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STARTING_TAGS = (
    "labor",
    "sex",
    "minor",
    "domestic violence",
    "immigration",
    "shelter",
    "legal",
    "medical",
    "follow up",
)
tags = sa.table(
    "tags",
    sa.column("name", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    present = set(op.get_bind().execute(sa.select(tags.c.name)).scalars())
    now = datetime.now(UTC)
    rows = [
        {"name": name, "active": True, "created_at": now}
        for name in STARTING_TAGS
        if name not in present
    ]
    if rows:
        op.bulk_insert(tags, rows)


def downgrade() -> None:
    # Tags a conversation carries stay: they belong to the list 0006 made from conversations.
    conversation_tags = sa.table("conversation_tags", sa.column("tag", sa.String))
    op.execute(
        tags.delete().where(
            tags.c.name.in_(STARTING_TAGS),
            ~sa.exists().where(conversation_tags.c.tag == tags.c.name),
        )
    )
