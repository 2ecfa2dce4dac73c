"""Each text read once (issue 17): what a conversation's texts said of risk so far is kept on
the conversation, encrypted, so a new text is read alone instead of with every text before it.

Empty for every conversation to begin with: the worker reads a conversation's texts again the
first time one of them comes in after this (``hotline.services.triage.Triage.reassess``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("risk_findings_ciphertext", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("risk_findings_ciphertext")
