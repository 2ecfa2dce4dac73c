"""Every column that could hold words or a number says what it holds, and rotation, the purge
and erasure take their columns from that one declaration."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Integer, LargeBinary, MetaData, String, Table

from hotline.db.content import Holds, columns, holds, must_declare, undeclared
from hotline.db.models import Base
from hotline.services.privacy import encrypted_columns


def test_every_text_and_encrypted_column_says_what_it_holds() -> None:
    assert undeclared(Base.metadata) == []


def test_a_new_undeclared_or_misdeclared_column_is_caught() -> None:
    metadata = MetaData()
    Table(
        "letters",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("sender_name", String(80)),  # words, undeclared
        Column("extra", JSON),  # anything, undeclared
        Column("body_ciphertext", LargeBinary, info=holds(Holds.CODE)),  # encrypted: says not
        Column("label", String(20), info=holds(Holds.TEXTER_WORDS)),  # says encrypted: is not
        Column("kind", String(20), info=holds(Holds.CODE)),
        Column("count", Integer),
    )
    assert undeclared(metadata) == [
        "letters.sender_name",
        "letters.extra",
        "letters.body_ciphertext",
        "letters.label",
    ]


def test_every_ciphertext_column_is_rotated() -> None:
    ciphertext = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_ciphertext")
    }
    rotated = {f"{column.table.name}.{column.name}" for _, column in encrypted_columns()}
    assert rotated == ciphertext
    assert "event_details.reason_ciphertext" in rotated  # the newest kind is in
    assert {key.name for key, _ in encrypted_columns()} <= {"id", "event_id"}


def test_what_erasure_and_the_purge_reach() -> None:
    def names(where: str) -> set[str]:
        return {f"{t.name}.{c.name}" for t, c, _ in columns(Base.metadata, where=where)}

    erased, purged = names("erased"), names("purged")
    # Every texter's word is erased and purged; answers, flags and links too.
    for name in (
        "messages.body_ciphertext",
        "notes.body_ciphertext",
        "quality_reviews.feedback_ciphertext",
        "conversations.needs_ciphertext",
        "conversations.location_ciphertext",
        "conversations.summary_ciphertext",
        "conversations.risk_findings_ciphertext",
        "conversations.in_danger",
        "conversations.safe_to_text",
        "conversations.risk_reasons",
        "conversations.minor",
        "conversations.emergency_at",
        "messages.twilio_sid",
        "messages.media_types",
        "event_details.detail",
        "event_details.reason_ciphertext",
    ):
        assert name in erased and name in purged, name
    # Figures for the metrics stay after retention, but not after an erasure.
    for name in (
        "conversations.priority",
        "conversations.disposition",
        "conversations.survey_score",
    ):
        assert name in erased and name not in purged, name
    # Staff secrets and the opted-out hashes are neither.
    for name in ("staff_users.totp_secret_ciphertext", "opted_out_numbers.phone_hash"):
        assert name not in erased | purged


def test_enums_are_codes_and_need_no_declaration() -> None:
    [state] = [c for c in Base.metadata.tables["conversations"].columns if c.name == "state"]
    [email] = [c for c in Base.metadata.tables["staff_users"].columns if c.name == "email"]
    assert not must_declare(state) and must_declare(email)
