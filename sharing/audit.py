"""The share audit log: what was provided to which partner, when, under which policy route and legal basis; queried and exported as CSV.

Personal-information law asks a processor that provides personal information to another party to
keep a record of the provision; the share log is that record (one row per finding and partner,
written before the envelope leaves, never rewritten except to note its delivery and receipt).
Retractions and reinstatements sent later are their own append-only record (`share_retractions`):
each audit entry says whether the provision currently stands, and `notices()` lists them all.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import IO

import orjson
from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import Session, aliased

from sharing.models import ShareLogRow, ShareRetractionRow


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One provision of one finding to one partner."""

    shared_at: str  # when the broker acknowledged the envelope ("" while not yet sent)
    partner: str
    finding_id: str
    envelope_id: str
    subject_type: str
    subject_id: str
    organisation: str
    rule: str
    category: str
    severity: str
    route: str
    trigger: str
    alert_id: str
    legal_basis: str
    fields: str
    unmasked: str
    unmask_legal_basis: str
    classification: str
    policy_version: str
    policy_digest: str
    topic: str
    receipt_status: str
    receipted_at: str
    standing: str  # shared | retracted | reinstated (the latest notice about this provision)
    retraction_reason: str  # of the standing retraction
    retracted_at: str  # when the retraction was sent ("" while not yet acknowledged)
    retraction_receipt: str


COLUMNS = tuple(f.name for f in fields(AuditEntry))


@dataclass(frozen=True, slots=True)
class NoticeEntry:
    """One retraction or reinstatement sent to a partner."""

    sent_at: str
    partner: str
    kind: str
    finding_id: str
    notice_id: str
    original_envelope_id: str
    retraction_id: str
    reason: str
    alert_id: str
    decided_at: str
    topic: str
    receipt_status: str
    receipted_at: str


NOTICE_COLUMNS = tuple(f.name for f in fields(NoticeEntry))


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters; None means any. Times bound `sent_at` (since inclusive, until exclusive)."""

    partner: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    rule: str | None = None
    subject_id: str | None = None
    finding_id: str | None = None
    include_unsent: bool = False


def _iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def _joined(text: str) -> str:
    return "; ".join(orjson.loads(text))


def entries(engine: Engine, query: AuditQuery = AuditQuery()) -> Iterator[AuditEntry]:
    """Audit entries matching the query, oldest first."""
    latest = (
        select(func.max(ShareRetractionRow.seq).label("seq"))
        .group_by(ShareRetractionRow.finding_id, ShareRetractionRow.partner)
        .subquery()
    )
    notice = aliased(
        ShareRetractionRow, select(ShareRetractionRow).join(latest, ShareRetractionRow.seq == latest.c.seq).subquery()
    )
    q = select(ShareLogRow, notice).outerjoin(
        notice, and_(notice.finding_id == ShareLogRow.finding_id, notice.partner == ShareLogRow.partner)
    )
    if not query.include_unsent:
        q = q.where(ShareLogRow.sent_at.is_not(None))
    if query.partner:
        q = q.where(ShareLogRow.partner == query.partner)
    if query.since:
        q = q.where(ShareLogRow.sent_at >= query.since)
    if query.until:
        q = q.where(ShareLogRow.sent_at < query.until)
    if query.rule:
        q = q.where(ShareLogRow.rule == query.rule)
    if query.subject_id:
        q = q.where(ShareLogRow.subject_id == query.subject_id)
    if query.finding_id:
        q = q.where(ShareLogRow.finding_id == query.finding_id)
    q = q.order_by(ShareLogRow.sent_at, ShareLogRow.created_at, ShareLogRow.partner, ShareLogRow.finding_id)
    with Session(engine) as s:
        for row, last in s.execute(q.execution_options(yield_per=1000)):
            retracted = last is not None and last.kind == "retraction"
            yield AuditEntry(
                shared_at=_iso(row.sent_at),
                partner=row.partner,
                finding_id=row.finding_id,
                envelope_id=row.envelope_id,
                subject_type=row.subject_type,
                subject_id=row.subject_id,
                organisation=row.organisation or "",
                rule=row.rule,
                category=row.category,
                severity=row.severity,
                route=row.route,
                trigger=row.trigger,
                alert_id=row.alert_id or "",
                legal_basis=_joined(row.legal_basis),
                fields=_joined(row.fields),
                unmasked=_joined(row.unmasked),
                unmask_legal_basis=_joined(row.unmask_legal_basis),
                classification=row.classification,
                policy_version=row.policy_version,
                policy_digest=row.policy_digest,
                topic=row.topic,
                receipt_status=row.receipt_status or "",
                receipted_at=_iso(row.receipted_at),
                standing="shared" if last is None else ("retracted" if retracted else "reinstated"),
                retraction_reason=last.reason if retracted else "",
                retracted_at=_iso(last.sent_at) if retracted else "",
                retraction_receipt=(last.receipt_status or "") if retracted else "",
            )


def notices(engine: Engine, query: AuditQuery = AuditQuery()) -> Iterator[NoticeEntry]:
    """Retractions and reinstatements matching the query (partner, times bound `sent_at`, finding), in the order sent."""
    r = ShareRetractionRow
    q = select(r)
    if not query.include_unsent:
        q = q.where(r.sent_at.is_not(None))
    if query.partner:
        q = q.where(r.partner == query.partner)
    if query.since:
        q = q.where(r.sent_at >= query.since)
    if query.until:
        q = q.where(r.sent_at < query.until)
    if query.finding_id:
        q = q.where(r.finding_id == query.finding_id)
    with Session(engine) as s:
        for row in s.scalars(q.order_by(r.seq).execution_options(yield_per=1000)):
            yield NoticeEntry(
                sent_at=_iso(row.sent_at),
                partner=row.partner,
                kind=row.kind,
                finding_id=row.finding_id,
                notice_id=row.notice_id,
                original_envelope_id=row.original_envelope_id,
                retraction_id=row.retraction_id or "",
                reason=row.reason,
                alert_id=row.alert_id or "",
                decided_at=_iso(row.decided_at),
                topic=row.topic,
                receipt_status=row.receipt_status or "",
                receipted_at=_iso(row.receipted_at),
            )


def write_csv(
    rows: Iterable[AuditEntry] | Iterable[NoticeEntry], out: IO[str], columns: tuple[str, ...] = COLUMNS
) -> int:
    """Write entries as CSV with a header row (lists joined with '; '); returns how many rows.

    `columns=NOTICE_COLUMNS` for the entries of `notices()`.
    """
    writer = csv.writer(out)
    writer.writerow(columns)
    n = 0
    for entry in rows:
        writer.writerow([getattr(entry, c) for c in columns])
        n += 1
    return n
