"""Create the CRM tables.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("organization_name", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("alternate_email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_table(
        "custom_field_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "record_type",
            sa.Enum(
                "individual",
                "contact",
                name="record_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "field_type",
            sa.Enum(
                "Text",
                "Email",
                "Number",
                "Date",
                "Checkbox",
                name="field_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_field_definitions")),
        sa.UniqueConstraint("record_type", "key", name="uq_custom_field_key"),
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sync_enabled", sa.Boolean(), nullable=False),
        sa.Column("run_frequency_minutes", sa.Integer(), nullable=False),
        sa.Column("window_past_days", sa.Integer(), nullable=False),
        sa.Column("window_future_days", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=100), nullable=True),
        sa.Column("client_id", sa.String(length=100), nullable=True),
        sa.Column("client_secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("certificate_thumbprint", sa.String(length=100), nullable=True),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.Column("certificate_private_key_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_organization_single_row")),
        sa.CheckConstraint(
            "run_frequency_minutes > 0", name=op.f("ck_organization_run_frequency_positive")
        ),
        sa.CheckConstraint(
            "window_future_days >= 0", name=op.f("ck_organization_window_future_not_negative")
        ),
        sa.CheckConstraint(
            "window_past_days >= 0", name=op.f("ck_organization_window_past_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_normalized", sa.String(length=320), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin", "staff", name="role", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("sync_enabled", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email_normalized", name=op.f("uq_users_email_normalized")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("is_all_day", sa.Boolean(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column(
            "show_as",
            sa.Enum(
                "free",
                "tentative",
                "busy",
                "oof",
                "workingElsewhere",
                name="show_as",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("is_private", sa.Boolean(), nullable=False),
        sa.Column("is_teams_meeting", sa.Boolean(), nullable=False),
        sa.Column("teams_join_url", sa.Text(), nullable=True),
        sa.Column("invitation_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "origin",
            sa.Enum(
                "crm",
                "microsoft365",
                name="origin",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recurrence_rule", sa.String(length=500), nullable=True),
        sa.Column("recurrence_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("m365_recurrence_summary", sa.Text(), nullable=True),
        sa.Column("series_event_id", sa.Integer(), nullable=True),
        sa.Column("original_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("copy_of_event_id", sa.Integer(), nullable=True),
        sa.Column(
            "sync_status",
            sa.Enum(
                "not_synced",
                "pending",
                "synced",
                "error",
                name="sync_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sync_message", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(is_all_day AND start_date IS NOT NULL AND end_date IS NOT NULL) OR (NOT is_all_day AND start_date IS NULL AND end_date IS NULL)",
            name=op.f("ck_events_all_day_dates"),
        ),
        sa.CheckConstraint("end_at >= start_at", name=op.f("ck_events_end_not_before_start")),
        sa.ForeignKeyConstraint(
            ["copy_of_event_id"],
            ["events.id"],
            name=op.f("fk_events_copy_of_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_events_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["series_event_id"],
            ["events.id"],
            name=op.f("fk_events_series_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("copy_of_event_id", "owner_id", name="uq_events_one_copy_per_attendee"),
    )
    op.create_index(
        op.f("ix_events_copy_of_event_id"), "events", ["copy_of_event_id"], unique=False
    )
    op.create_index(
        op.f("ix_events_owner_range"), "events", ["owner_id", "start_at", "end_at"], unique=False
    )
    op.create_index(op.f("ix_events_series_event_id"), "events", ["series_event_id"], unique=False)
    op.create_table(
        "individuals",
        sa.Column("advisor_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("alternate_email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisor_id"],
            ["users.id"],
            name=op.f("fk_individuals_advisor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_individuals")),
    )
    op.create_index(op.f("ix_individuals_advisor_id"), "individuals", ["advisor_id"], unique=False)
    op.create_table(
        "contact_point_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("individual_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(individual_id IS NULL) <> (contact_id IS NULL)",
            name=op.f("ck_contact_point_emails_exactly_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_point_emails_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["individual_id"],
            ["individuals.id"],
            name=op.f("fk_contact_point_emails_individual_id_individuals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_point_emails")),
    )
    op.create_index(
        op.f("ix_contact_point_emails_contact_id"),
        "contact_point_emails",
        ["contact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contact_point_emails_individual_id"),
        "contact_point_emails",
        ["individual_id"],
        unique=False,
    )
    op.create_table(
        "custom_field_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("individual_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(individual_id IS NULL) <> (contact_id IS NULL)",
            name=op.f("ck_custom_field_values_exactly_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_custom_field_values_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["custom_field_definitions.id"],
            name=op.f("fk_custom_field_values_definition_id_custom_field_definitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["individual_id"],
            ["individuals.id"],
            name=op.f("fk_custom_field_values_individual_id_individuals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_field_values")),
        sa.UniqueConstraint("definition_id", "contact_id", name="uq_custom_value_contact"),
        sa.UniqueConstraint("definition_id", "individual_id", name="uq_custom_value_individual"),
    )
    op.create_index(
        op.f("ix_custom_field_values_contact_id"),
        "custom_field_values",
        ["contact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_custom_field_values_definition_id"),
        "custom_field_values",
        ["definition_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_custom_field_values_individual_id"),
        "custom_field_values",
        ["individual_id"],
        unique=False,
    )
    op.create_table(
        "event_attendees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("individual_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_normalized", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "attendee_type",
            sa.Enum(
                "required",
                "optional",
                "resource",
                name="attendee_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "response_status",
            sa.Enum(
                "none",
                "organizer",
                "tentativelyAccepted",
                "accepted",
                "declined",
                "notResponded",
                name="response_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN individual_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name=op.f("ck_event_attendees_at_most_one_record"),
        ),
        sa.CheckConstraint(
            "email IS NOT NULL OR user_id IS NOT NULL OR individual_id IS NOT NULL OR contact_id IS NOT NULL",
            name=op.f("ck_event_attendees_record_or_email"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_event_attendees_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_attendees_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["individual_id"],
            ["individuals.id"],
            name=op.f("fk_event_attendees_individual_id_individuals"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_event_attendees_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_attendees")),
    )
    op.create_index(
        op.f("ix_event_attendees_contact_id"), "event_attendees", ["contact_id"], unique=False
    )
    op.create_index(
        op.f("ix_event_attendees_email_normalized"),
        "event_attendees",
        ["email_normalized"],
        unique=False,
    )
    op.create_index(
        op.f("ix_event_attendees_event_id"), "event_attendees", ["event_id"], unique=False
    )
    op.create_index(
        op.f("ix_event_attendees_individual_id"), "event_attendees", ["individual_id"], unique=False
    )
    op.create_index(
        op.f("ix_event_attendees_user_id"), "event_attendees", ["user_id"], unique=False
    )
    op.create_table(
        "email_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_normalized", sa.String(length=320), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "email",
                "alternate_email",
                "custom_field",
                "contact_point_email",
                name="email_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("individual_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("custom_field_definition_id", sa.Integer(), nullable=True),
        sa.Column("contact_point_email_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN individual_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_email_index_exactly_one_record"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_email_index_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_point_email_id"],
            ["contact_point_emails.id"],
            name=op.f("fk_email_index_contact_point_email_id_contact_point_emails"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["custom_field_definition_id"],
            ["custom_field_definitions.id"],
            name=op.f("fk_email_index_custom_field_definition_id_custom_field_definitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["individual_id"],
            ["individuals.id"],
            name=op.f("fk_email_index_individual_id_individuals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_email_index_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_index")),
    )
    op.create_index(op.f("ix_email_index_contact_id"), "email_index", ["contact_id"], unique=False)
    op.create_index(
        op.f("ix_email_index_contact_point_email_id"),
        "email_index",
        ["contact_point_email_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_email_index_custom_field_definition_id"),
        "email_index",
        ["custom_field_definition_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_email_index_email_normalized"), "email_index", ["email_normalized"], unique=False
    )
    op.create_index(
        op.f("ix_email_index_individual_id"), "email_index", ["individual_id"], unique=False
    )
    op.create_index(op.f("ix_email_index_user_id"), "email_index", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_email_index_user_id"), table_name="email_index")
    op.drop_index(op.f("ix_email_index_individual_id"), table_name="email_index")
    op.drop_index(op.f("ix_email_index_email_normalized"), table_name="email_index")
    op.drop_index(op.f("ix_email_index_custom_field_definition_id"), table_name="email_index")
    op.drop_index(op.f("ix_email_index_contact_point_email_id"), table_name="email_index")
    op.drop_index(op.f("ix_email_index_contact_id"), table_name="email_index")
    op.drop_table("email_index")
    op.drop_index(op.f("ix_event_attendees_user_id"), table_name="event_attendees")
    op.drop_index(op.f("ix_event_attendees_individual_id"), table_name="event_attendees")
    op.drop_index(op.f("ix_event_attendees_event_id"), table_name="event_attendees")
    op.drop_index(op.f("ix_event_attendees_email_normalized"), table_name="event_attendees")
    op.drop_index(op.f("ix_event_attendees_contact_id"), table_name="event_attendees")
    op.drop_table("event_attendees")
    op.drop_index(op.f("ix_custom_field_values_individual_id"), table_name="custom_field_values")
    op.drop_index(op.f("ix_custom_field_values_definition_id"), table_name="custom_field_values")
    op.drop_index(op.f("ix_custom_field_values_contact_id"), table_name="custom_field_values")
    op.drop_table("custom_field_values")
    op.drop_index(op.f("ix_contact_point_emails_individual_id"), table_name="contact_point_emails")
    op.drop_index(op.f("ix_contact_point_emails_contact_id"), table_name="contact_point_emails")
    op.drop_table("contact_point_emails")
    op.drop_index(op.f("ix_individuals_advisor_id"), table_name="individuals")
    op.drop_table("individuals")
    op.drop_index(op.f("ix_events_series_event_id"), table_name="events")
    op.drop_index(op.f("ix_events_owner_range"), table_name="events")
    op.drop_index(op.f("ix_events_copy_of_event_id"), table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("organization")
    op.drop_table("custom_field_definitions")
    op.drop_table("contacts")
