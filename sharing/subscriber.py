"""A partner's subscriber (`hrwatch subscribe --partner X`): verify envelopes, store them in the partner's own database, write receipts.

Tampered, forged, foreign (addressed to another partner) and malformed envelopes are rejected:
kept in `rejected_envelopes` with the reason and the raw bytes, counted, logged, and answered with
a `rejected` receipt — the subscriber never stops on them. Accepted envelopes are stored once per
finding id (redelivery changes nothing) and answered with an `accepted` receipt every time, so a
receipt lost in a crash is sent again. Receipts are signed with the partner's own receipt key.

Retractions (hr.share.retraction.v1, same topic) are verified the same way and kept in
`received_retractions`; the finding they withdraw stays in `received_envelopes` (audit) with
`retraction_id`, `retraction_reason`, `retracted_at` set — cleared again by a reinstatement. Which
applies is decided from all notices of the finding by decision time, so their order of arrival
(even a retraction before its envelope) does not matter.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from review.intake import insert_ignoring
from sharing.consuming import ConsumerService, ConsumerSettings, make_consumer, send_all
from sharing.envelope import RETRACTION_SCHEMA, EnvelopeRejected, EnvelopeSigner, EnvelopeVerifier
from sharing.metrics import ShareMetrics
from sharing.receipts import signed_receipt
from sharing.state import parse_time
from sharing.topics import receipts_topic, share_topic
from streams.topics import TopicNames

log = logging.getLogger(__name__)


class PartnerBase(DeclarativeBase):
    """The partner's own database: not the hrwatch store, and created without hrwatch's migrations."""

    metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})


class ReceivedEnvelopeRow(PartnerBase):
    """A verified envelope, once per finding id."""

    __tablename__ = "received_envelopes"

    finding_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    envelope_id: Mapped[str] = mapped_column(String(32))
    partner: Mapped[str] = mapped_column(String(32))
    issuer: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[str] = mapped_column(String(40))
    route: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(20))
    classification: Mapped[str] = mapped_column(String(100))
    legal_basis: Mapped[str] = mapped_column(Text)  # JSON list
    rule: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    envelope: Mapped[str] = mapped_column(Text)  # the whole signed envelope, as received
    topic: Mapped[str] = mapped_column(String(249))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Set while the sender has withdrawn the finding (a retraction), cleared by a reinstatement; the row stays.
    retraction_id: Mapped[str | None] = mapped_column(String(32))
    retraction_reason: Mapped[str | None] = mapped_column(String(40))
    retracted_at: Mapped[str | None] = mapped_column(String(40))  # the dismissal's decision time, as sent


# Columns added after the first pilot databases were created: added in place at start-up (all nullable).
_ADDED_COLUMNS = {"received_envelopes": ("retraction_id", "retraction_reason", "retracted_at")}


class ReceivedRetractionRow(PartnerBase):
    """A verified retraction or reinstatement, once per notice id (its envelope_id)."""

    __tablename__ = "received_retractions"

    envelope_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # retraction | reinstatement
    finding_id: Mapped[str] = mapped_column(String(64))
    original_envelope_id: Mapped[str] = mapped_column(String(32))
    retraction_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(40))
    decided_at: Mapped[str | None] = mapped_column(String(40))
    issued_at: Mapped[str] = mapped_column(String(40))
    envelope: Mapped[str] = mapped_column(Text)  # as received
    topic: Mapped[str] = mapped_column(String(249))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_received_retractions_finding", "finding_id"),)


class RejectedEnvelopeRow(PartnerBase):
    """A message that failed verification, with the reason and its bytes (for the partner's security team)."""

    __tablename__ = "rejected_envelopes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(249))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    key: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # base64
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("topic", "partition", "offset", "raw_sha256", name="uq_rejected_envelopes_message"),
        Index("ix_rejected_envelopes_reason", "reason"),
    )


@dataclass(frozen=True, slots=True)
class SubscriberConfig:
    bootstrap: str
    partner: str
    namespace: str = ""
    group_id: str | None = None  # default hrwatch-partner-<partner>
    session_timeout: float = 6.0
    heartbeat_interval: float = 1.0
    receiver: str | None = None  # who signs for receipts; default the partner name

    @property
    def group(self) -> str:
        return self.group_id or f"hrwatch-partner-{self.partner}"


