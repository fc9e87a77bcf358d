"""Fixtures for the sharing tests: key pairs, migrated stores (SQLite, PostgreSQL), findings and subjects, a fake producer."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from review.queue import ReviewQueue
from review.store import FindingStore
from sharing.envelope import KeyRing
from sharing.keygen import generate
from sharing.policy import SharingPolicy, load_policy
from sharing.publisher import PublisherConfig, SharePublisher
from sharing.receipts import signed_receipt
from sharing.subscriber import PartnerSubscriber, SubscriberConfig

PARTNERS = ("police", "market", "tax")
T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key pair per partner and a receipt key pair per partner, plus `intruder` pairs nobody trusts."""
    d = tmp_path_factory.mktemp("keys")
    for p in (*PARTNERS, "intruder"):
        generate(p, d)
        generate(p, d, receipts=True)
    return d


@pytest.fixture(scope="session")
def keys(key_dir: Path) -> KeyRing:
    return KeyRing(key_dir)


@pytest.fixture(scope="session")
def policy() -> SharingPolicy:
    return load_policy()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[FindingStore]:
    s = FindingStore(f"sqlite:///{tmp_path / 'store.db'}")
    s.migrate()
    yield s
    s.close()


# -- records and findings ---------------------------------------------------------------------------------

AGENCY = {"name": "苏州锦程人力资源有限公司", "uscc": "91320500MA1XXXXX0X", "license_no": "320500202301"}


def posting(pid: str, *, agency: bool = False, phone: str = "13812345678", **extra: Any) -> dict[str, Any]:
    """A job posting with a contact person (personal data) and, optionally, an agency."""
    rec: dict[str, Any] = {
        "type": "job_posting",
        "id": pid,
        "source": "58同城",
        "url": f"https://example.cn/jobs/{pid}",
        "title": "居家打字员 日结",
        "description": f"联系王经理 {phone}，身份证号 110105199001011234 报名",
        "employer": {"name": "苏州某某电子商务有限公司", "uscc": "91320505MA1YYYYY1Y"},
        "location": {"city": "苏州", "district": "姑苏区", "address": "学院路12号3栋502室"},
        "contact": {"name": "王小明", "phone": phone, "wechat": "wang_xm_888", "qq": "12345678"},
        "posted_at": "2026-11-22T09:00:00+08:00",
    }
    if agency:
        rec["agency"] = dict(AGENCY)
    rec.update(extra)
    return rec


def filing(fid: str) -> dict[str, Any]:
    return {
        "type": "agency_filing",
        "id": fid,
        "filing_type": "annual_report",
        "agency": {"name": "无锡速聘人力资源服务有限公司", "uscc": "91320200XXXXXXXX12"},
        "annual_report": {"year": 2025, "revenue_cny": 1200000, "fees_collected_cny": 2600000, "tax_paid_cny": 1000},
        "legal_representative": "李四",
        "filed_at": "2026-03-01T10:00:00+08:00",
    }


def finding(
    rule: str,
    subject_id: str,
    *,
    severity: str = "high",
    subject_type: str = "job_posting",
    score: float = 0.9,
    n: int = 0,
) -> dict[str, Any]:
    """A finding.v1 object with a stable id (subject, rule, n)."""
    fid = hashlib.sha256(f"{subject_type}|{subject_id}|{rule}|{n}".encode()).hexdigest()
    return {
        "id": fid,
        "subject": {"type": subject_type, "id": subject_id},
        "category": rule.split(".", 1)[0],
        "rule": rule,
        "severity": severity,
        "score": score,
        "evidence": [{"field": "description", "start": 2, "end": 13, "excerpt": "138****5678"}],
        "legal_basis": ["人力资源市场暂行条例 第二十五条"],
        "explanation": f"{rule} fired",
        "detector_version": "test",
        "detected_at": "2026-11-22T09:00:01+00:00",
    }


def review_event(
    alert_id: str,
    decision: str,
    finding_ids: list[str],
    *,
    partners: tuple[str, ...] = (),
    at: dt.datetime = T0,
    reason: str = "false_positive",
) -> dict[str, Any]:
    """hr.reviews.v1 as the review queue writes it (review/README.md); `reason` only for dismiss."""
    status = {
        "confirm": "confirmed",
        "dismiss": "dismissed",
        "escalate": "escalated",
        "share": "shared",
        "reopen": "in_review",
    }[decision]
    return {
        "schema": "review.v1",
        "event_id": str(uuid.uuid4()),
        "alert_id": alert_id,
        "decision": decision,
        "status": status,
        "previous_status": "in_review",
        "reason": reason if decision == "dismiss" else None,
        "partners": list(partners),
        "subject": {"type": "job_posting", "id": "x"},
        "finding_ids": finding_ids,
        "rules": [],
        "categories": [],
        "severity": "high",
        "case": None,
        "decided_by": {"username": "rev", "role": "reviewer"},
        "decided_at": at.isoformat(),
    }


