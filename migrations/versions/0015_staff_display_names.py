"""Names, not numbers (issue 18): a staff member's display name, shown to staff everywhere in
place of an email or an id, and whose first word is the name a texter is told.

Empty for existing accounts: until an administrator or the person sets one, staff are shown by
their email's local part and texters are told no name.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("display_name")
