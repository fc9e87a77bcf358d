"""Retractions: a shared finding later dismissed in the queue is withdrawn from the partner; reopened and confirmed, it is reinstated.

Decided from state, not from single events, so redelivered, reordered or replayed decisions give
the same notices: for each (finding, partner) in the share log, the finding's latest queue
decision (share_reviews) is compared with the pair's latest notice (share_retractions):

- dismissed, and the pair stands (no notice yet, or the last one a reinstatement) → a retraction;
- confirmed / escalated / shared, and the pair is retracted (last notice a retraction) → a reinstatement
  that names the retraction it withdraws. The partner keeps the one envelope it has (findings are
  deterministic: same id, same content) and marks it standing again; nothing is shared twice, and
  the envelope id stays the one key for the pair on both sides.
- anything else (a reopen, a second dismissal of a retracted finding) → nothing.

A notice's id hashes the pair, its kind and the queue event that caused it, so a replay claims
the same row and sends nothing. Notices are claimed in the same transaction as the decisions
(outbox), published after it, and re-sent by the sweep while the broker has not acknowledged them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from review.intake import insert_ignoring
from sharing.envelope import RETRACTION_SCHEMA, EnvelopeSigner
from sharing.models import ShareLogRow, ShareRetractionRow, ShareReviewRow
from sharing.routing import CONFIRMED_STATUSES, DISMISSED, ReviewState
from sharing.state import Pair, _aware, _chunks, parse_time

log = logging.getLogger(__name__)
REASONS = ("false_positive", "duplicate", "out_of_scope")  # review/lifecycle.DISMISS_REASONS, as the schema lists them
REINSTATED = "reconfirmed"


def notice_id(finding_id: str, partner: str, kind: str, review_event_id: str) -> str:
    """Deterministic: one notice per pair, kind and causing queue decision."""
    text = f"{RETRACTION_SCHEMA}|{partner}|{finding_id}|{kind}|{review_event_id}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def reason_category(reason: str | None) -> str:
    """The dismissal reason as the retraction states it; anything else (older events without one) is `unspecified`."""
    return reason if reason in REASONS else "unspecified"


def unsigned_notice(
    *,
    kind: str,
    finding_id: str,
    partner: str,
    issuer: str,
    issued_at: str,
    original_envelope_id: str,
    retraction_id: str | None,
    reason: str,
    decided_at: str | None,
    review_event_id: str,
) -> dict[str, Any]:
    """A retraction or reinstatement (sharing/retraction.v1.json) before signing: ids, reason category, time — no personal data."""
    return {
        "schema": RETRACTION_SCHEMA,
        "kind": kind,
        "envelope_id": notice_id(finding_id, partner, kind, review_event_id),
        "finding_id": finding_id,
        "partner": partner,
        "issuer": issuer,
        "issued_at": issued_at,
        "original_envelope_id": original_envelope_id,
        "retraction_id": retraction_id,
        "reason": reason,
        "decided_at": decided_at,
    }


@dataclass(frozen=True, slots=True)
class Notice:
    """A claimed notice to publish (key: the finding id)."""

    notice_id: str
    kind: str
    finding_id: str
    partner: str
    topic: str
    envelope: bytes
    reason: str


class Retractions:
    """The SQL and decisions of retractions, on the store's engine (table share_retractions, migration 0005)."""

    def __init__(self, engine: Engine, signers: Mapping[str, EnvelopeSigner], issuer: str, topic_of: Any) -> None:
        self.engine = engine
        self.signers = signers
        self.issuer = issuer
        self.topic_of = topic_of  # partner → its share topic

    def reconsider(self, s: Session, reviews: Mapping[str, ReviewState], now: dt.datetime) -> list[Notice]:
        """Claim the notices the latest decisions call for (see the module docstring); returns those newly claimed."""
        if not reviews:
            return []
        shared = self._shared(s, reviews)
        if not shared:
            return []
        latest = self._latest(s, shared)
        rows: list[dict[str, Any]] = []
        notices: dict[str, Notice] = {}
        for (fid, partner), original in sorted(shared.items()):
            review = reviews[fid]
            last = latest.get((fid, partner))
            if review.status == DISMISSED and (last is None or last[0] == "reinstatement"):
                kind, reason, retracted = "retraction", reason_category(review.reason), None
            elif review.status in CONFIRMED_STATUSES and last is not None and last[0] == "retraction":
                kind, reason, retracted = "reinstatement", REINSTATED, last[1]
            else:
                continue
            signer = self.signers.get(partner)
            if signer is None:  # the partner left the policy: nothing can be signed for it any more
                log.warning(
                    "share publisher: %s for %s to %s not sent: %s is not in the policy", kind, fid, partner, partner
                )
                continue
            notice = signer.sign(
                unsigned_notice(
                    kind=kind,
                    finding_id=fid,
                    partner=partner,
                    issuer=self.issuer,
                    issued_at=now.isoformat(),
                    original_envelope_id=original,
                    retraction_id=retracted,
                    reason=reason,
                    decided_at=review.decided_at,
                    review_event_id=review.event_id,
                )
            )
            raw = json.dumps(notice, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            topic = self.topic_of(partner)
            rows.append(
                {
                    "notice_id": notice["envelope_id"],
                    "kind": kind,
                    "finding_id": fid,
                    "partner": partner,
                    "original_envelope_id": original,
                    "retraction_id": retracted,
                    "reason": reason,
                    "alert_id": review.alert_id,
                    "review_event_id": review.event_id[:64],
                    "decided_at": parse_time(review.decided_at),
                    "topic": topic,
                    "envelope": raw.decode("utf-8"),
                    "created_at": now,
                    "sent_at": None,
                    "receipt_status": None,
                    "receipted_at": None,
                }
            )
            notices[notice["envelope_id"]] = Notice(notice["envelope_id"], kind, fid, partner, topic, raw, reason)
        if not rows:
            return []
        table = ShareRetractionRow.__table__
        stmt = insert_ignoring(s, table, ["notice_id"]).returning(table.c.notice_id)
        claimed = set(s.execute(stmt, rows).scalars())
        return [n for nid, n in notices.items() if nid in claimed]

    def recently_decided(self, s: Session, since: dt.datetime, limit: int = 5000) -> list[str]:
        """Findings shared with someone whose latest decision (dismissed or confirmed) is newer than `since`.

        For the sweep: a dismissal handled while another publisher was still claiming the share
        (neither transaction saw the other) is caught here.
        """
        statuses = [DISMISSED, *CONFIRMED_STATUSES]
        q = (
            select(ShareReviewRow.finding_id)
            .where(ShareReviewRow.decided_at >= since, ShareReviewRow.status.in_(statuses))
            .where(select(ShareLogRow.finding_id).where(ShareLogRow.finding_id == ShareReviewRow.finding_id).exists())
            .order_by(ShareReviewRow.decided_at.desc())
            .limit(limit)
        )
        return list(s.scalars(q))

    def unsent(self, created_before: dt.datetime, limit: int = 1000) -> list[Notice]:
        """Notices claimed but not acknowledged by the broker (a crash or broker outage between claim and send)."""
        with Session(self.engine) as s:
            q = (
                select(ShareRetractionRow)
                .where(ShareRetractionRow.sent_at.is_(None), ShareRetractionRow.created_at < created_before)
                .order_by(ShareRetractionRow.seq)
                .limit(limit)
            )
            return [
                Notice(r.notice_id, r.kind, r.finding_id, r.partner, r.topic, r.envelope.encode("utf-8"), r.reason)
                for r in s.scalars(q)
            ]

    def mark_sent(self, notice_ids: Iterable[str], at: dt.datetime) -> set[str]:
        """Set sent_at on notices not marked yet; returns those it marked (each counted once)."""
        ids = sorted(set(notice_ids))
        marked: set[str] = set()
        with Session(self.engine) as s, s.begin():
            for chunk in _chunks(ids):
                q = (
                    update(ShareRetractionRow)
                    .where(ShareRetractionRow.notice_id.in_(chunk), ShareRetractionRow.sent_at.is_(None))
                    .values(sent_at=at)
                    .returning(ShareRetractionRow.notice_id)
                )
                marked.update(s.execute(q).scalars())
        return marked

    def record_receipts(
        self, s: Session, receipts: Sequence[Mapping[str, Any]], at: dt.datetime
    ) -> list[tuple[str, str]]:
        """Note verified receipts that answer notices; (partner, status) per notice whose receipt status changed."""
        changed: list[tuple[str, str]] = []
        for r in receipts:
            status = r.get("status")
            if status not in ("accepted", "rejected") or not r.get("envelope_id"):
                continue
            row = ShareRetractionRow
            cond = and_(row.notice_id == str(r["envelope_id"]), row.partner == str(r["partner"]))
            if status == "accepted":
                cond = and_(cond, or_(row.receipt_status.is_(None), row.receipt_status != "accepted"))
            else:
                cond = and_(cond, row.receipt_status.is_(None))
            q = update(row).where(cond).values(receipt_status=status, receipted_at=at).returning(row.partner)
            changed.extend((p, status) for p in s.execute(q).scalars())
        return changed

    def history(self, finding_id: str | None = None, partner: str | None = None) -> list[dict[str, Any]]:
        """Notices in the order they were claimed, optionally for one finding and/or partner (audit, tests)."""
        q = select(ShareRetractionRow).order_by(ShareRetractionRow.seq)
        if finding_id:
            q = q.where(ShareRetractionRow.finding_id == finding_id)
        if partner:
            q = q.where(ShareRetractionRow.partner == partner)
        with Session(self.engine) as s:
            return [
                {
                    "notice_id": r.notice_id,
                    "kind": r.kind,
                    "finding_id": r.finding_id,
                    "partner": r.partner,
                    "original_envelope_id": r.original_envelope_id,
                    "retraction_id": r.retraction_id,
                    "reason": r.reason,
                    "alert_id": r.alert_id,
                    "decided_at": _aware(r.decided_at),
                    "created_at": _aware(r.created_at),
                    "sent_at": _aware(r.sent_at),
                    "receipt_status": r.receipt_status,
                }
                for r in s.scalars(q)
            ]

    # -- helpers --------------------------------------------------------------------------------------------

    def _shared(self, s: Session, reviews: Mapping[str, ReviewState]) -> dict[Pair, str]:
        """The share-log pairs of these findings, with their envelope ids."""
        ids = sorted(reviews)
        out: dict[Pair, str] = {}
        for chunk in _chunks(ids):
            q = select(ShareLogRow.finding_id, ShareLogRow.partner, ShareLogRow.envelope_id).where(
                ShareLogRow.finding_id.in_(chunk)
            )
            out.update(((f, p), e) for f, p, e in s.execute(q))
        return out

    def _latest(self, s: Session, pairs: Iterable[Pair]) -> dict[Pair, tuple[str, str]]:
        """(kind, notice id) of each pair's latest notice."""
        wanted = sorted(set(pairs))
        out: dict[Pair, tuple[str, str]] = {}
        r = ShareRetractionRow
        for chunk in _chunks(wanted):
            last = (
                select(func.max(r.seq))
                .where(tuple_(r.finding_id, r.partner).in_(chunk))
                .group_by(r.finding_id, r.partner)
            )
            q = select(r.finding_id, r.partner, r.kind, r.notice_id).where(r.seq.in_(last))
            out.update(((f, p), (k, n)) for f, p, k, n in s.execute(q))
        return out
