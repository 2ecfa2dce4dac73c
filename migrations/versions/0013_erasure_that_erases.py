"""Erasure that really erases (issue 16): the events' values move out of the append-only log
into ``event_details``, where erasure and the retention purge reach them; staff members' stated
reasons are encrypted there; opted-out numbers are kept apart, as bare hashes; and texters
erased or forgotten before this release are erased as today's erasure would.

The append-only ``events`` table cannot be updated, even by this migration's role through the
app's path: the values are copied out first, then the ``detail`` column is dropped (DDL, which
the row triggers do not see), so no row is ever rewritten. Run by ``hotline db upgrade``, which
supplies the data keys: a stated reason found in the old rows is encrypted with them, and the
migration refuses to run without them when there is one.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 02:00:00
"""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa
from alembic import context, op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 2000
# Kinds whose "reason" was a staff member's free text (an erasure's was a code unless a
# supervisor, an actor, asked for it).
REASONED_KINDS = ("number_revealed", "export")


def upgrade() -> None:
    if context.config.attributes.get("vault") is None and _stated_reasons_in_the_log():
        raise RuntimeError(
            "the event log holds staff members' stated reasons, which this migration "
            "encrypts: run it with `hotline db upgrade`, which supplies HOTLINE_DATA_KEYS"
        )
    op.create_table(
        "event_details",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("texter_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("reason_ciphertext", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_details_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_event_details_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["texter_id"], ["texters.id"], name=op.f("fk_event_details_texter_id_texters")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_details")),
    )
    op.create_index(op.f("ix_event_details_conversation_id"), "event_details", ["conversation_id"])
    op.create_index(op.f("ix_event_details_texter_id"), "event_details", ["texter_id"])
    op.create_table(
        "opted_out_numbers",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("phone_hash", name=op.f("pk_opted_out_numbers")),
    )
    _move_details_out_of_the_log()
    # DDL, not an UPDATE: the append-only triggers are row triggers, and no row is rewritten.
    op.execute("ALTER TABLE events DROP COLUMN detail")
    _erase_the_erased()


def _move_details_out_of_the_log() -> None:
    connection = op.get_bind()
    vault = context.config.attributes.get("vault")
    events = sa.table(
        "events",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("conversation_id", sa.Integer()),
        sa.column("texter_id", sa.Integer()),
        sa.column("actor_id", sa.Integer()),
        sa.column("detail", sa.JSON()),
    )
    details = sa.table(
        "event_details",
        sa.column("event_id", sa.Integer()),
        sa.column("conversation_id", sa.Integer()),
        sa.column("texter_id", sa.Integer()),
        sa.column("detail", sa.JSON()),
        sa.column("reason_ciphertext", sa.LargeBinary()),
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(events).where(events.c.id > after).order_by(events.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        moved = []
        for row in rows:
            detail = row.detail if isinstance(row.detail, dict) else json.loads(row.detail or "{}")
            detail = dict(detail)
            reason = None
            if row.kind in REASONED_KINDS:
                reason = detail.pop("reason", None)
            elif row.kind == "texter_erased":
                # A code ("safe_word", "texter_request") unless a supervisor gave it.
                reason = detail.pop("reason", None)
                detail["by"] = "supervisor" if row.actor_id is not None else str(reason)
                if row.actor_id is None:
                    reason = None
            sealed = vault.encrypt(reason) if reason else None
            if detail or sealed is not None:
                moved.append(
                    {
                        "event_id": row.id,
                        "conversation_id": row.conversation_id,
                        "texter_id": row.texter_id,
                        "detail": detail or None,
                        "reason_ciphertext": sealed,
                    }
                )
        if moved:
            connection.execute(details.insert(), moved)
        after = rows[-1].id


def _stated_reasons_in_the_log() -> bool:
    found = op.get_bind().execute(
        sa.text(
            "SELECT 1 FROM events WHERE (kind IN ('number_revealed', 'export') OR"
            " (kind = 'texter_erased' AND actor_id IS NOT NULL)) LIMIT 1"
        )
    )
    return found.first() is not None


def _erase_the_erased() -> None:
    """What today's erasure clears, for texters erased before it did, and for texters whose
    number the purge dropped (today it replaces their hash too)."""
    connection = op.get_bind()
    forgotten = connection.execute(
        sa.text(
            "SELECT id, phone_hash, opted_out_at FROM texters "
            "WHERE erasure_requested_at IS NOT NULL OR phone_ciphertext IS NULL"
        )
    ).all()
    for texter_id, phone_hash, opted_out_at in forgotten:
        if opted_out_at is not None:
            connection.execute(
                sa.text("INSERT INTO opted_out_numbers (phone_hash) VALUES (:hash)"),
                {"hash": phone_hash},
            )
        connection.execute(
            sa.text("UPDATE texters SET phone_hash = :new, opted_out_at = NULL WHERE id = :id"),
            {"new": secrets.token_hex(32), "id": texter_id},
        )
    for statement in ERASE_THE_ERASED:
        connection.execute(sa.text(statement), {"no": False})


# Written out in full (no string building): the texters erased, and their conversations.
ERASE_THE_ERASED = (
    "UPDATE conversations SET in_danger = NULL, safe_to_text = NULL, risk_reasons = NULL,"
    " emergency_at = NULL, guidance_at = NULL, minor = :no, returning_texter = :no,"
    " risk_score = 0, priority = 'normal', survey_score = NULL, disposition = NULL"
    " WHERE texter_id IN (SELECT id FROM texters WHERE erasure_requested_at IS NOT NULL)",
    "DELETE FROM conversation_tags WHERE conversation_id IN (SELECT c.id FROM conversations c"
    " JOIN texters t ON t.id = c.texter_id WHERE t.erasure_requested_at IS NOT NULL)",
    "UPDATE messages SET twilio_sid = NULL, media_types = NULL, num_media = 0"
    " WHERE texter_id IN (SELECT id FROM texters WHERE erasure_requested_at IS NOT NULL)",
    # The tombstones keep theirs: who erased, when, how many texts.
    "DELETE FROM event_details WHERE event_id IN (SELECT e.id FROM events e"
    " LEFT JOIN conversations c ON c.id = e.conversation_id"
    " JOIN texters t ON t.id = coalesce(e.texter_id, c.texter_id)"
    " WHERE e.kind <> 'texter_erased' AND t.erasure_requested_at IS NOT NULL)",
)


def downgrade() -> None:
    """Puts the values back in the log. Stated reasons stay encrypted out of reach (and are
    lost), and so does the record of opted-out numbers: only an owner may do this."""
    connection = op.get_bind()
    postgres = connection.dialect.name == "postgresql"
    op.execute("ALTER TABLE events ADD COLUMN detail JSON NOT NULL DEFAULT '{}'")
    if postgres:
        op.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    else:
        op.execute("DROP TRIGGER events_no_update")
    op.execute(
        "UPDATE events SET detail = (SELECT d.detail FROM event_details d"
        " WHERE d.event_id = events.id) WHERE id IN"
        " (SELECT event_id FROM event_details WHERE detail IS NOT NULL)"
    )
    if postgres:
        op.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    else:
        op.execute(
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"
        )
    op.drop_table("opted_out_numbers")
    op.drop_index(op.f("ix_event_details_texter_id"), table_name="event_details")
    op.drop_index(op.f("ix_event_details_conversation_id"), table_name="event_details")
    op.drop_table("event_details")
