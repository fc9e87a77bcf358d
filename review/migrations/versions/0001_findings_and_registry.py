"""Findings (one row per finding id) and the registry record log with per-partition watermarks.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("detector_version", sa.String(64), nullable=False),
        sa.Column("detected_at", sa.String(40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source_topic", sa.String(249), nullable=True),
        sa.Column("source_partition", sa.Integer(), nullable=True),
        sa.Column("source_offset", sa.BigInteger(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
    )
    op.create_index("ix_findings_subject", "findings", ["subject_type", "subject_id"])
    op.create_index("ix_findings_rule", "findings", ["rule"])
    op.create_table(
        "registry_records",
        sa.Column("record_type", sa.String(40), nullable=False),
        sa.Column("record_key", sa.String(250), nullable=False),
        sa.Column("cluster_id", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("record_type", "record_key", name="pk_registry_records"),
    )
    op.create_index("ix_registry_records_position", "registry_records", ["cluster_id", "topic", "partition", "offset"])
    op.create_table(
        "registry_watermarks",
        sa.Column("cluster_id", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "topic", "partition", name="pk_registry_watermarks"),
    )


def downgrade() -> None:
    op.drop_table("registry_watermarks")
    op.drop_index("ix_registry_records_position", table_name="registry_records")
    op.drop_table("registry_records")
    op.drop_index("ix_findings_rule", table_name="findings")
    op.drop_index("ix_findings_subject", table_name="findings")
    op.drop_table("findings")
