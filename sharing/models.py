"""SQLAlchemy models of the sharing state in the store (migrations 0003, 0005): share log (audit + outbox), held findings, review states, retractions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from review.models import Base

Timestamp = DateTime(timezone=True)


class ShareLogRow(Base):
    """One finding shared with one partner — at most one row per pair, which is what makes sharing idempotent.

    Written with the signed envelope before it is published (an outbox: `sent_at` is set once the
    broker acknowledged it), and kept as the audit record of the provision: to whom, when, under
    which policy route and legal basis, which fields, which of them unmasked.
    """

    __tablename__ = "share_log"

    finding_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner: Mapped[str] = mapped_column(String(32), primary_key=True)
    envelope_id: Mapped[str] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(20))  # immediate | confirmed | requested
    alert_id: Mapped[str | None] = mapped_column(String(40))
    review_event_id: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(300))  # agency, else employer, of the subject
    organisation_uscc: Mapped[str | None] = mapped_column(String(40))
    legal_basis: Mapped[str] = mapped_column(Text)  # JSON list
    fields: Mapped[str] = mapped_column(Text)  # JSON list
    unmasked: Mapped[str] = mapped_column(Text)  # JSON list
    unmask_legal_basis: Mapped[str] = mapped_column(Text)  # JSON list
    classification: Mapped[str] = mapped_column(String(100))
    policy_version: Mapped[str] = mapped_column(String(100))
    policy_digest: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(249))
    envelope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    sent_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    receipt_status: Mapped[str | None] = mapped_column(String(20))  # accepted | rejected
    receipted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("envelope_id", name="uq_share_log_envelope_id"),
        Index("ix_share_log_partner_sent", "partner", "sent_at"),
        Index("ix_share_log_sent", "sent_at"),
        Index("ix_share_log_subject", "subject_type", "subject_id"),
    )


class ShareHeldRow(Base):
    """A finding a route sends to a partner only later: after a regulator confirms it, or once its subject record is stored."""

    __tablename__ = "share_held"

    finding_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner: Mapped[str] = mapped_column(String(32), primary_key=True)
    route: Mapped[str] = mapped_column(String(100))
    waiting_for: Mapped[str] = mapped_column(String(20))  # confirmation | subject
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(200))
    finding: Mapped[str] = mapped_column(Text)  # finding.v1 JSON
    held_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (Index("ix_share_held_waiting", "waiting_for", "held_at"),)


class ShareReviewRow(Base):
    """The latest queue decision on a finding, from hr.reviews.v1 (which may arrive before the finding does)."""

    __tablename__ = "share_reviews"

    finding_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    requested_partners: Mapped[str] = mapped_column(Text)  # JSON list: partners a supervisor shared it with
    reason: Mapped[str | None] = mapped_column(String(40))  # of a dismissal (0005): the retraction's reason category

    # The sweep looks at recent decisions (a dismissal racing a share made by another publisher).
    __table_args__ = (Index("ix_share_reviews_decided", "decided_at"),)


class ShareRetractionRow(Base):
    """A retraction of a shared finding (it was dismissed in the queue), or a reinstatement withdrawing one
    (reopened and confirmed again), for one partner: audit record and outbox, like the share log.

    Append-only (database triggers): rows change only in `sent_at`, `receipt_status`, `receipted_at`.
    A pair's notices alternate retraction, reinstatement, retraction, …; `seq` orders them.
    """

    __tablename__ = "share_retractions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(String(32))  # the notice's envelope_id
    kind: Mapped[str] = mapped_column(String(20))  # retraction | reinstatement
    finding_id: Mapped[str] = mapped_column(String(64))
    partner: Mapped[str] = mapped_column(String(32))
    original_envelope_id: Mapped[str] = mapped_column(String(32))
    retraction_id: Mapped[str | None] = mapped_column(String(32))  # for a reinstatement: the retraction it withdraws
    reason: Mapped[str] = mapped_column(String(40))
    alert_id: Mapped[str | None] = mapped_column(String(40))
    review_event_id: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    topic: Mapped[str] = mapped_column(String(249))
    envelope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    sent_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    receipt_status: Mapped[str | None] = mapped_column(String(20))  # accepted | rejected
    receipted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("notice_id", name="uq_share_retractions_notice_id"),
        Index("ix_share_retractions_pair", "finding_id", "partner", "seq"),
        Index("ix_share_retractions_sent", "sent_at"),
    )
