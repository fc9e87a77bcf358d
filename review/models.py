"""SQLAlchemy models of the store: findings (one row per finding id) and the registry records workers load."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them on every database.
NAMING = {
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class FindingRow(Base):
    """One finding (finding.v1 in `body`), written once per id: redelivery never adds a second row."""

    __tablename__ = "findings"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    detector_version: Mapped[str] = mapped_column(String(64))
    detected_at: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    # Where the subject record came from, and when it was published (message timestamp) and stored.
    source_topic: Mapped[str | None] = mapped_column(String(249))
    source_partition: Mapped[int | None] = mapped_column(Integer)
    source_offset: Mapped[int | None] = mapped_column(BigInteger)
    ingested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_findings_subject", "subject_type", "subject_id"),
        Index("ix_findings_rule", "rule"),
    )


class RegistryRecordRow(Base):
    """A valid agency_filing or business_registration, once per record identity (first write wins).

    Workers load every row at start and then the rows past their per-partition watermark; the
    licence history needs every filing, so this is an event log, not a latest-state table.
    """

    __tablename__ = "registry_records"

    record_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_key: Mapped[str] = mapped_column(String(250), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(249))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_registry_records_position", "cluster_id", "topic", "partition", "offset"),)


class RegistryWatermarkRow(Base):
    """Per log partition of a registry topic: every offset below `next_offset` is in registry_records.

    Keyed by the Kafka cluster id, because an embedded broker's log starts again at offset 0.
    """

    __tablename__ = "registry_watermarks"

    cluster_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    topic: Mapped[str] = mapped_column(String(249), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)