@dataclass(frozen=True, slots=True)
class _Outcome:
    message: Any
    envelope: dict[str, Any] | None
    rejection: EnvelopeRejected | None


class PartnerSubscriber(ConsumerService):
    """Consumes hr.share.<partner>.v1 for one partner; `handle()` takes one batch (at-least-once, idempotent)."""

    def __init__(
        self,
        config: SubscriberConfig,
        verifier: EnvelopeVerifier,
        engine: Engine,
        *,
        receipt_signer: EnvelopeSigner,
        metrics: ShareMetrics | None = None,
    ) -> None:
        if verifier.partner != config.partner:
            raise ValueError(f"the verifier is for {verifier.partner!r}, the subscriber for {config.partner!r}")
        self.config = config
        self.verifier = verifier
        self.receipt_signer = receipt_signer
        self.engine = engine
        self.metrics = metrics or ShareMetrics()
        for counter in (self.metrics.received, self.metrics.retractions_received, self.metrics.reinstatements_received):
            counter.labels(config.partner)  # at 0 from the start, so increase() sees the first one
        names = TopicNames(config.namespace)
        self.topic = share_topic(names, config.partner)
        self.receipts = receipts_topic(names)
        PartnerBase.metadata.create_all(engine)
        _add_missing_columns(engine)
        self.bootstrap = config.bootstrap
        self.client_id = f"hrwatch-partner-{config.partner}"

    def start(self) -> PartnerSubscriber:
        """Consume in a background thread; `stop()` ends it."""
        consumer = make_consumer(
            ConsumerSettings(
                self.config.bootstrap,
                self.config.group,
                self.config.session_timeout,
                self.config.heartbeat_interval,
                500,
                self.client_id,
            ),
            [self.topic],
        )
        self._run_loop(consumer, self.handle, f"{self.config.partner} subscriber")
        return self

    def handle(self, messages: Sequence[Any]) -> None:
        """Verify each message, store the accepted and the rejected, apply retractions, then write and await the receipts."""
        outcomes: list[_Outcome] = []
        for m in messages:
            try:
                outcomes.append(_Outcome(m, self.verifier.verify(m.value, m.key), None))
            except EnvelopeRejected as exc:
                outcomes.append(_Outcome(m, None, exc))
                log.warning(
                    "%s subscriber: rejected %s[%d]@%d: %s", self.config.partner, m.topic, m.partition, m.offset, exc
                )
        now = dt.datetime.now(dt.UTC)
        verified = [o for o in outcomes if o.envelope is not None]
        with Session(self.engine) as s, s.begin():
            accepted = [self._received_row(o, now) for o in verified if o.envelope["schema"] != RETRACTION_SCHEMA]
            new_ids: set[str] = set()
            if accepted:
                table = ReceivedEnvelopeRow.__table__
                stmt = insert_ignoring(s, table, ["finding_id"]).returning(table.c.finding_id)
                new_ids = set(s.execute(stmt, accepted).scalars())
            notices = [self._notice_row(o, now) for o in verified if o.envelope["schema"] == RETRACTION_SCHEMA]
            new_notices: list[str] = []
            if notices:
                table = ReceivedRetractionRow.__table__
                stmt = insert_ignoring(s, table, ["envelope_id"]).returning(table.c.kind)
                new_notices = list(s.execute(stmt, notices).scalars())
            if new_ids or new_notices:
                _apply_retractions(s, new_ids | {n["finding_id"] for n in notices})
            rejected = [self._rejected_row(o, now) for o in outcomes if o.rejection is not None]
            new_rejections: list[str] = []
            if rejected:
                table = RejectedEnvelopeRow.__table__
                keys = ["topic", "partition", "offset", "raw_sha256"]
                stmt = insert_ignoring(s, table, keys).returning(table.c.reason)
                new_rejections = list(s.execute(stmt, rejected).scalars())
        for _ in new_ids:
            self.metrics.received.labels(self.config.partner).inc()
        for kind in new_notices:
            counter = (
                self.metrics.retractions_received if kind == "retraction" else self.metrics.reinstatements_received
            )
            counter.labels(self.config.partner).inc()
        for reason in new_rejections:
            self.metrics.rejected.labels(self.config.partner, reason).inc()
        self._send_receipts(outcomes, now)

    def _notice_row(self, o: _Outcome, now: dt.datetime) -> dict[str, Any]:
        e = o.envelope
        assert e is not None
        return {
            "envelope_id": e["envelope_id"],
            "kind": e["kind"],
            "finding_id": e["finding_id"],
            "original_envelope_id": e["original_envelope_id"],
            "retraction_id": e["retraction_id"],
            "reason": e["reason"],
            "decided_at": e["decided_at"],
            "issued_at": e["issued_at"],
            "envelope": o.message.value.decode("utf-8"),
            "topic": o.message.topic,
            "partition": o.message.partition,
            "offset": o.message.offset,
            "received_at": now,
        }

    def _received_row(self, o: _Outcome, now: dt.datetime) -> dict[str, Any]:
        e = o.envelope
        assert e is not None
        return {
            "finding_id": e["finding_id"],
            "envelope_id": e["envelope_id"],
            "partner": e["partner"],
            "issuer": e["issuer"],
            "issued_at": e["issued_at"],
            "route": e["policy"]["route"],
            "trigger": e["policy"]["trigger"],
            "classification": e["classification"],
            "legal_basis": orjson.dumps(e["policy"]["legal_basis"]).decode(),
            "rule": (e["payload"].get("finding") or {}).get("rule"),
            "payload": orjson.dumps(e["payload"]).decode(),
            "envelope": o.message.value.decode("utf-8"),
            "topic": o.message.topic,
            "partition": o.message.partition,
            "offset": o.message.offset,
            "received_at": now,
        }

    def _rejected_row(self, o: _Outcome, now: dt.datetime) -> dict[str, Any]:
        assert o.rejection is not None
        raw = o.message.value or b""
        key = o.message.key.decode("utf-8", "replace") if o.message.key else None
        return {
            "topic": o.message.topic,
            "partition": o.message.partition,
            "offset": o.message.offset,
            "raw_sha256": hashlib.sha256(raw).hexdigest(),
            "key": key,
            "reason": o.rejection.reason,
            "detail": o.rejection.detail[:2000],
            "raw": base64.b64encode(raw).decode("ascii"),
            "received_at": now,
        }

    def _send_receipts(self, outcomes: Sequence[_Outcome], now: dt.datetime) -> None:
        if not outcomes:
            return
        messages = []
        for o in outcomes:
            receipt = self._receipt(o, now)
            key = (receipt["finding_id"] or "").encode() or (o.message.key or b"")
            messages.append((self.receipts, key, orjson.dumps(receipt)))
        errors = [e for e in send_all(self.producer, messages) if e is not None]
        if errors:
            raise RuntimeError(f"{len(errors)} receipts not acknowledged: {errors[0]}")  # the batch is retried
        for _topic, _key, value in messages:
            self.metrics.receipts_sent.labels(self.config.partner, orjson.loads(value)["status"]).inc()

    def _receipt(self, o: _Outcome, now: dt.datetime) -> dict[str, Any]:
        if o.envelope is not None:
            ids, status, reason = o.envelope, "accepted", None
        else:
            assert o.rejection is not None
            ids, status, reason = _claimed_ids(o.message.value), "rejected", o.rejection.reason
        return signed_receipt(
            self.receipt_signer,
            partner=self.config.partner,
            receiver=self.config.receiver or self.config.partner,
            envelope_id=ids.get("envelope_id"),
            finding_id=ids.get("finding_id"),
            status=status,
            reason=reason,
            received_at=now.isoformat(),
        )

    # -- reading the partner's database ---------------------------------------------------------------

    def received(self) -> list[dict[str, Any]]:
        """Every stored envelope (as received), oldest first."""
        with Session(self.engine) as s:
            q = select(ReceivedEnvelopeRow.envelope).order_by(
                ReceivedEnvelopeRow.received_at, ReceivedEnvelopeRow.finding_id
            )
            return [orjson.loads(e) for e in s.scalars(q)]

    def retracted(self) -> dict[str, tuple[str, str | None]]:
        """Stored findings currently withdrawn by the sender: finding id → (reason, decided at)."""
        with Session(self.engine) as s:
            q = select(
                ReceivedEnvelopeRow.finding_id, ReceivedEnvelopeRow.retraction_reason, ReceivedEnvelopeRow.retracted_at
            ).where(ReceivedEnvelopeRow.retraction_id.is_not(None))
            return {f: (r or "", at) for f, r, at in s.execute(q)}

    def notices(self) -> list[dict[str, Any]]:
        """Every retraction and reinstatement received (as received), oldest first."""
        with Session(self.engine) as s:
            q = select(ReceivedRetractionRow.envelope).order_by(
                ReceivedRetractionRow.received_at, ReceivedRetractionRow.envelope_id
            )
            return [orjson.loads(e) for e in s.scalars(q)]

    def rejected(self) -> list[tuple[str, str]]:
        """(reason, detail) of every stored rejection."""
        with Session(self.engine) as s:
            q = select(RejectedEnvelopeRow.reason, RejectedEnvelopeRow.detail).order_by(RejectedEnvelopeRow.id)
            return [(r, d) for r, d in s.execute(q)]

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as s:
            return {
                "received": int(s.scalar(select(func.count()).select_from(ReceivedEnvelopeRow)) or 0),
                "rejected": int(s.scalar(select(func.count()).select_from(RejectedEnvelopeRow)) or 0),
                "retracted": int(
                    s.scalar(
                        select(func.count())
                        .select_from(ReceivedEnvelopeRow)
                        .where(ReceivedEnvelopeRow.retraction_id.is_not(None))
                    )
                    or 0
                ),
            }


