"""Sharing state: the share log (audit record and outbox of every envelope), held findings, queue decisions seen.

Tables of sharing/models.py. Applies after the review queue (0002). The share log is the record of
provision to third parties: database triggers refuse deleting its rows and changing anything but
the delivery and receipt columns.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
# What may change after a row is written: its delivery and its receipt.
_MUTABLE = ("sent_at", "receipt_status", "receipted_at")
_FROZEN = (
    "finding_id",
    "partner",
    "envelope_id",
    "route",
    "trigger",
    "alert_id",
    "review_event_id",
    "rule",
    "category",
    "severity",
    "subject_type",
    "subject_id",
    "organisation",
    "organisation_uscc",
    "legal_basis",
    "fields",
    "unmasked",
    "unmask_legal_basis",
    "classification",
    "policy_version",
    "policy_digest",
    "topic",
    "envelope",
    "created_at",
)
_PG_GUARD = f"""
CREATE FUNCTION share_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'share_log is the record of provision: rows are never deleted';
    END IF;
    IF (to_jsonb(NEW) - {" - ".join(f"'{c}'" for c in _MUTABLE)})
       IS DISTINCT FROM (to_jsonb(OLD) - {" - ".join(f"'{c}'" for c in _MUTABLE)}) THEN
        RAISE EXCEPTION 'share_log rows change only in sent_at, receipt_status and receipted_at';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER share_log_guard BEFORE UPDATE OR DELETE ON share_log
    FOR EACH ROW EXECUTE FUNCTION share_log_guard();
"""
_SQLITE_GUARD = (
    "CREATE TRIGGER share_log_no_delete BEFORE DELETE ON share_log "
    "BEGIN SELECT RAISE(ABORT, 'share_log is the record of provision: rows are never deleted'); END",
    f"CREATE TRIGGER share_log_frozen BEFORE UPDATE OF {', '.join(_FROZEN)} ON share_log "
    "BEGIN SELECT RAISE(ABORT, 'share_log rows change only in sent_at, receipt_status and receipted_at'); END",
)


def upgrade() -> None:
    op.create_table(
        "share_log",
        sa.Column("finding_id", sa.String(64), nullable=False),
        sa.Column("partner", sa.String(32), nullable=False),
        sa.Column("envelope_id", sa.String(32), nullable=False),
        sa.Column("route", sa.String(100), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("alert_id", sa.String(40), nullable=True),
        sa.Column("review_event_id", sa.String(64), nullable=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(300), nullable=True),
        sa.Column("organisation_uscc", sa.String(40), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("unmasked", sa.Text(), nullable=False),
        sa.Column("unmask_legal_basis", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(100), nullable=False),
        sa.Column("policy_version", sa.String(100), nullable=False),
        sa.Column("policy_digest", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("receipt_status", sa.String(20), nullable=True),
        sa.Column("receipted_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("finding_id", "partner", name="pk_share_log"),
        sa.UniqueConstraint("envelope_id", name="uq_share_log_envelope_id"),
    )
    op.create_index("ix_share_log_partner_sent", "share_log", ["partner", "sent_at"])
    op.create_index("ix_share_log_sent", "share_log", ["sent_at"])
    op.create_index("ix_share_log_subject", "share_log", ["subject_type", "subject_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD)
    else:
        for statement in _SQLITE_GUARD:
            op.execute(statement)
    op.create_table(
        "share_held",
        sa.Column("finding_id", sa.String(64), nullable=False),
        sa.Column("partner", sa.String(32), nullable=False),
        sa.Column("route", sa.String(100), nullable=False),
        sa.Column("waiting_for", sa.String(20), nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("held_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("finding_id", "partner", name="pk_share_held"),
    )
    op.create_index("ix_share_held_waiting", "share_held", ["waiting_for", "held_at"])
    op.create_table(
        "share_reviews",
        sa.Column("finding_id", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(40), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("requested_partners", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("finding_id", name="pk_share_reviews"),
    )


def downgrade() -> None:
    op.drop_table("share_reviews")
    op.drop_index("ix_share_held_waiting", table_name="share_held")
    op.drop_table("share_held")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER share_log_guard ON share_log")
        op.execute("DROP FUNCTION share_log_guard()")
    else:
        op.execute("DROP TRIGGER share_log_frozen")
        op.execute("DROP TRIGGER share_log_no_delete")
    op.drop_index("ix_share_log_subject", table_name="share_log")
    op.drop_index("ix_share_log_sent", table_name="share_log")
    op.drop_index("ix_share_log_partner_sent", table_name="share_log")
    op.drop_table("share_log")
