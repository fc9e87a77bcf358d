"""A partner's subscriber (`hrwatch subscribe --partner X`): verify envelopes, store them in the partner's own database, write receipts.

Tampered, forged, foreign (addressed to another partner) and malformed envelopes are rejected:
kept in `rejected_envelopes` with the reason and the raw bytes, counted, logged, and answered with
a `rejected` receipt — the subscriber never stops on them. Accepted envelopes are stored once per
finding id (redelivery changes nothing) and answered with an `accepted` receipt every time, so a
receipt lost in a crash is sent again.
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
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from review.intake import insert_ignoring
from sharing.consuming import ConsumerService, ConsumerSettings, make_consumer, send_all
from sharing.envelope import EnvelopeRejected, EnvelopeVerifier
from sharing.metrics import ShareMetrics
from sharing.topics import receipts_topic, share_topic
from streams.topics import TopicNames

log = logging.getLogger(__name__)
RECEIPT_SCHEMA = "hr.share.receipt.v1"


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
        metrics: ShareMetrics | None = None,
    ) -> None:
        if verifier.partner != config.partner:
            raise ValueError(f"the verifier is for {verifier.partner!r}, the subscriber for {config.partner!r}")
        self.config = config
        self.verifier = verifier
        self.engine = engine
        self.metrics = metrics or ShareMetrics()
        names = TopicNames(config.namespace)
        self.topic = share_topic(names, config.partner)
        self.receipts = receipts_topic(names)
        PartnerBase.metadata.create_all(engine)
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
        """Verify each message, store the accepted and the rejected, then write and await the receipts."""
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
        with Session(self.engine) as s, s.begin():
            accepted = [self._received_row(o, now) for o in outcomes if o.envelope is not None]
            new_ids: set[str] = set()
            if accepted:
                table = ReceivedEnvelopeRow.__table__
                stmt = insert_ignoring(s, table, ["finding_id"]).returning(table.c.finding_id)
                new_ids = set(s.execute(stmt, accepted).scalars())
            rejected = [self._rejected_row(o, now) for o in outcomes if o.rejection is not None]
            new_rejections: list[str] = []
            if rejected:
                table = RejectedEnvelopeRow.__table__
                keys = ["topic", "partition", "offset", "raw_sha256"]
                stmt = insert_ignoring(s, table, keys).returning(table.c.reason)
                new_rejections = list(s.execute(stmt, rejected).scalars())
        for _ in new_ids:
            self.metrics.received.labels(self.config.partner).inc()
        for reason in new_rejections:
            self.metrics.rejected.labels(self.config.partner, reason).inc()
        self._send_receipts(outcomes, now)

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
            e = o.envelope
            return {
                "schema": RECEIPT_SCHEMA,
                "partner": self.config.partner,
                "receiver": self.config.receiver or self.config.partner,
                "envelope_id": e["envelope_id"],
                "finding_id": e["finding_id"],
                "status": "accepted",
                "reason": None,
                "received_at": now.isoformat(),
            }
        assert o.rejection is not None
        claimed = _claimed_ids(o.message.value)
        return {
            "schema": RECEIPT_SCHEMA,
            "partner": self.config.partner,
            "receiver": self.config.receiver or self.config.partner,
            "envelope_id": claimed.get("envelope_id"),
            "finding_id": claimed.get("finding_id"),
            "status": "rejected",
            "reason": o.rejection.reason,
            "received_at": now.isoformat(),
        }

    # -- reading the partner's database ---------------------------------------------------------------

    def received(self) -> list[dict[str, Any]]:
        """Every stored envelope (as received), oldest first."""
        with Session(self.engine) as s:
            q = select(ReceivedEnvelopeRow.envelope).order_by(
                ReceivedEnvelopeRow.received_at, ReceivedEnvelopeRow.finding_id
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
