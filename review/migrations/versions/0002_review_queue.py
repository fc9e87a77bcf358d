"""The alert queue: subjects, users, cases, alerts, alert findings, blocking keys, decisions, notes, audit, outbox.

The audit trail is append-only in the database itself: triggers refuse UPDATE and DELETE on it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_PG_APPEND_ONLY = """
CREATE FUNCTION review_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'review_audit is append-only';
END;
$$;
CREATE TRIGGER review_audit_no_update BEFORE UPDATE OR DELETE ON review_audit
    FOR EACH ROW EXECUTE FUNCTION review_audit_append_only();
"""
_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER review_audit_no_update BEFORE UPDATE ON review_audit "
    "BEGIN SELECT RAISE(ABORT, 'review_audit is append-only'); END",
    "CREATE TRIGGER review_audit_no_delete BEFORE DELETE ON review_audit "
    "BEGIN SELECT RAISE(ABORT, 'review_audit is append-only'); END",
)


def upgrade() -> None:
    op.create_table(
        "subjects",
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(100), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("agency_name", sa.String(300), nullable=True),
        sa.Column("agency_key", sa.String(300), nullable=True),
        sa.Column("employer_name", sa.String(300), nullable=True),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("posted_at", TS, nullable=True),
        sa.Column("skeleton", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("stored_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("subject_type", "subject_id", name="pk_subjects"),
    )
    op.create_table(
        "review_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_users"),
        sa.UniqueConstraint("username", name="uq_review_users_username"),
    )
    op.create_table(
        "review_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(300), nullable=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_cases"),
        sa.UniqueConstraint("key", name="uq_review_cases_key"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("categories", sa.String(200), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("finding_count", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("source", sa.String(100), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("agency_name", sa.String(300), nullable=True),
        sa.Column("employer_name", sa.String(300), nullable=True),
        sa.Column("has_subject", sa.Boolean(), nullable=False),
        sa.Column("grouped", sa.Boolean(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("dismiss_reason", sa.String(30), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("subject_type", "subject_id", name="uq_alerts_subject"),
        sa.ForeignKeyConstraint(["case_id"], ["review_cases.id"], name="fk_alerts_case"),
        sa.ForeignKeyConstraint(["assignee_id"], ["review_users.id"], name="fk_alerts_assignee"),
    )
    op.create_index("ix_alerts_queue", "alerts", ["status", "severity_rank", "created_at"])
    op.create_index("ix_alerts_created", "alerts", ["created_at"])
    op.create_index("ix_alerts_due", "alerts", ["due_at"])
    op.create_index("ix_alerts_city", "alerts", ["city"])
    op.create_index("ix_alerts_source", "alerts", ["source"])
    op.create_index("ix_alerts_case", "alerts", ["case_id"])
    op.create_index("ix_alerts_assignee", "alerts", ["assignee_id"])
    op.create_table(
        "alert_findings",
        sa.Column("finding_id", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("finding_id", name="pk_alert_findings"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name="fk_alert_findings_alert"),
    )
    op.create_index("ix_alert_findings_alert", "alert_findings", ["alert_id"])
    op.create_index("ix_alert_findings_rule", "alert_findings", ["rule", "alert_id"])
    op.create_index("ix_alert_findings_category", "alert_findings", ["category", "alert_id"])
    op.create_table(
        "alert_blocks",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "alert_id", name="pk_alert_blocks"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name="fk_alert_blocks_alert"),
    )
    op.create_table(
        "review_decisions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(30), nullable=True),
        sa.Column("partners", sa.String(100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_decisions"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name="fk_review_decisions_alert"),
        sa.ForeignKeyConstraint(["actor_id"], ["review_users.id"], name="fk_review_decisions_actor"),
    )
    op.create_index("ix_review_decisions_alert", "review_decisions", ["alert_id"])
    op.create_table(
        "review_notes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_notes"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name="fk_review_notes_alert"),
        sa.ForeignKeyConstraint(["author_id"], ["review_users.id"], name="fk_review_notes_author"),
    )
    op.create_index("ix_review_notes_alert", "review_notes", ["alert_id"])
    op.create_table(
        "review_audit",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("object_type", sa.String(40), nullable=True),
        sa.Column("object_id", sa.String(200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("client", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review_audit"),
    )
    op.create_index("ix_review_audit_object", "review_audit", ["object_type", "object_id"])
    op.create_index("ix_review_audit_at", "review_audit", ["at"])
    op.create_table(
        "review_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review_events"),
        sa.UniqueConstraint("event_id", name="uq_review_events_event_id"),
    )
    op.create_index("ix_review_events_pending", "review_events", ["published_at", "id"])

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_APPEND_ONLY)
    elif dialect == "sqlite":
        for statement in _SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS review_audit_no_update ON review_audit")
        op.execute("DROP FUNCTION IF EXISTS review_audit_append_only()")
    for table in (
        "review_events",
        "review_audit",
        "review_notes",
        "review_decisions",
        "alert_blocks",
        "alert_findings",
        "alerts",
        "review_cases",
        "review_users",
        "subjects",
    ):
        op.drop_table(table)
