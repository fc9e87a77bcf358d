"""Durable sharing state in the store (SQL, not Kafka): share log, held findings, queue decisions, subject and finding look-ups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, and_, delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from review.intake import insert_ignoring
from review.models import FindingRow
from review.queue_models import SubjectRow
from sharing.models import ShareHeldRow, ShareLogRow, ShareReviewRow
from sharing.routing import CONFIRMED_STATUSES, ReviewState

Pair = tuple[str, str]  # (finding id, partner)
_CHUNK = 500  # keys per IN (…) query: well inside SQLite's and PostgreSQL's parameter limits


def _chunks(items: Sequence[Any], n: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def parse_time(text: Any) -> dt.datetime | None:
    """An RFC 3339 time as an aware datetime, or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Held:
    finding_id: str
    partner: str
    route: str
    waiting_for: str
    finding: dict[str, Any]
    held_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Unsent:
    finding_id: str
    partner: str
    topic: str
    envelope: bytes
    trigger: str


class ShareState:
    """All SQL of the publisher, on the store's engine (tables of migration 0003; retractions: sharing/retractions.py)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- queue decisions ---------------------------------------------------------------------------

    def apply_reviews(self, session: Session, events: Sequence[Mapping[str, Any]]) -> set[str]:
        """Record review events per finding (a later decision replaces an earlier one); returns the finding ids touched."""
        latest: dict[str, Mapping[str, Any]] = {}
        for e in events:
            for fid in e.get("finding_ids") or ():
                prev = latest.get(fid)
                if prev is None or _decided(e) >= _decided(prev):
                    latest[fid] = e
        if not latest:
            return set()
        ids = sorted(latest)
        existing: dict[str, ShareReviewRow] = {}
        for chunk in _chunks(ids):
            for found in session.scalars(select(ShareReviewRow).where(ShareReviewRow.finding_id.in_(chunk))):
                existing[found.finding_id] = found
        for fid in ids:
            e = latest[fid]
            requested = set(e.get("partners") or ()) if e.get("decision") == "share" else set()
            reason = str(e["reason"])[:40] if e.get("decision") == "dismiss" and e.get("reason") else None
            row = existing.get(fid)
            decided_at = parse_time(e.get("decided_at"))
            if row is None:
                session.add(
                    ShareReviewRow(
                        finding_id=fid,
                        alert_id=str(e.get("alert_id")),
                        decision=str(e.get("decision")),
                        status=str(e.get("status")),
                        event_id=str(e.get("event_id")),
                        decided_at=decided_at,
                        requested_partners=orjson.dumps(sorted(requested)).decode(),
                        reason=reason,
                    )
                )
                continue
            before = _aware(row.decided_at)
            if before is not None and decided_at is not None and decided_at < before:
                continue  # an older decision redelivered after a newer one
            merged = set(orjson.loads(row.requested_partners)) | requested
            row.alert_id, row.decision, row.status = (
                str(e.get("alert_id")),
                str(e.get("decision")),
                str(e.get("status")),
            )
            row.event_id, row.decided_at, row.reason = str(e.get("event_id")), decided_at, reason
            row.requested_partners = orjson.dumps(sorted(merged)).decode()
        session.flush()
        return set(ids)

    def reviews(self, session: Session, finding_ids: Iterable[str]) -> dict[str, ReviewState]:
        ids = sorted(set(finding_ids))
        out: dict[str, ReviewState] = {}
        for chunk in _chunks(ids):
            for row in session.scalars(select(ShareReviewRow).where(ShareReviewRow.finding_id.in_(chunk))):
                decided = _aware(row.decided_at)
                out[row.finding_id] = ReviewState(
                    row.alert_id,
                    row.decision,
                    row.status,
                    row.event_id,
                    decided.isoformat() if decided else None,
                    frozenset(orjson.loads(row.requested_partners)),
                    row.reason,
                )
        return out

    # -- held findings ----------------------------------------------------------------------------

    def held(self, session: Session, finding_ids: Iterable[str]) -> dict[Pair, Held]:
        ids = sorted(set(finding_ids))
        out: dict[Pair, Held] = {}
        for chunk in _chunks(ids):
            for row in session.scalars(select(ShareHeldRow).where(ShareHeldRow.finding_id.in_(chunk))):
                out[(row.finding_id, row.partner)] = _held(row)
        return out

    def due_for_another_look(self, session: Session, expired_before: dt.datetime, limit: int = 5000) -> list[Held]:
        """Held findings that may go out now: their subject record has arrived or been waited for long enough
        (held before `expired_before`), or their finding was confirmed while they were being held (a race
        between two publishers, one taking the finding and one the decision)."""
        subject_stored = (
            select(SubjectRow.subject_id)
            .where(
                SubjectRow.subject_type == ShareHeldRow.subject_type, SubjectRow.subject_id == ShareHeldRow.subject_id
            )
            .exists()
        )
        confirmed = select(ShareReviewRow.finding_id).where(ShareReviewRow.status.in_(CONFIRMED_STATUSES))
        q = (
            select(ShareHeldRow)
            .where(
                or_(
                    and_(
                        ShareHeldRow.waiting_for == "subject",
                        or_(ShareHeldRow.held_at < expired_before, subject_stored),
                    ),
                    and_(ShareHeldRow.waiting_for == "confirmation", ShareHeldRow.finding_id.in_(confirmed)),
                )
            )
            .order_by(ShareHeldRow.held_at)
            .limit(limit)
        )
        return [_held(row) for row in session.scalars(q)]

    def hold(self, session: Session, rows: Sequence[dict[str, Any]]) -> None:
        """Insert held findings, or change what an existing one waits for (its wait then starts again)."""
        if not rows:
            return
        keys = {(r["finding_id"], r["partner"]): r for r in rows}
        existing = self.held(session, {k[0] for k in keys})
        new = [r for k, r in keys.items() if k not in existing]
        if new:
            session.execute(insert_ignoring(session, ShareHeldRow.__table__, ["finding_id", "partner"]), new)
        for key, r in keys.items():
            old = existing.get(key)
            if old is not None and (old.waiting_for, old.route) != (r["waiting_for"], r["route"]):
                session.execute(
                    update(ShareHeldRow)
                    .where(ShareHeldRow.finding_id == key[0], ShareHeldRow.partner == key[1])
                    .values(
                        waiting_for=r["waiting_for"],
                        route=r["route"],
                        held_at=r["held_at"] if old.waiting_for != r["waiting_for"] else old.held_at,
                    )
                )

    def release(self, session: Session, pairs: Iterable[Pair]) -> None:
        pairs = sorted(set(pairs))
        for chunk in _chunks(pairs):
            session.execute(
                delete(ShareHeldRow).where(tuple_(ShareHeldRow.finding_id, ShareHeldRow.partner).in_(chunk))
            )

    def waiting_counts(self) -> dict[tuple[str, str], int]:
        with Session(self.engine) as s:
            q = select(ShareHeldRow.partner, ShareHeldRow.waiting_for, func.count()).group_by(
                ShareHeldRow.partner, ShareHeldRow.waiting_for
            )
            return {(p, w): int(n) for p, w, n in s.execute(q)}

    # -- share log (audit record and outbox) --------------------------------------------------------

    def already_shared(self, session: Session, pairs: Iterable[Pair]) -> set[Pair]:
        pairs = sorted(set(pairs))
        found: set[Pair] = set()
        for chunk in _chunks(pairs):
            q = select(ShareLogRow.finding_id, ShareLogRow.partner).where(
                tuple_(ShareLogRow.finding_id, ShareLogRow.partner).in_(chunk)
            )
            found.update((f, p) for f, p in session.execute(q))
        return found

    def claim(self, session: Session, rows: Sequence[dict[str, Any]]) -> set[Pair]:
        """Insert share-log rows; returns the pairs that were new (a pair already shared stays as it was)."""
        if not rows:
            return set()
        table = ShareLogRow.__table__
        stmt = insert_ignoring(session, table, ["finding_id", "partner"]).returning(table.c.finding_id, table.c.partner)
        claimed: set[Pair] = set()
        for chunk in _chunks(list(rows), 200):
            claimed.update((f, p) for f, p in session.execute(stmt, list(chunk)))
        return claimed

    def unsent(self, created_before: dt.datetime, limit: int = 1000) -> list[Unsent]:
        """Share-log rows not yet acknowledged by the broker, created before the given time (a crash between claim and send)."""
        with Session(self.engine) as s:
            q = (
                select(
                    ShareLogRow.finding_id,
                    ShareLogRow.partner,
                    ShareLogRow.topic,
                    ShareLogRow.envelope,
                    ShareLogRow.trigger,
                )
                .where(ShareLogRow.sent_at.is_(None), ShareLogRow.created_at < created_before)
                .order_by(ShareLogRow.created_at)
                .limit(limit)
            )
            return [Unsent(f, p, t, e.encode("utf-8"), trig) for f, p, t, e, trig in s.execute(q)]

    def mark_sent(self, pairs: Iterable[Pair], at: dt.datetime) -> set[Pair]:
        """Set sent_at on pairs not marked yet; returns those it marked (for counting each share once)."""
        pairs = sorted(set(pairs))
        marked: set[Pair] = set()
        with Session(self.engine) as s, s.begin():
            for chunk in _chunks(pairs):
                q = (
                    update(ShareLogRow)
                    .where(
                        tuple_(ShareLogRow.finding_id, ShareLogRow.partner).in_(chunk), ShareLogRow.sent_at.is_(None)
                    )
                    .values(sent_at=at)
                    .returning(ShareLogRow.finding_id, ShareLogRow.partner)
                )
                marked.update((f, p) for f, p in s.execute(q))
        return marked

    def record_receipts(
        self, session: Session, receipts: Sequence[Mapping[str, Any]], at: dt.datetime
    ) -> list[tuple[str, str]]:
        """Note partner receipts on the share log; returns (partner, status) per envelope whose receipt status changed.

        `accepted` wins over `rejected`: a partner rejects a tampered copy of a genuine envelope
        with the genuine one's envelope id, and may accept the genuine one later.
        """
        changed: list[tuple[str, str]] = []
        for r in receipts:
            status = r.get("status")
            if status not in ("accepted", "rejected") or not r.get("envelope_id") or not r.get("partner"):
                continue
            cond = and_(ShareLogRow.envelope_id == str(r["envelope_id"]), ShareLogRow.partner == str(r["partner"]))
            if status == "accepted":
                cond = and_(cond, or_(ShareLogRow.receipt_status.is_(None), ShareLogRow.receipt_status != "accepted"))
            else:
                cond = and_(cond, ShareLogRow.receipt_status.is_(None))
            q = (
                update(ShareLogRow)
                .where(cond)
                .values(receipt_status=status, receipted_at=at)
                .returning(ShareLogRow.partner)
            )
            changed.extend((p, status) for p in session.execute(q).scalars())
        return changed

    # -- look-ups in the rest of the store ---------------------------------------------------------

    def subjects(self, session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Subject records the review queue stored (table `subjects`), by (type, id)."""
        wanted = sorted(set(keys))
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for chunk in _chunks(wanted):
            q = select(SubjectRow.subject_type, SubjectRow.subject_id, SubjectRow.body).where(
                tuple_(SubjectRow.subject_type, SubjectRow.subject_id).in_(chunk)
            )
            for t, i, body in session.execute(q):
                out[(t, i)] = orjson.loads(body)
        return out

    def stored_findings(self, session: Session, finding_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Findings the workers stored (table `findings`), by id: for a share requested before this publisher saw the finding."""
        ids = sorted(set(finding_ids))
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            for fid, body in session.execute(select(FindingRow.id, FindingRow.body).where(FindingRow.id.in_(chunk))):
                out[fid] = orjson.loads(body)
        return out


def _held(row: ShareHeldRow) -> Held:
    held_at = _aware(row.held_at)
    assert held_at is not None
    return Held(row.finding_id, row.partner, row.route, row.waiting_for, orjson.loads(row.finding), held_at)


def _decided(event: Mapping[str, Any]) -> dt.datetime:
    return parse_time(event.get("decided_at")) or dt.datetime.min.replace(tzinfo=dt.UTC)
