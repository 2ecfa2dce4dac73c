"""When each staff member's console last polled: who is really connected (issue 13)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("console_seen_at", sa.DateTime(timezone=True), nullable=True))
    # Until now every console request refreshed its session: the newest live session is the best
    # guess of the last poll. Without it an advocate at work during the upgrade would look gone
    # to the first presence check, and their texters would be moved for nothing.
    op.execute(
        "UPDATE staff_users SET console_seen_at = ("
        " SELECT max(staff_sessions.last_seen_at) FROM staff_sessions"
        " WHERE staff_sessions.user_id = staff_users.id AND staff_sessions.ended_at IS NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("console_seen_at")
