"""SQLAlchemy models of migration 0004: every posting the workers saw, and the nightly scan's runs, checkpoints and lock."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from review.models import Base


class PostingRow(Base):
    """One job posting as last stored (clean ones too): the scan re-detects and clusters these.

    `detector_version` is the version that last checked the stored text; the scan re-detects every
    row whose version differs from the running one. `fingerprint` (MinHash of the normalised text)
    is filled lazily by the scan, so the stream worker pays nothing for it.
    """

    __tablename__ = "postings"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    posted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    employer_uscc: Mapped[str | None] = mapped_column(String(40))
    employer_name: Mapped[str | None] = mapped_column(String(300))
    agency_uscc: Mapped[str | None] = mapped_column(String(40))
    agency_name: Mapped[str | None] = mapped_column(String(300))
    agency_licence: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    detector_version: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(200))
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_postings_posted", "posted_at", "id"),
        Index("ix_postings_agency_uscc", "agency_uscc", "posted_at"),
        Index("ix_postings_agency_licence", "agency_licence", "posted_at"),
    )


class ScanRunRow(Base):
    """One invocation of `hrwatch scan`. Runs that resume an unfinished pass share its `pass_id`, `as_of` and `since`."""

    __tablename__ = "scan_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pass_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # running | completed | failed | interrupted
    phases: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    detector_version: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    postings_scanned: Mapped[int] = mapped_column(BigInteger, default=0)
    new_findings: Mapped[int] = mapped_column(Integer, default=0)
    record_errors: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[str] = mapped_column(Text, default="{}")
    error: Mapped[str | None] = mapped_column(Text)
    report: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_scan_runs_status", "status", "finished_at"), Index("ix_scan_runs_pass", "pass_id"))


class ScanCheckpointRow(Base):
    """Where a pass stands in one phase: a keyset cursor, its counters, and whether the phase is done."""

    __tablename__ = "scan_checkpoints"

    pass_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phase: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    processed: Mapped[int] = mapped_column(BigInteger, default=0)
    new_findings: Mapped[int] = mapped_column(Integer, default=0)
    record_errors: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_ms: Mapped[int] = mapped_column(BigInteger, default=0)  # wall time spent, summed over the pass's runs
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ScanFindingRow(Base):
    """A finding the pass stored for the first time: the report's list, and the outbox for hr.findings.v1."""

    __tablename__ = "scan_findings"

    pass_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phase: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_scan_findings_unpublished", "pass_id", "published_at"),)


class ScanRecordErrorRow(Base):
    """A stored record the pass could not check (no longer validates, or a detector raised): reported, retried next pass."""

    __tablename__ = "scan_record_errors"

    pass_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phase: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    error: Mapped[str] = mapped_column(Text)


class ScanLockRow(Base):
    """At most one scan at a time: the holder's run, host and pid, refreshed at every checkpoint."""

    __tablename__ = "scan_lock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
