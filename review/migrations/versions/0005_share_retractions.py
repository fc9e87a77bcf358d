"""Retractions of shared findings: share_retractions (audit record and outbox, append-only), the dismissal reason on share_reviews.

Tables of sharing/models.py. Applies after the nightly scan's tables (0004). Like the share log,
share_retractions is the record of what was told to a partner: database triggers refuse deleting
its rows and changing anything but the delivery and receipt columns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
_MUTABLE = ("sent_at", "receipt_status", "receipted_at")
_FROZEN = (
    "seq",
    "notice_id",
    "kind",
    "finding_id",
    "partner",
    "original_envelope_id",
    "retraction_id",
    "reason",
    "alert_id",
    "review_event_id",
    "decided_at",
    "topic",
    "envelope",
    "created_at",
)
_PG_GUARD = f"""
CREATE FUNCTION share_retractions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'share_retractions is the record of provision: rows are never deleted';
    END IF;
    IF (to_jsonb(NEW) - {" - ".join(f"'{c}'" for c in _MUTABLE)})
       IS DISTINCT FROM (to_jsonb(OLD) - {" - ".join(f"'{c}'" for c in _MUTABLE)}) THEN
        RAISE EXCEPTION 'share_retractions rows change only in sent_at, receipt_status and receipted_at';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER share_retractions_guard BEFORE UPDATE OR DELETE ON share_retractions
    FOR EACH ROW EXECUTE FUNCTION share_retractions_guard();
"""
_SQLITE_GUARD = (
    "CREATE TRIGGER share_retractions_no_delete BEFORE DELETE ON share_retractions "
    "BEGIN SELECT RAISE(ABORT, 'share_retractions is the record of provision: rows are never deleted'); END",
    f"CREATE TRIGGER share_retractions_frozen BEFORE UPDATE OF {', '.join(_FROZEN)} ON share_retractions "
    "BEGIN SELECT RAISE(ABORT, 'share_retractions rows change only in sent_at, receipt_status and receipted_at'); END",
)


def upgrade() -> None:
    op.create_table(
        "share_retractions",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("finding_id", sa.String(64), nullable=False),
        sa.Column("partner", sa.String(32), nullable=False),
        sa.Column("original_envelope_id", sa.String(32), nullable=False),
        sa.Column("retraction_id", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("alert_id", sa.String(40), nullable=True),
        sa.Column("review_event_id", sa.String(64), nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("receipt_status", sa.String(20), nullable=True),
        sa.Column("receipted_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_share_retractions"),
        sa.UniqueConstraint("notice_id", name="uq_share_retractions_notice_id"),
    )
    op.create_index("ix_share_retractions_pair", "share_retractions", ["finding_id", "partner", "seq"])
    op.create_index("ix_share_retractions_sent", "share_retractions", ["sent_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD)
    else:
        for statement in _SQLITE_GUARD:
            op.execute(statement)
    with op.batch_alter_table("share_reviews") as batch:
        batch.add_column(sa.Column("reason", sa.String(40), nullable=True))
    op.create_index("ix_share_reviews_decided", "share_reviews", ["decided_at"])


def downgrade() -> None:
    op.drop_index("ix_share_reviews_decided", table_name="share_reviews")
    with op.batch_alter_table("share_reviews") as batch:
        batch.drop_column("reason")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER share_retractions_guard ON share_retractions")
        op.execute("DROP FUNCTION share_retractions_guard()")
    else:
        op.execute("DROP TRIGGER share_retractions_frozen")
        op.execute("DROP TRIGGER share_retractions_no_delete")
    op.drop_index("ix_share_retractions_sent", table_name="share_retractions")
    op.drop_index("ix_share_retractions_pair", table_name="share_retractions")
    op.drop_table("share_retractions")
