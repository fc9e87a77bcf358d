"""Sharing on the real broker: findings in → each partner topic gets exactly its findings, minimised, verified, receipted;
confirmed-only findings wait for the queue; replays share nothing twice; tampered envelopes are rejected and counted."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detectors import DetectionEngine
from review.store import FindingStore, make_engine
from schemas import parse_json
from sharing.audit import entries
from sharing.envelope import KeyRing, unsigned_envelope
from sharing.metrics import ShareMetrics
from sharing.models import ShareLogRow
from sharing.policy import SharingPolicy
from sharing.publisher import PublisherConfig, SharePublisher
from sharing.receipts import ReceiptVerifier
from sharing.subscriber import PartnerSubscriber, SubscriberConfig
from sharing.topics import publisher_topics, receipts_topic, share_topic
from streams.broker import EmbeddedBroker
from streams.ingest import wait_until_committed
from streams.topics import REVIEWS, TopicNames, ensure_topics
from tests.conftest import StreamNames
from tests.sharing.conftest import PARTNERS, finding, posting, review_event, store_subjects
from tests.streams.conftest import StreamHarness
from tests.streams.conftest import wait_for as _wait_for

DEV_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "eval_dev.jsonl"
WAIT = 60.0  # s: generous for a loaded 2-core machine; every wait ends as soon as its condition holds


def wait_for(condition: Callable[[], bool], message: Callable[[], str], timeout: float = WAIT) -> None:
    _wait_for(condition, timeout, message)


@dataclass
class Sharing:
    """A namespace on the session broker, a store, a publisher and the partners' subscribers of one test."""

    broker: EmbeddedBroker
    names: StreamNames
    tmp_path: Path
    keys: KeyRing
    policy: SharingPolicy
    store: FindingStore = field(init=False)
    publishers: list[SharePublisher] = field(default_factory=list)
    subscribers: dict[str, PartnerSubscriber] = field(default_factory=dict)
    producer: KafkaProducer = field(init=False)

    def __post_init__(self) -> None:
        self.store = FindingStore(f"sqlite:///{self.tmp_path / 'store.db'}")
        self.store.migrate()
        self.topics = TopicNames(self.names.namespace)
        ensure_topics(self.broker.bootstrap, publisher_topics(self.topics, PARTNERS), 2)
        self.producer = KafkaProducer(bootstrap_servers=self.broker.bootstrap, acks="all", linger_ms=5)

    def start_publisher(self, group_suffix: str = "pub") -> SharePublisher:
        config = PublisherConfig(
            bootstrap=self.broker.bootstrap,
            namespace=self.names.namespace,
            group_id=f"{self.names.group}-{group_suffix}",
            session_timeout=6,
            heartbeat_interval=1,
            sweep_every=0.5,
        )
        pub = SharePublisher(config, self.policy, self.keys, self.store.engine, metrics=ShareMetrics()).start()
        self.publishers.append(pub)
        return pub

    def start_subscribers(self, partners: Iterable[str] = PARTNERS) -> None:
        for p in partners:
            config = SubscriberConfig(
                self.broker.bootstrap,
                p,
                self.names.namespace,
                f"{self.names.group}-{p}",
                session_timeout=6,
                heartbeat_interval=1,
            )
            engine = make_engine(f"sqlite:///{self.tmp_path / f'partner-{p}.db'}")
            self.subscribers[p] = PartnerSubscriber(
                config,
                self.keys.verifier(p),
                engine,
                receipt_signer=self.keys.signer(p, receipts=True),
                metrics=ShareMetrics(),
            ).start()

    def produce(self, topic: str, items: Iterable[tuple[bytes, bytes]]) -> dict[tuple[str, int], int]:
        """Publish (key, value) pairs and wait for the acknowledgements; returns the next offset per partition."""
        futures = [self.producer.send(topic, key=k, value=v) for k, v in items]
        self.producer.flush(30)
        ends: dict[tuple[str, int], int] = {}
        for f in futures:
            meta = f.get(30)
            ends[(meta.topic, meta.partition)] = max(ends.get((meta.topic, meta.partition), 0), meta.offset + 1)
        return ends

    def publish_findings(self, findings: Iterable[dict[str, Any]]) -> dict[tuple[str, int], int]:
        return self.produce(self.topics.findings, [(f["subject"]["id"].encode(), orjson.dumps(f)) for f in findings])

    def publish_reviews(self, events: Iterable[dict[str, Any]]) -> dict[tuple[str, int], int]:
        return self.produce(self.topics.name(REVIEWS), [(e["alert_id"].encode(), orjson.dumps(e)) for e in events])

    def wait_processed(self, publisher: SharePublisher, ends: dict[tuple[str, int], int]) -> None:
        """Until the publisher's group committed past `ends`: everything it shares for them has been published."""
        wait_until_committed(self.broker.bootstrap, publisher.config.group_id, ends, WAIT)

    def received(self, partner: str) -> dict[str, dict[str, Any]]:
        return {e["finding_id"]: e for e in self.subscribers[partner].received()}

    def topic_messages(self, topic: str) -> list[Any]:
        """Every message of a topic, read to its end."""
        return StreamHarness(self.broker, self.names, self.tmp_path, "").read_topic(topic)

    def stop(self) -> None:
        for pub in self.publishers:
            pub.stop()
        for sub in self.subscribers.values():
            sub.stop()
            sub.engine.dispose()
        self.producer.close(10)
        self.store.close()


