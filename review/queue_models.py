"""SQLAlchemy models of the alert queue: subjects, alerts, cases, decisions, notes, users, audit trail, event outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from review.models import Base

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)


class SubjectRow(Base):
    """The record a finding is about (posting, filing), kept so reviewers can read it; first write wins."""

    __tablename__ = "subjects"

    subject_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    agency_name: Mapped[str | None] = mapped_column(String(300))
    agency_key: Mapped[str | None] = mapped_column(String(300))
    employer_name: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(500))
    posted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    skeleton: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class UserRow(Base):
    """A person who reviews (reviewer), supervises (supervisor) or audits (auditor) the queue."""

    __tablename__ = "review_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (UniqueConstraint("username", name="uq_review_users_username"),)


class CaseRow(Base):
    """Alerts that are one matter: the same agency, or one posting republished (near-identical text)."""

    __tablename__ = "review_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # agency | near_duplicate
    key: Mapped[str | None] = mapped_column(String(300))  # agency key; NULL for near-duplicates
    title: Mapped[str] = mapped_column(String(500))
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (UniqueConstraint("key", name="uq_review_cases_key"),)


class AlertRow(Base):
    """The findings about one subject, reviewed as one: status, assignment, severity, SLA, case."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="new")
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[float] = mapped_column(Float)
    categories: Mapped[str] = mapped_column(String(200))  # sorted, comma-separated
    rules: Mapped[str] = mapped_column(Text)  # sorted, comma-separated
    finding_count: Mapped[int] = mapped_column(Integer, default=0)
    # Copied from the subject so the queue filters without a join.
    title: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    agency_name: Mapped[str | None] = mapped_column(String(300))
    employer_name: Mapped[str | None] = mapped_column(String(300))
    has_subject: Mapped[bool] = mapped_column(Boolean, default=False)
    grouped: Mapped[bool] = mapped_column(Boolean, default=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("review_cases.id", name="fk_alerts_case"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("review_users.id", name="fk_alerts_assignee"))
    dismiss_reason: Mapped[str | None] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    due_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    decided_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", name="uq_alerts_subject"),
        Index("ix_alerts_queue", "status", "severity_rank", "created_at"),
        Index("ix_alerts_created", "created_at"),
        Index("ix_alerts_due", "due_at"),
        Index("ix_alerts_city", "city"),
        Index("ix_alerts_source", "source"),
        Index("ix_alerts_case", "case_id"),
        Index("ix_alerts_assignee", "assignee_id"),
    )


class AlertFindingRow(Base):
    """Which finding belongs to which alert; the finding id as key makes redelivery a no-op."""

    __tablename__ = "alert_findings"

    finding_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", name="fk_alert_findings_alert"))
    category: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_alert_findings_alert", "alert_id"),
        Index("ix_alert_findings_rule", "rule", "alert_id"),
        Index("ix_alert_findings_category", "category", "alert_id"),
    )


class AlertBlockRow(Base):
    """Blocking keys (bottom-k shingle hashes) of an alert's subject text, to find near-duplicate candidates."""

    __tablename__ = "alert_blocks"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", name="fk_alert_blocks_alert"), primary_key=True)


class DecisionRow(Base):
    """One lifecycle action taken on an alert (who, from which status to which, why)."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", name="fk_review_decisions_alert"))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(30))
    partners: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("review_users.id", name="fk_review_decisions_actor"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (Index("ix_review_decisions_alert", "alert_id"),)


class NoteRow(Base):
    """A reviewer's note on an alert."""

    __tablename__ = "review_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", name="fk_review_notes_alert"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("review_users.id", name="fk_review_notes_author"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (Index("ix_review_notes_alert", "alert_id"),)


class AuditRow(Base):
    """Append-only trail (database triggers refuse UPDATE and DELETE): who saw, changed, unmasked or shared what."""

    __tablename__ = "review_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(Timestamp)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON
    client: Mapped[str | None] = mapped_column(String(100))  # remote address, or "cli"

    __table_args__ = (
        Index("ix_review_audit_object", "object_type", "object_id"),
        Index("ix_review_audit_at", "at"),
    )


class ReviewEventRow(Base):
    """Outbox of hr.reviews.v1 events: written with the decision, published (and stamped) after commit."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    key: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    published_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("event_id", name="uq_review_events_event_id"),
        Index("ix_review_events_pending", "published_at", "id"),
    )
