"""Every posting the workers see, and the nightly scan's state: runs, checkpoints, new findings (outbox), record errors, lock.

Tables of review/scan/models.py. Applies after sharing (0003).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "postings",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("posted_at", TS, nullable=False),
        sa.Column("employer_uscc", sa.String(40), nullable=True),
        sa.Column("employer_name", sa.String(300), nullable=True),
        sa.Column("agency_uscc", sa.String(40), nullable=True),
        sa.Column("agency_name", sa.String(300), nullable=True),
        sa.Column("agency_licence", sa.String(100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("detector_version", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(200), nullable=True),
        sa.Column("stored_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_postings"),
    )
    op.create_index("ix_postings_posted", "postings", ["posted_at", "id"])
    op.create_index("ix_postings_agency_uscc", "postings", ["agency_uscc", "posted_at"])
    op.create_index("ix_postings_agency_licence", "postings", ["agency_licence", "posted_at"])
    op.create_table(
        "scan_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pass_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("phases", sa.String(200), nullable=False),
        sa.Column("as_of", TS, nullable=False),
        sa.Column("since", TS, nullable=True),
        sa.Column("detector_version", sa.String(64), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("heartbeat_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("postings_scanned", sa.BigInteger(), nullable=False),
        sa.Column("new_findings", sa.Integer(), nullable=False),
        sa.Column("record_errors", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scan_runs"),
    )
    op.create_index("ix_scan_runs_status", "scan_runs", ["status", "finished_at"])
    op.create_index("ix_scan_runs_pass", "scan_runs", ["pass_id"])
    op.create_table(
        "scan_checkpoints",
        sa.Column("pass_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(40), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("processed", sa.BigInteger(), nullable=False),
        sa.Column("new_findings", sa.Integer(), nullable=False),
        sa.Column("record_errors", sa.Integer(), nullable=False),
        sa.Column("elapsed_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("pass_id", "phase", name="pk_scan_checkpoints"),
    )
    op.create_table(
        "scan_findings",
        sa.Column("pass_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(40), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("pass_id", "finding_id", name="pk_scan_findings"),
    )
    op.create_index("ix_scan_findings_unpublished", "scan_findings", ["pass_id", "published_at"])
    op.create_table(
        "scan_record_errors",
        sa.Column("pass_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pass_id", "phase", "subject_id", name="pk_scan_record_errors"),
    )
    op.create_table(
        "scan_lock",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("heartbeat_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scan_lock"),
    )


def downgrade() -> None:
    for table in ("scan_lock", "scan_record_errors", "scan_findings", "scan_checkpoints", "scan_runs", "postings"):
        op.drop_table(table)