@pytest.fixture
def sharing(
    kafka_broker: EmbeddedBroker, stream_names: StreamNames, tmp_path: Path, keys: KeyRing, policy: SharingPolicy
) -> Iterator[Sharing]:
    s = Sharing(kafka_broker, stream_names, tmp_path, keys, policy)
    try:
        yield s
    finally:
        s.stop()


def _dev_sample() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The dev sample's records and the findings the detectors give for them (in file order)."""
    assert DEV_SAMPLE.exists(), f"the dev sample {DEV_SAMPLE} is missing (shared/ must sit beside the repo)"
    engine = DetectionEngine()
    records, findings = [], []
    for line in DEV_SAMPLE.read_bytes().splitlines():
        if line.strip():
            record = parse_json(line)
            records.append(orjson.loads(line))
            findings.extend(f.to_dict() for f in engine.process(record))
    return records, findings


def _immediate_for(partner: str, f: dict[str, Any]) -> bool:
    """The bundled policy's immediate routes, restated independently of sharing/policy.py."""
    rank = {"low": 0, "medium": 1, "high": 2, "critical": 3}[f["severity"]]
    rule, subject = f["rule"], f["subject"]["type"]
    if partner == "police":
        return rank >= 2 and rule in {
            "fake_recruitment.task_scam",
            "fake_recruitment.overseas_lure",
            "fake_recruitment.pyramid_scheme",
            "personal_data.resume_trade",
        }
    if partner == "market":
        return (
            rank >= 1
            and subject == "job_posting"
            and rule
            in {
                "fake_recruitment.inactive_employer",
                "fake_recruitment.employer_mismatch",
                "fake_recruitment.invalid_uscc",
            }
        )
    return rank >= 1 and subject == "agency_filing" and rule == "fake_recruitment.invalid_uscc"