def receipt_for(
    keys: KeyRing, env: dict[str, Any], status: str, partner: str = "police", *, reason: str | None = None
) -> dict[str, Any]:
    """A receipt for an envelope (or retraction), signed with `partner`'s receipt key as its subscriber would."""
    return signed_receipt(
        keys.signer(partner, receipts=True),
        partner=partner,
        receiver=f"{partner}-desk",
        envelope_id=env["envelope_id"],
        finding_id=env["finding_id"],
        status=status,
        reason=reason if status == "rejected" else None,
        received_at=T0.isoformat(),
    )


def store_subjects(engine: Engine, records: list[dict[str, Any]]) -> None:
    """Subject records as the review queue stores them (table `subjects`)."""
    ReviewQueue(engine).record_subjects(records)


# -- a publisher without a broker -------------------------------------------------------------------------


@dataclass
class Message:
    """What kafka-python's consumer hands out, as far as the handlers look."""

    topic: str
    value: bytes | None
    key: bytes | None = None
    partition: int = 0
    offset: int = 0


class _Done:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> None:
        if self.error is not None:
            raise self.error


@dataclass
class FakeProducer:
    """Records what would have been published; `fail` makes sends fail (broker down)."""

    sent: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    fail: bool = False

    def send(self, topic: str, key: bytes, value: bytes) -> _Done:
        if self.fail:
            return _Done(RuntimeError("broker unreachable"))
        self.sent.append((topic, key, value))
        return _Done()

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        pass

    def envelopes(self, partner: str | None = None) -> list[dict[str, Any]]:
        out = [orjson.loads(v) for _t, _k, v in self.sent]
        return [e for e in out if partner is None or e["partner"] == partner]


@dataclass
class OfflinePublisher:
    """A SharePublisher fed by hand: `findings(...)`, `reviews(...)`, `receipts(...)`; sends go to a FakeProducer."""

    publisher: SharePublisher
    producer: FakeProducer
    clock: list[dt.datetime]

    def findings(self, *objs: dict[str, Any]) -> None:
        self._feed(self.publisher.topics["findings"], objs)

    def reviews(self, *objs: dict[str, Any]) -> None:
        self._feed(self.publisher.topics["reviews"], objs)

    def receipts(self, *objs: dict[str, Any]) -> None:
        self._feed(self.publisher.topics["receipts"], objs)

    def raw(self, topic_kind: str, value: bytes | None) -> None:
        self.publisher.handle([Message(self.publisher.topics[topic_kind], value)])

    def _feed(self, topic: str, objs: tuple[dict[str, Any], ...]) -> None:
        self.publisher.handle([Message(topic, orjson.dumps(o), None, 0, i) for i, o in enumerate(objs)])

    def advance(self, seconds: float) -> None:
        self.clock[0] += dt.timedelta(seconds=seconds)

    def shared(self, partner: str) -> dict[str, dict[str, Any]]:
        """Envelopes sent to a partner, by finding id."""
        return {e["finding_id"]: e for e in self.producer.envelopes(partner)}


@dataclass
class OfflineSubscriber:
    """A PartnerSubscriber fed by hand with messages as they would come off its topic; receipts go to a FakeProducer."""

    subscriber: PartnerSubscriber
    producer: FakeProducer
    offset: int = 0

    def feed(self, *messages: dict[str, Any] | bytes) -> None:
        batch = []
        for m in messages:
            raw = m if isinstance(m, bytes) else orjson.dumps(m)
            key = m["finding_id"].encode() if isinstance(m, dict) else None
            batch.append(Message(self.subscriber.topic, raw, key, 0, self.offset))
            self.offset += 1
        self.subscriber.handle(batch)

    def receipts(self) -> list[dict[str, Any]]:
        return [orjson.loads(v) for _t, _k, v in self.producer.sent]


def make_subscriber(keys: KeyRing, partner: str, engine: Engine) -> OfflineSubscriber:
    config = SubscriberConfig("unused:9092", partner)
    sub = PartnerSubscriber(config, keys.verifier(partner), engine, receipt_signer=keys.signer(partner, receipts=True))
    producer = FakeProducer()
    sub._producer = producer
    return OfflineSubscriber(sub, producer)


def make_offline(store: FindingStore, keys: KeyRing, policy: SharingPolicy, **options: Any) -> OfflinePublisher:
    """An offline publisher on the store; options go to PublisherConfig."""
    clock = [T0]
    config = PublisherConfig(bootstrap="unused:9092", **options)
    publisher = SharePublisher(config, policy, keys, store.engine, clock=lambda: clock[0])
    producer = FakeProducer()
    publisher._producer = producer
    return OfflinePublisher(publisher, producer, clock)


@pytest.fixture
def offline(store: FindingStore, keys: KeyRing, policy: SharingPolicy) -> Callable[..., OfflinePublisher]:
    """Build an offline publisher on the `store` fixture (SQLite and PostgreSQL)."""
    return lambda **options: make_offline(store, keys, policy, **options)


@pytest.fixture
def offline_on(keys: KeyRing, policy: SharingPolicy) -> Callable[..., OfflinePublisher]:
    """Build an offline publisher on a given store."""
    return lambda store, **options: make_offline(store, keys, policy, **options)
