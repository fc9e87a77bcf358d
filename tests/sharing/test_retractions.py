"""Retractions without a broker, on SQLite and PostgreSQL: a shared finding dismissed later is withdrawn from its partner
once, signed and minimised; reopen + confirm reinstates it; the partner's subscriber applies both in any order."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from review.store import FindingStore, make_engine
from sharing.audit import NOTICE_COLUMNS, AuditQuery, entries, notices, write_csv
from sharing.envelope import RETRACTION_SCHEMA, KeyRing
from sharing.models import ShareRetractionRow
from sharing.receipts import ReceiptVerifier
from sharing.retractions import unsigned_notice
from tests.sharing.conftest import (
    PARTNERS,
    T0,
    OfflinePublisher,
    finding,
    make_subscriber,
    posting,
    receipt_for,
    review_event,
    store_subjects,
)

Build = Callable[..., OfflinePublisher]
NOTICE_FIELDS = {
    "schema",
    "kind",
    "envelope_id",
    "finding_id",
    "partner",
    "issuer",
    "issued_at",
    "original_envelope_id",
    "retraction_id",
    "reason",
    "decided_at",
    "signer",
    "signature",
}


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _notices(pub: OfflinePublisher, partner: str = "police") -> list[dict[str, Any]]:
    return [e for e in pub.producer.envelopes(partner) if e["schema"] == RETRACTION_SCHEMA]


def _envelopes(pub: OfflinePublisher, partner: str = "police") -> list[dict[str, Any]]:
    return [e for e in pub.producer.envelopes(partner) if e["schema"] != RETRACTION_SCHEMA]


def _shared_scam(store: FindingStore, offline: Build) -> tuple[OfflinePublisher, dict[str, Any], dict[str, Any]]:
    store_subjects(store.engine, [posting("p-scam"), posting("p-roster")])
    pub = offline()
    scam = finding("fake_recruitment.task_scam", "p-scam", severity="critical")
    pub.findings(scam)
    return pub, scam, pub.shared("police")[scam["id"]]


def test_a_dismissed_shared_finding_is_retracted_once_signed_minimised_and_audited(
    store: FindingStore, offline: Build, keys: KeyRing
) -> None:
    pub, scam, envelope = _shared_scam(store, offline)
    roster = finding("personal_data.bulk_records", "p-roster", severity="critical")
    pub.findings(roster)  # held for confirmation: never shared, so never retracted
    dismiss = review_event("7", "dismiss", [scam["id"], roster["id"]], at=_at(5), reason="duplicate")
    pub.reviews(dismiss)

    sent = _notices(pub)
    assert len(sent) == 1 and _notices(pub, "market") == [] and _notices(pub, "tax") == []
    notice = sent[0]
    assert set(notice) == NOTICE_FIELDS  # ids, reason category, times: nothing from the finding or its record
    assert keys.verifier("police").verify(orjson.dumps(notice), scam["id"].encode()) == notice
    assert notice["kind"] == "retraction" and notice["reason"] == "duplicate"
    assert notice["finding_id"] == scam["id"] and notice["original_envelope_id"] == envelope["envelope_id"]
    assert notice["retraction_id"] is None and notice["decided_at"] == _at(5).isoformat()
    topic, key, _value = pub.producer.sent[-1]
    assert topic == "hr.share.police.v1" and key == scam["id"].encode()

    # Redelivered, replayed by a fresh publisher, or dismissed again after a reopen: nothing more goes out.
    pub.reviews(dismiss)
    fresh = offline()
    fresh.reviews(dismiss)
    pub.reviews(review_event("7", "reopen", [scam["id"]], at=_at(6)))
    pub.reviews(review_event("7", "dismiss", [scam["id"]], at=_at(7), reason="out_of_scope"))
    assert len(_notices(pub)) == 1 and fresh.producer.sent == []
    m = pub.publisher.metrics
    assert m.value("hrwatch_share_retractions_sent_total", partner="police", reason="duplicate") == 1
    assert m.value("hrwatch_share_retractions_sent_total", partner="police", reason="out_of_scope") == 0

    # The audit log: the provision is marked retracted; the retraction is its own record.
    (entry,) = [e for e in entries(store.engine) if e.finding_id == scam["id"]]
    assert (entry.standing, entry.retraction_reason) == ("retracted", "duplicate") and entry.retracted_at
    (logged,) = notices(store.engine, AuditQuery(partner="police"))
    assert (logged.kind, logged.notice_id, logged.alert_id) == ("retraction", notice["envelope_id"], "7")
    out = io.StringIO()
    assert write_csv(notices(store.engine), out, NOTICE_COLUMNS) == 1
    assert out.getvalue().splitlines()[0].split(",") == list(NOTICE_COLUMNS)

    # The partner's signed receipt for the retraction is noted on it.
    pub.receipts(receipt_for(keys, notice, "accepted"))
    (row,) = pub.publisher.retractions.history(scam["id"])
    assert row["receipt_status"] == "accepted" and row["sent_at"] is not None
    assert m.value("hrwatch_share_retractions_receipted_total", partner="police", status="accepted") == 1


def test_reopen_then_confirm_reinstates_the_one_envelope_and_a_later_dismissal_retracts_again(
    store: FindingStore, offline: Build
) -> None:
    pub, scam, envelope = _shared_scam(store, offline)
    fid = scam["id"]
    pub.reviews(review_event("7", "dismiss", [fid], at=_at(1)))
    pub.reviews(review_event("7", "reopen", [fid], at=_at(2)))
    assert [n["kind"] for n in _notices(pub)] == ["retraction"]  # a reopen alone changes nothing for the partner
    pub.reviews(review_event("7", "confirm", [fid], at=_at(3)))
    retraction, reinstatement = _notices(pub)
    assert reinstatement["kind"] == "reinstatement" and reinstatement["reason"] == "reconfirmed"
    assert reinstatement["retraction_id"] == retraction["envelope_id"]
    assert reinstatement["original_envelope_id"] == envelope["envelope_id"]
    # An older dismissal redelivered late changes nothing; a new one (after another reopen) retracts again.
    pub.reviews(review_event("7", "dismiss", [fid], at=_at(1)))
    assert len(_notices(pub)) == 2
    pub.reviews(review_event("7", "reopen", [fid], at=_at(4)), review_event("7", "dismiss", [fid], at=_at(5)))
    kinds = [n["kind"] for n in _notices(pub)]
    assert kinds == ["retraction", "reinstatement", "retraction"]
    assert len({n["envelope_id"] for n in _notices(pub)}) == 3
    assert len(_envelopes(pub)) == 1  # the finding itself went out once
    m = pub.publisher.metrics
    assert m.value("hrwatch_share_retractions_sent_total", partner="police", reason="false_positive") == 2
    assert m.value("hrwatch_share_reinstatements_sent_total", partner="police") == 1
    assert [e.standing for e in entries(store.engine)] == ["retracted"]


def test_a_finding_dismissed_before_it_went_out_waits_and_goes_only_after_a_new_confirmation(
    store: FindingStore, offline: Build
) -> None:
    store_subjects(store.engine, [posting("p-scam")])
    pub = offline()
    scam = finding("fake_recruitment.task_scam", "p-scam", severity="critical")
    pub.reviews(review_event("7", "dismiss", [scam["id"]], at=_at(1)))
    pub.findings(scam)  # an immediate route, but the queue has dismissed it already
    assert pub.producer.sent == []
    pub.reviews(
        review_event("7", "reopen", [scam["id"]], at=_at(2)), review_event("7", "confirm", [scam["id"]], at=_at(3))
    )
    assert [e["finding_id"] for e in _envelopes(pub)] == [scam["id"]] and _notices(pub) == []


def test_an_unacknowledged_retraction_is_resent_with_the_same_bytes_and_counted_once(
    store: FindingStore, offline: Build
) -> None:
    pub, scam, _envelope = _shared_scam(store, offline)
    pub.producer.fail = True
    pub.reviews(review_event("7", "dismiss", [scam["id"]], at=_at(1)))
    (claimed,) = pub.publisher.retractions.history(scam["id"])
    assert claimed["sent_at"] is None
    pub.producer.fail = False
    pub.publisher.sweep()  # not yet due for a re-send
    assert _notices(pub) == []
    pub.advance(31)
    pub.publisher.sweep()
    pub.advance(31)
    pub.publisher.sweep()
    (sent,) = _notices(pub)
    with Session(store.engine) as s:
        stored = s.scalar(sa.select(ShareRetractionRow.envelope))
    assert orjson.dumps(sent) == orjson.dumps(orjson.loads(stored))
    assert (
        pub.publisher.metrics.value("hrwatch_share_retractions_sent_total", partner="police", reason="false_positive")
        == 1
    )


def test_a_dismissal_that_raced_a_share_by_another_publisher_is_retracted_by_the_sweep(
    store: FindingStore, offline: Build
) -> None:
    pub, scam, _envelope = _shared_scam(store, offline)
    # Another publisher recorded the dismissal in a transaction that did not see the share yet.
    with Session(store.engine) as s, s.begin():
        pub.publisher.state.apply_reviews(s, [review_event("7", "dismiss", [scam["id"]], at=_at(1))])
    assert _notices(pub) == []
    pub.advance(60)
    pub.publisher.sweep()
    assert [n["kind"] for n in _notices(pub)] == ["retraction"]
    pub.publisher.sweep()
    assert len(_notices(pub)) == 1


# -- the partner's side -------------------------------------------------------------------------------------


def _subscriber(keys: KeyRing, tmp_path: Path, partner: str = "police") -> Any:
    return make_subscriber(keys, partner, make_engine(f"sqlite:///{tmp_path / f'partner-{partner}.db'}"))


def test_the_subscriber_marks_a_retracted_finding_keeps_it_and_answers_with_signed_receipts(
    store: FindingStore, offline: Build, keys: KeyRing, tmp_path: Path
) -> None:
    pub, scam, envelope = _shared_scam(store, offline)
    fid = scam["id"]
    pub.reviews(review_event("7", "dismiss", [fid], at=_at(1), reason="out_of_scope"))
    pub.reviews(review_event("7", "reopen", [fid], at=_at(2)), review_event("7", "confirm", [fid], at=_at(3)))
    retraction, reinstatement = _notices(pub)
    sub = _subscriber(keys, tmp_path)
    sub.feed(envelope, retraction)
    assert sub.subscriber.retracted() == {fid: ("out_of_scope", _at(1).isoformat())}
    assert [e["finding_id"] for e in sub.subscriber.received()] == [fid]  # kept, for the partner's audit
    sub.feed(retraction)  # redelivered
    assert sub.subscriber.counts() == {"received": 1, "rejected": 0, "retracted": 1}
    sub.feed(reinstatement)
    assert sub.subscriber.retracted() == {}
    assert [n["kind"] for n in sub.subscriber.notices()] == ["retraction", "reinstatement"]
    m = sub.subscriber.metrics
    assert m.value("hrwatch_share_retractions_received_total", partner="police") == 1
    assert m.value("hrwatch_share_reinstatements_received_total", partner="police") == 1

    verifier = ReceiptVerifier.for_partners(keys, list(PARTNERS))
    receipts = [verifier.verify(orjson.dumps(r)) for r in sub.receipts()]
    assert [(r["envelope_id"], r["status"]) for r in receipts] == [
        (envelope["envelope_id"], "accepted"),
        (retraction["envelope_id"], "accepted"),
        (retraction["envelope_id"], "accepted"),
        (reinstatement["envelope_id"], "accepted"),
    ]
    pub.receipts(*sub.receipts())
    assert [h["receipt_status"] for h in pub.publisher.retractions.history(fid)] == ["accepted", "accepted"]


@pytest.mark.parametrize("order", ["retraction_first", "reinstatement_first", "all_reversed"])
def test_the_subscriber_applies_notices_in_whatever_order_they_arrive(
    store: FindingStore, offline: Build, keys: KeyRing, tmp_path: Path, order: str
) -> None:
    pub, scam, envelope = _shared_scam(store, offline)
    fid = scam["id"]
    pub.reviews(review_event("7", "dismiss", [fid], at=_at(1)))
    pub.reviews(review_event("7", "confirm", [fid], at=_at(3)))
    pub.reviews(review_event("7", "dismiss", [fid], at=_at(5), reason="duplicate"))
    first, reinstated, second = _notices(pub)
    arrival = {
        "retraction_first": [first, envelope, second, reinstated],
        "reinstatement_first": [reinstated, second, first, envelope],
        "all_reversed": [second, reinstated, first, envelope],
    }[order]
    sub = _subscriber(keys, tmp_path)
    for message in arrival:
        sub.feed(message)
    assert sub.subscriber.retracted() == {fid: ("duplicate", _at(5).isoformat())}
    assert len(sub.subscriber.received()) == 1 and len(sub.subscriber.notices()) == 3


def test_forged_tampered_and_foreign_retractions_are_rejected_and_change_nothing(
    store: FindingStore, offline: Build, keys: KeyRing, tmp_path: Path
) -> None:
    _pub, scam, envelope = _shared_scam(store, offline)
    fid = scam["id"]

    def notice(partner: str = "police", signer: str = "police", **change: Any) -> dict[str, Any]:
        body = unsigned_notice(
            kind="retraction",
            finding_id=fid,
            partner=partner,
            issuer="hrwatch",
            issued_at=T0.isoformat(),
            original_envelope_id=envelope["envelope_id"],
            retraction_id=None,
            reason="false_positive",
            decided_at=T0.isoformat(),
            review_event_id="e-1",
        )
        return keys.signer(signer).sign(body) | change

    forged = notice(signer="intruder")
    tampered = notice(reason="duplicate")  # changed after signing
    foreign = notice(partner="market", signer="market")
    receipt_key = keys.signer("police", receipts=True).sign(unsigned_notice(**_args(fid, envelope)))
    personal = notice() | {"contact": {"phone": "13812345678"}}  # not a member of the schema
    sub = _subscriber(keys, tmp_path)
    sub.feed(envelope, forged, tampered, foreign, receipt_key, personal)
    assert sub.subscriber.retracted() == {} and sub.subscriber.notices() == []
    reasons = sorted(r for r, _d in sub.subscriber.rejected())
    assert reasons == ["bad_signature", "foreign_partner", "schema", "unknown_key", "unknown_key"]
    assert [r["status"] for r in sub.receipts()] == ["accepted"] + ["rejected"] * 5


def _args(fid: str, envelope: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "retraction",
        "finding_id": fid,
        "partner": "police",
        "issuer": "hrwatch",
        "issued_at": T0.isoformat(),
        "original_envelope_id": envelope["envelope_id"],
        "retraction_id": None,
        "reason": "false_positive",
        "decided_at": None,
        "review_event_id": "e-2",
    }


def test_a_partner_database_from_before_retractions_gets_the_new_columns_and_keeps_its_rows(
    keys: KeyRing, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'partner-police.db'}")
    with engine.begin() as conn:  # the pilot's table, as the first version of the subscriber created it
        conn.execute(
            sa.text(
                "CREATE TABLE received_envelopes (finding_id VARCHAR(64) PRIMARY KEY, envelope_id VARCHAR(32), "
                "partner VARCHAR(32), issuer VARCHAR(100), issued_at VARCHAR(40), route VARCHAR(100), "
                "trigger VARCHAR(20), classification VARCHAR(100), legal_basis TEXT, rule VARCHAR(100), "
                "payload TEXT, envelope TEXT, topic VARCHAR(249), partition INTEGER, offset BIGINT, received_at DATETIME)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO received_envelopes VALUES ('f', 'e', 'police', 'hrwatch', 't', 'r', 'immediate', 'c', "
                "'[]', 'x', '{}', '{}', 'topic', 0, 0, '2026-11-01 00:00:00')"
            )
        )
    sub = make_subscriber(keys, "police", engine)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("received_envelopes")}
    assert {"retraction_id", "retraction_reason", "retracted_at"} <= columns
    assert sub.subscriber.counts() == {"received": 1, "rejected": 0, "retracted": 0}
    make_subscriber(keys, "police", engine)  # a second start adds nothing
    engine.dispose()