def _leaf_paths(obj: dict[str, Any], fields: set[str], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in obj.items():
        path = f"{prefix}.{key}" if prefix else key
        out |= {path} if path in fields or not isinstance(value, dict) else _leaf_paths(value, fields, path)
    return out


def test_findings_reach_exactly_their_partners_minimised_verified_and_receipted(sharing: Sharing) -> None:
    records, findings = _dev_sample()
    extra_records = [
        posting("p-mismatch"),
        {
            "type": "agency_filing",
            "id": "f-annual",
            "filing_type": "annual_report",
            "agency": {"name": "无锡速聘人力资源服务有限公司", "uscc": "91320200XXXXXXXX12"},
            "filed_at": "2026-03-01T10:00:00+08:00",
        },
    ]
    findings += [
        finding("fake_recruitment.employer_mismatch", "p-mismatch", severity="medium"),
        finding("fake_recruitment.invalid_uscc", "f-annual", severity="medium", subject_type="agency_filing"),
    ]
    store_subjects(sharing.store.engine, records + extra_records)
    expected = {p: {f["id"] for f in findings if _immediate_for(p, f)} for p in PARTNERS}
    assert all(expected.values()) and len(expected["police"]) >= 10, expected

    sharing.start_subscribers()
    pub = sharing.start_publisher()
    ends = sharing.publish_findings(findings)
    sharing.wait_processed(pub, ends)
    for p in PARTNERS:
        on_topic = [orjson.loads(m.value) for m in sharing.topic_messages(share_topic(sharing.topics, p))]
        assert {e["finding_id"] for e in on_topic} == expected[p], p
        assert len(on_topic) == len(expected[p]), f"{p}: a finding was shared twice"
        wait_for(
            lambda p=p: set(sharing.received(p)) == expected[p],
            lambda p=p: f"{p} stored {len(sharing.received(p))} of {len(expected[p])}",
        )

    by_id = {f["id"]: f for f in findings}
    subjects = {(r["type"], r["id"]): r for r in records + extra_records}
    for p in PARTNERS:
        for fid, env in sharing.received(p).items():
            route = sharing.policy.route(env["policy"]["route"])
            assert route is not None and route.partner == p
            assert _leaf_paths(env["payload"], set(route.fields)) <= set(route.fields)
            record = subjects[(by_id[fid]["subject"]["type"], by_id[fid]["subject"]["id"])]
            contact = env["payload"].get("record", {}).get("contact", {})
            if p == "police" and record.get("contact", {}).get("phone"):
                assert contact["phone"] == record["contact"]["phone"]  # unmasked, with the route's legal basis
                assert env["minimisation"]["unmask_legal_basis"]
            if p != "police":
                assert not contact
            assert env["policy"]["legal_basis"] == list(route.legal_basis)

    # Receipts come back and are noted in the audit log; the metrics count per partner.
    def all_receipted() -> bool:
        return all(e.receipt_status == "accepted" for e in entries(sharing.store.engine)) and sum(
            1 for _ in entries(sharing.store.engine)
        ) == sum(len(v) for v in expected.values())

    wait_for(all_receipted, lambda: f"receipts: {[e.receipt_status for e in entries(sharing.store.engine)]}")
    for p in PARTNERS:
        n = len(expected[p])
        assert pub.metrics.value("hrwatch_share_shared_total", partner=p, trigger="immediate") == n
        assert pub.metrics.value("hrwatch_share_receipted_total", partner=p, status="accepted") == n
        sub = sharing.subscribers[p].metrics
        assert sub.value("hrwatch_share_received_total", partner=p) == n
        assert sub.value("hrwatch_share_rejected_total", partner=p, reason="bad_signature") == 0
    assert pub.failures == 0


def test_confirmed_only_findings_wait_for_the_queue_and_replays_share_nothing_twice(sharing: Sharing) -> None:
    records = [posting("p-agency", agency=True), posting("p-scam"), posting("p-roster")]
    store_subjects(sharing.store.engine, records)
    unlicensed = finding("fake_recruitment.unlicensed_agency", "p-agency")
    fee = finding("fake_recruitment.fee_demand", "p-agency")
    roster = finding("personal_data.bulk_records", "p-roster", severity="critical")
    scam = finding("fake_recruitment.task_scam", "p-scam", severity="critical")
    findings = [unlicensed, fee, roster, scam]
    sharing.start_subscribers()
    pub = sharing.start_publisher()
    sharing.wait_processed(pub, sharing.publish_findings(findings))
    wait_for(lambda: set(sharing.received("police")) == {scam["id"]}, lambda: f"police: {sharing.received('police')}")
    assert sharing.received("market") == {} and sharing.received("tax") == {}
    waiting = {(p, "confirmation"): n for p, n in (("market", 2), ("tax", 2), ("police", 1))}
    wait_for(
        lambda: all(
            pub.metrics.value("hrwatch_share_waiting", partner=p, waiting_for=w) == n for (p, w), n in waiting.items()
        ),
        lambda: (
            f"waiting gauges: {[pub.metrics.value('hrwatch_share_waiting', partner=p, waiting_for=w) for p, w in waiting]}"
        ),
    )

    decisions = [
        review_event("41", "confirm", [unlicensed["id"], fee["id"]]),
        review_event("42", "dismiss", [roster["id"]]),
    ]
    sharing.wait_processed(pub, sharing.publish_reviews(decisions))
    for p in ("market", "tax"):
        wait_for(
            lambda p=p: set(sharing.received(p)) == {unlicensed["id"], fee["id"]},
            lambda p=p: f"{p}: {sorted(sharing.received(p))}",
        )
        for env in sharing.received(p).values():
            assert env["policy"]["trigger"] == "confirmed" and env["review"]["alert_id"] == "41"
    assert set(sharing.received("police")) == {scam["id"]}  # the dismissed roster never goes out

    # Replay everything, and let a new publisher (fresh group: reads both topics from the start) go over it all.
    counts = {p: len(sharing.topic_messages(share_topic(sharing.topics, p))) for p in PARTNERS}
    with Session(sharing.store.engine) as s:
        logged = s.scalar(select(func.count()).select_from(ShareLogRow))
    ends = sharing.publish_findings(findings)
    ends.update(sharing.publish_reviews(decisions))
    sharing.wait_processed(pub, ends)
    pub.stop()
    fresh = sharing.start_publisher("pub-fresh")
    sharing.wait_processed(fresh, ends)
    assert pub.failures == 0 and fresh.failures == 0
    assert {p: len(sharing.topic_messages(share_topic(sharing.topics, p))) for p in PARTNERS} == counts
    with Session(sharing.store.engine) as s:
        assert s.scalar(select(func.count()).select_from(ShareLogRow)) == logged == 5
    assert fresh.metrics.value("hrwatch_share_shared_total", partner="market", trigger="confirmed") == 0


def test_tampered_foreign_and_forged_envelopes_are_rejected_counted_and_answered(
    sharing: Sharing, keys: KeyRing
) -> None:
    sharing.start_subscribers(["police"])
    topic = share_topic(sharing.topics, "police")

    def envelope(partner: str, fid: str, signer: str | None = None) -> dict[str, Any]:
        return keys.signer(signer or partner).sign(
            unsigned_envelope(
                finding_id=fid,
                partner=partner,
                issuer="hrwatch",
                issued_at="2026-11-23T02:00:00+00:00",
                classification="内部",
                review=None,
                policy={
                    "version": "v",
                    "digest": "c" * 64,
                    "route": f"{partner}.x",
                    "trigger": "immediate",
                    "legal_basis": ["刑事诉讼法 第一百一十条"],
                },
                minimisation={
                    "fields": ["finding.id"],
                    "masked": [],
                    "unmasked": [],
                    "unmask_legal_basis": [],
                    "absent": [],
                },
                payload={"finding": {"id": fid, "rule": "fake_recruitment.task_scam"}},
            )
        )

    genuine_a, genuine_b = envelope("police", "a" * 64), envelope("police", "b" * 64)
    tampered = copy.deepcopy(genuine_a)
    tampered["payload"]["finding"]["rule"] = "discrimination.gender"
    foreign = envelope("market", "c" * 64)
    forged = envelope("police", "d" * 64, signer="intruder")
    messages = [genuine_a, tampered, foreign, forged]
    items = [(e["finding_id"].encode(), json.dumps(e, ensure_ascii=False).encode()) for e in messages]
    items += [(b"junk", b"\x00not an envelope"), (genuine_b["finding_id"].encode(), orjson.dumps(genuine_b))]
    sharing.produce(topic, items)

    sub = sharing.subscribers["police"]
    wait_for(lambda: sub.counts() == {"received": 2, "rejected": 4, "retracted": 0}, lambda: f"police: {sub.counts()}")
    assert set(sharing.received("police")) == {"a" * 64, "b" * 64}
    assert sharing.received("police")["a" * 64]["payload"] == genuine_a["payload"]  # the tampered copy changed nothing
    assert sorted(r for r, _d in sub.rejected()) == ["bad_signature", "foreign_partner", "malformed", "unknown_key"]
    for reason in ("bad_signature", "foreign_partner", "malformed", "unknown_key"):
        assert sub.metrics.value("hrwatch_share_rejected_total", partner="police", reason=reason) == 1
    assert sub.metrics.value("hrwatch_share_received_total", partner="police") == 2
    assert sub.failures == 0 and sub.running

    def receipts() -> list[dict[str, Any]]:
        return [orjson.loads(m.value) for m in sharing.topic_messages(receipts_topic(sharing.topics))]

    wait_for(lambda: len(receipts()) >= 6, lambda: f"receipts: {receipts()}")
    verifier = ReceiptVerifier.for_partners(keys, list(PARTNERS))
    for m in sharing.topic_messages(receipts_topic(sharing.topics)):
        assert verifier.verify(m.value)["partner"] == "police"  # every receipt signed with police's receipt key
    got = sorted((r["status"], r["reason"] or "") for r in receipts())
    assert got == [
        ("accepted", ""),
        ("accepted", ""),
        ("rejected", "bad_signature"),
        ("rejected", "foreign_partner"),
        ("rejected", "malformed"),
        ("rejected", "unknown_key"),
    ]


def test_with_the_stream_worker_the_partners_get_what_it_detected_with_the_posting_details(
    sharing: Sharing, tmp_path: Path
) -> None:
    """The whole path: postings ingested → worker (detects, stores findings and subjects) → publisher → partners."""
    from hrwatch.settings import child_environment
    from streams.ingest import Ingester, read_feed
    from streams.worker import WorkerProcess

    group = f"{sharing.names.group}-worker"
    env = child_environment(
        kafka=sharing.broker.bootstrap,
        database_url=str(sharing.store.engine.url),
        partitions=2,
        topic_namespace=sharing.names.namespace,
        group_id=group,
        session_timeout=6,
        heartbeat_interval=1,
        metrics_port=0,
        ready_file=tmp_path / "worker.ready",
        data_dir=tmp_path / "faust",
    )
    ensure_topics(sharing.broker.bootstrap, sharing.topics.all(), 2)
    worker = WorkerProcess(env, tmp_path / "worker.ready", tmp_path / "worker.log").start()
    try:
        worker.wait_ready(90)
        sharing.start_subscribers(["police"])
        pub = sharing.start_publisher()
        with Ingester(sharing.broker.bootstrap, sharing.topics) as ingester:
            report = ingester.publish(list(read_feed(DEV_SAMPLE)), topic="auto", group=group, barrier_timeout=120)
        wait_until_committed(sharing.broker.bootstrap, group, report.produced, WAIT)
        expected = {f["id"] for f in sharing.store.findings() if _immediate_for("police", f)}
        assert len(expected) >= 10
        wait_for(
            lambda: set(sharing.received("police")) == expected,
            lambda: f"police stored {len(sharing.received('police'))} of {len(expected)}\n{worker.log_tail()}",
        )
        for env_ in sharing.received("police").values():
            record = env_["payload"]["record"]  # the subject the worker stored; title and source are required fields
            assert record["title"] and record["source"] and "record.title" not in env_["minimisation"]["absent"]
        assert pub.failures == 0
    finally:
        worker.stop()


def test_a_dismissed_share_is_retracted_at_the_partner_and_reinstated_after_reopen_and_confirm(
    sharing: Sharing,
) -> None:
    """Real broker: share → dismissal on hr.reviews.v1 → the police subscriber marks it retracted and answers with a
    signed receipt the publisher verifies; reopen + confirm → reinstated; the envelope itself went out once."""
    store_subjects(sharing.store.engine, [posting("p-scam"), posting("p-other")])
    scam = finding("fake_recruitment.task_scam", "p-scam", severity="critical")
    other = finding("fake_recruitment.overseas_lure", "p-other", severity="critical")
    sharing.start_subscribers(["police"])
    pub = sharing.start_publisher()
    sharing.wait_processed(pub, sharing.publish_findings([scam, other]))
    wait_for(
        lambda: set(sharing.received("police")) == {scam["id"], other["id"]}, lambda: f"{sharing.received('police')}"
    )
    sub = sharing.subscribers["police"]

    dismissed_at = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
    sharing.publish_reviews([review_event("51", "dismiss", [scam["id"]], at=dismissed_at, reason="false_positive")])
    wait_for(
        lambda: sub.retracted() == {scam["id"]: ("false_positive", dismissed_at.isoformat())},
        lambda: f"{sub.retracted()}",
    )
    wait_for(
        lambda: (
            [n.retraction_receipt for n in entries(sharing.store.engine) if n.finding_id == scam["id"]] == ["accepted"]
        ),
        lambda: f"audit: {list(entries(sharing.store.engine))}",
    )
    assert pub.metrics.value("hrwatch_share_retractions_sent_total", partner="police", reason="false_positive") == 1
    assert pub.metrics.value("hrwatch_share_retractions_receipted_total", partner="police", status="accepted") == 1
    assert sub.metrics.value("hrwatch_share_retractions_received_total", partner="police") == 1
    assert set(sharing.received("police")) == {scam["id"], other["id"]}  # kept, marked

    sharing.publish_reviews(
        [
            review_event("51", "reopen", [scam["id"]], at=dismissed_at + dt.timedelta(hours=1)),
            review_event("51", "confirm", [scam["id"]], at=dismissed_at + dt.timedelta(hours=2)),
        ]
    )
    wait_for(lambda: sub.retracted() == {} and len(sub.notices()) == 2, lambda: f"{sub.retracted()} {sub.notices()}")
    wait_for(
        lambda: (
            pub.metrics.value("hrwatch_share_retractions_receipted_total", partner="police", status="accepted") == 2
        ),
        lambda: "the reinstatement's receipt",
    )
    on_topic = [orjson.loads(m.value) for m in sharing.topic_messages(share_topic(sharing.topics, "police"))]
    assert sorted(e.get("kind", "envelope") for e in on_topic) == [
        "envelope",
        "envelope",
        "reinstatement",
        "retraction",
    ]
    assert pub.metrics.value("hrwatch_share_receipts_rejected_total", partner="police", reason="bad_signature") == 0
    assert pub.failures == 0 and sub.failures == 0
