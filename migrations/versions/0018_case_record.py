"""The case record (issue 20): what an advocate records of a conversation's situation, in
codes from fixed lists, for the hotline's reports.

``case_options`` holds the lists an admin may extend (kinds, the 25 types of the Polaris
typology, venues, recruitment and means of control), seeded below with codes that never change;
``case_records``, ``case_record_codes`` and ``case_record_referrals`` hold each conversation's
record. No free text, no identifiers: erased with the conversation, kept by the purge.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# (list, code, label, position): a copy, so that what was seeded does not change with the code.
_SEED = (
    ("kind", "sex_trafficking", "Sex trafficking", 0),
    ("kind", "labor_trafficking", "Labor trafficking", 1),
    ("kind", "sex_and_labor_trafficking", "Sex and labor trafficking", 2),
    ("kind", "labor_exploitation", "Other exploitation: labor abuse", 3),
    ("kind", "domestic_violence", "Other exploitation: domestic violence", 4),
    ("kind", "other_exploitation", "Other exploitation", 5),
    ("kind", "not_trafficking", "Not trafficking", 6),
    ("kind", "unclear", "Unclear", 7),
    ("type", "escort_services", "Escort services", 0),
    ("type", "illicit_massage", "Illicit massage, health and beauty", 1),
    ("type", "outdoor_solicitation", "Outdoor solicitation", 2),
    ("type", "residential", "Residential", 3),
    ("type", "domestic_work", "Domestic work", 4),
    ("type", "bars_strip_clubs", "Bars, strip clubs and cantinas", 5),
    ("type", "pornography", "Pornography", 6),
    ("type", "traveling_sales_crews", "Traveling sales crews", 7),
    ("type", "restaurants", "Restaurants and food service", 8),
    ("type", "peddling_begging", "Peddling and begging", 9),
    ("type", "agriculture", "Agriculture and animal husbandry", 10),
    ("type", "personal_sexual_servitude", "Personal sexual servitude", 11),
    ("type", "health_beauty_services", "Health and beauty services", 12),
    ("type", "construction", "Construction", 13),
    ("type", "hospitality", "Hospitality", 14),
    ("type", "landscaping", "Landscaping", 15),
    ("type", "illicit_activities", "Illicit activities", 16),
    ("type", "arts_entertainment", "Arts and entertainment", 17),
    ("type", "commercial_cleaning", "Commercial cleaning services", 18),
    ("type", "factories_manufacturing", "Factories and manufacturing", 19),
    ("type", "remote_sexual_acts", "Remote interactive sexual acts", 20),
    ("type", "carnivals", "Carnivals", 21),
    ("type", "forestry_logging", "Forestry and logging", 22),
    ("type", "health_care", "Health care", 23),
    ("type", "recreational_facilities", "Recreational facilities", 24),
    ("venue", "hotel_motel", "Hotel or motel", 0),
    ("venue", "private_residence", "Private residence", 1),
    ("venue", "online", "Online or app", 2),
    ("venue", "street", "Street", 3),
    ("venue", "truck_stop", "Truck stop", 4),
    ("venue", "massage_spa", "Massage or spa business", 5),
    ("venue", "bar_club", "Bar, club or cantina", 6),
    ("venue", "restaurant", "Restaurant", 7),
    ("venue", "farm", "Farm or ranch", 8),
    ("venue", "factory", "Factory or plant", 9),
    ("venue", "construction_site", "Construction site", 10),
    ("venue", "vehicle", "Vehicle", 11),
    ("venue", "other_venue", "Other", 12),
    ("recruitment", "job_offer", "Job offer or advertisement", 0),
    ("recruitment", "intimate_partner", "Intimate partner or marriage proposition", 1),
    ("recruitment", "family", "Family member", 2),
    ("recruitment", "false_promises", "False promises or fraud", 3),
    ("recruitment", "smuggling", "Smuggling-related", 4),
    ("recruitment", "benefactor", "Posing as a benefactor", 5),
    ("recruitment", "online_contact", "Met online or on social media", 6),
    ("recruitment", "friend_peer", "Friend or peer", 7),
    ("recruitment", "other_recruitment", "Other", 8),
    ("control", "document_confiscation", "Took or holds documents", 0),
    ("control", "debt", "Debt bondage or owed money", 1),
    ("control", "withholding_pay", "Withholding pay or earnings", 2),
    ("control", "threats_to_family", "Threats to family", 3),
    ("control", "threats_of_harm", "Threats of harm", 4),
    ("control", "immigration_threats", "Threats to report to immigration or police", 5),
    ("control", "isolation", "Isolation", 6),
    ("control", "confinement", "Confinement or restricted movement", 7),
    ("control", "monitoring", "Monitoring or surveillance", 8),
    ("control", "physical_violence", "Physical violence", 9),
    ("control", "sexual_abuse", "Sexual abuse", 10),
    ("control", "emotional_abuse", "Emotional abuse or intimidation", 11),
    ("control", "substances", "Induced or exploited substance use", 12),
    ("control", "basic_needs", "Denied food, sleep or medical care", 13),
    ("control", "excessive_hours", "Excessive working hours or quotas", 14),
    ("control", "other_control", "Other", 15),
)


def upgrade() -> None:
    options = op.create_table(
        "case_options",
        sa.Column("list", sa.String(24), nullable=False),
        sa.Column("code", sa.String(48), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("list", "code", name="pk_case_options"),
    )
    op.create_table(
        "case_records",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(48), nullable=True),
        sa.Column("age_group", sa.String(8), nullable=True),
        sa.Column("state", sa.String(8), nullable=True),
        sa.Column("police_wanted", sa.String(8), nullable=True),
        sa.Column("police_report", sa.String(8), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_case_records_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["staff_users.id"], name="fk_case_records_updated_by_id_staff_users"
        ),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_case_records"),
    )
    op.create_table(
        "case_record_codes",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("list", sa.String(24), nullable=False),
        sa.Column("code", sa.String(48), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_case_record_codes_conversation_id_conversations",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "list", "code", name="pk_case_record_codes"),
    )
    op.create_table(
        "case_record_referrals",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_case_record_referrals_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name="fk_case_record_referrals_referral_id_referrals"
        ),
        sa.PrimaryKeyConstraint("conversation_id", "referral_id", name="pk_case_record_referrals"),
    )
    op.bulk_insert(
        options,
        [
            {"list": name, "code": code, "label": label, "active": True, "position": position}
            for name, code, label, position in _SEED
        ],
    )


def downgrade() -> None:
    op.drop_table("case_record_referrals")
    op.drop_table("case_record_codes")
    op.drop_table("case_records")
    op.drop_table("case_options")
