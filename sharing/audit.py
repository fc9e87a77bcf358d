"""The share audit log: what was provided to which partner, when, under which policy route and legal basis; queried and exported as CSV.

Personal-information law asks a processor that provides personal information to another party to
keep a record of the provision; the share log is that record (one row per finding and partner,
written before the envelope leaves, never rewritten except to note its delivery and receipt).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import IO

import orjson
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sharing.models import ShareLogRow


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


COLUMNS = tuple(f.name for f in fields(AuditEntry))


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
    q = select(ShareLogRow)
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
        for row in s.scalars(q.execution_options(yield_per=1000)):
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
            )


def write_csv(rows: Iterable[AuditEntry], out: IO[str]) -> int:
    """Write entries as CSV with a header row (lists joined with '; '); returns how many rows."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    n = 0
    for entry in rows:
        writer.writerow([getattr(entry, c) for c in COLUMNS])
        n += 1
    return n