def _claimed_ids(raw: bytes | None) -> dict[str, str]:
    """The ids a rejected message claims (unverified: used only to address the rejection receipt)."""
    try:
        obj = orjson.loads(raw or b"")
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(obj, dict):
        return {}
    return {k: obj[k] for k in ("envelope_id", "finding_id") if isinstance(obj.get(k), str) and len(obj[k]) <= 64}


def _apply_retractions(s: Session, finding_ids: set[str]) -> None:
    """Set or clear the retraction columns of these stored findings from all their notices, latest decision last."""
    ids = sorted(finding_ids)
    stored = dict(
        s.execute(
            select(ReceivedEnvelopeRow.finding_id, ReceivedEnvelopeRow.envelope_id).where(
                ReceivedEnvelopeRow.finding_id.in_(ids)
            )
        ).all()
    )
    if not stored:
        return
    notices: dict[str, list[ReceivedRetractionRow]] = {}
    q = select(ReceivedRetractionRow).where(ReceivedRetractionRow.finding_id.in_(list(stored)))
    for n in s.scalars(q):
        if n.original_envelope_id == stored[n.finding_id]:
            notices.setdefault(n.finding_id, []).append(n)
    for fid, found in notices.items():
        last = max(found, key=_notice_order)
        values: dict[str, Any] = (
            {"retraction_id": last.envelope_id, "retraction_reason": last.reason, "retracted_at": last.decided_at}
            if last.kind == "retraction"
            else {"retraction_id": None, "retraction_reason": None, "retracted_at": None}
        )
        s.execute(update(ReceivedEnvelopeRow).where(ReceivedEnvelopeRow.finding_id == fid).values(**values))


def _notice_order(n: ReceivedRetractionRow) -> tuple[dt.datetime, dt.datetime, int]:
    """Decision time first (the queue's order), then issue time; a reinstatement names its retraction, so it comes after it."""
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    decided = parse_time(n.decided_at) or parse_time(n.issued_at) or never
    return decided, parse_time(n.issued_at) or never, 1 if n.kind == "reinstatement" else 0


def _add_missing_columns(engine: Engine) -> None:
    """Add the nullable columns a partner database from an earlier version lacks (create_all adds tables only)."""
    found = inspect(engine)
    for table_name, columns in _ADDED_COLUMNS.items():
        have = {c["name"] for c in found.get_columns(table_name)}
        table = PartnerBase.metadata.tables[table_name]
        with engine.begin() as conn:
            for name in columns:
                if name not in have:
                    kind = table.c[name].type.compile(dialect=engine.dialect)
                    conn.execute(text(f'ALTER TABLE {table_name} ADD COLUMN "{name}" {kind}'))
