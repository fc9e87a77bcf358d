"""The publisher's decisions without a broker, on SQLite and PostgreSQL: routing, confirmation, subjects, idempotence, receipts, audit, digest."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from review.models import FindingRow
from review.store import FindingStore
from sharing.audit import AuditQuery, entries, write_csv
from sharing.envelope import KeyRing
from sharing.models import ShareHeldRow, ShareLogRow
from sharing.reports import daily_digest, render_html
from tests.sharing.conftest import (
    T0,
    OfflinePublisher,
    filing,
    finding,
    posting,
    receipt_for,
    review_event,
    store_subjects,
)

Build = Callable[..., OfflinePublisher]


def _scenario() -> dict[str, dict]:
    """One finding per routing case of the bundled policy (names say where each must go)."""
    return {
        "police_task_scam": finding("fake_recruitment.task_scam", "p-scam", severity="critical"),
        "police_resume_trade": finding("personal_data.resume_trade", "p-resume", severity="critical"),
        "market_mismatch": finding("fake_recruitment.employer_mismatch", "p-mismatch", severity="medium"),
        "market_bad_uscc_posting": finding("fake_recruitment.invalid_uscc", "p-mismatch", severity="medium"),
        "tax_bad_uscc_filing": finding(
            "fake_recruitment.invalid_uscc", "f-annual", severity="medium", subject_type="agency_filing"
        ),
        "held_bulk_records": finding("personal_data.bulk_records", "p-roster", severity="critical"),
        "held_unlicensed": finding("fake_recruitment.unlicensed_agency", "p-agency", severity="high"),
        "held_fee_agency": finding("fake_recruitment.fee_demand", "p-agency", severity="high"),
        "held_fee_no_agency": finding("fake_recruitment.fee_demand", "p-direct", severity="high"),
        "none_gender": finding("discrimination.gender", "p-scam", severity="high"),
        "none_low_scam": finding("fake_recruitment.task_scam", "p-weak", severity="medium"),
        "none_low_salary": finding("fake_recruitment.implausible_salary", "p-direct", severity="low"),
    }


def _subjects() -> list[dict]:
    return [
        posting("p-scam"),
        posting("p-resume"),
        posting("p-roster"),
        posting("p-weak"),
        posting("p-mismatch", employer={"name": "昆山某某精密制造有限公司", "uscc": "91320583MA1ZZZZZ2Z"}),
        posting("p-agency", agency=True),
        posting("p-direct"),
        filing("f-annual"),
    ]


def test_each_partner_gets_exactly_its_immediate_findings(store: FindingStore, offline: Build) -> None:
    store_subjects(store.engine, _subjects())
    pub = offline()
    f = _scenario()
    pub.findings(*f.values())
    assert set(pub.shared("police")) == {f["police_task_scam"]["id"], f["police_resume_trade"]["id"]}
    assert set(pub.shared("market")) == {f["market_mismatch"]["id"], f["market_bad_uscc_posting"]["id"]}
    assert set(pub.shared("tax")) == {f["tax_bad_uscc_filing"]["id"]}
    # Keyed by finding id, on the partner's own topic.
    for topic, key, value in pub.producer.sent:
        envelope = orjson.loads(value)
        assert key == envelope["finding_id"].encode()
        assert topic == f"hr.share.{envelope['partner']}.v1"
    with Session(store.engine) as s:
        held = {(r.finding_id, r.partner): r.waiting_for for r in s.scalars(select(ShareHeldRow))}
    assert held == {
        (f["held_bulk_records"]["id"], "police"): "confirmation",
        (f["held_unlicensed"]["id"], "market"): "confirmation",
        (f["held_unlicensed"]["id"], "tax"): "confirmation",
        (f["held_fee_agency"]["id"], "market"): "confirmation",
        (f["held_fee_agency"]["id"], "tax"): "confirmation",  # subject_has agency.name holds
        (f["held_fee_no_agency"]["id"], "market"): "confirmation",  # no agency: not for tax
    }
    shared = pub.publisher.metrics
    assert shared.value("hrwatch_share_shared_total", partner="police", trigger="immediate") == 2
    assert shared.value("hrwatch_share_shared_total", partner="market", trigger="immediate") == 2
    assert shared.value("hrwatch_share_shared_total", partner="tax", trigger="immediate") == 1


def test_confirmed_only_findings_wait_for_the_queue_and_go_once(store: FindingStore, offline: Build) -> None:
    store_subjects(store.engine, _subjects())
    pub = offline()
    f = _scenario()
    pub.findings(*f.values())
    before = len(pub.producer.sent)
    pub.reviews(review_event("7", "dismiss", [f["held_bulk_records"]["id"]]))
    assert len(pub.producer.sent) == before  # dismissed: never shared
    pub.reviews(review_event("8", "confirm", [f["held_unlicensed"]["id"], f["held_fee_agency"]["id"]]))
    market, tax = pub.shared("market"), pub.shared("tax")
    assert {f["held_unlicensed"]["id"], f["held_fee_agency"]["id"]} <= market.keys()
    assert {f["held_unlicensed"]["id"], f["held_fee_agency"]["id"]} <= tax.keys()
    env = market[f["held_unlicensed"]["id"]]
    assert env["policy"]["trigger"] == "confirmed" and env["policy"]["route"] == "market.unlicensed_operation"
    assert env["review"]["alert_id"] == "8" and env["review"]["decision"] == "confirm"
    # Replays of the findings and of the decision, and an escalation, share nothing twice.
    count = len(pub.producer.sent)
    pub.findings(*f.values())
    pub.reviews(review_event("8", "confirm", [f["held_unlicensed"]["id"], f["held_fee_agency"]["id"]]))
    pub.reviews(review_event("8", "escalate", [f["held_unlicensed"]["id"]], at=T0 + dt.timedelta(hours=1)))
    pub.publisher.sweep()
    assert len(pub.producer.sent) == count
    with Session(store.engine) as s:
        assert s.scalar(select(func.count()).select_from(ShareLogRow)) == count
    # A decision that arrives before its finding: the finding goes out when it arrives.
    early = finding("fake_recruitment.unlicensed_agency", "p-agency", n=1)
    pub.reviews(review_event("9", "confirm", [early["id"]]))
    pub.findings(early)
    assert early["id"] in pub.shared("market") and early["id"] in pub.shared("tax")


def test_an_older_decision_redelivered_late_does_not_undo_a_newer_one(store: FindingStore, offline: Build) -> None:
    store_subjects(store.engine, _subjects())
    pub = offline()
    f = finding("fake_recruitment.unlicensed_agency", "p-agency")
    pub.findings(f)
    pub.reviews(
        review_event("1", "confirm", [f["id"]], at=T0 + dt.timedelta(minutes=5)),
        review_event("1", "dismiss", [f["id"]], at=T0),
    )
    assert f["id"] in pub.shared("market")


def test_a_supervisors_share_decision_uses_the_partners_on_request_route(store: FindingStore, offline: Build) -> None:
    store_subjects(store.engine, _subjects())
    pub = offline()
    gender = finding("discrimination.gender", "p-scam")
    stored = finding("discrimination.age", "p-scam", severity="medium")
    with Session(store.engine) as s, s.begin():  # a finding the worker stored, never seen on the topic here
        s.add(
            FindingRow(
                id=stored["id"],
                subject_type="job_posting",
                subject_id="p-scam",
                category="discrimination",
                rule=stored["rule"],
                severity="medium",
                score=0.9,
                detector_version="t",
                detected_at=stored["detected_at"],
                body=orjson.dumps(stored).decode(),
                stored_at=T0,
            )
        )
    pub.findings(gender)
    assert pub.producer.sent == []
    pub.reviews(review_event("3", "share", [gender["id"], stored["id"]], partners=("tax", "nobody")))
    # The stored finding goes at once; the other one (not in this store) when it is seen again.
    assert set(pub.shared("tax")) == {stored["id"]}
    pub.findings(gender)
    tax = pub.shared("tax")
    assert set(tax) == {gender["id"], stored["id"]}
    env = tax[gender["id"]]
    assert (env["policy"]["route"], env["policy"]["trigger"]) == ("tax.on_request", "requested")
    assert env["policy"]["legal_basis"] == ["税收征收管理法 第五条"]
    assert pub.shared("police") == {} and pub.shared("market") == {}


def test_a_finding_waits_for_its_subject_record_then_goes_with_or_without_it(
    store: FindingStore, offline: Build
) -> None:
    pub = offline(subject_wait=60)
    late, never = finding("fake_recruitment.task_scam", "p-late"), finding("fake_recruitment.task_scam", "p-never")
    pub.findings(late, never)
    assert pub.producer.sent == []  # police's fields need the posting; it is not stored yet
    store_subjects(store.engine, [posting("p-late", phone="13900001111")])
    pub.publisher.sweep()
    env = pub.shared("police")[late["id"]]
    assert env["payload"]["record"]["contact"]["phone"] == "13900001111"  # unmasked for police, per its route
    assert never["id"] not in pub.shared("police")
    pub.advance(61)
    pub.publisher.sweep()
    env = pub.shared("police")[never["id"]]
    assert "record" not in env["payload"]
    assert "record.contact.phone" in env["minimisation"]["absent"]


def test_an_unacknowledged_envelope_is_resent_with_the_same_bytes_and_counted_once(
    store: FindingStore, offline: Build
) -> None:
    store_subjects(store.engine, _subjects())
    pub = offline(resend_after=30)
    pub.producer.fail = True
    f = finding("fake_recruitment.task_scam", "p-scam", severity="critical")
    pub.findings(f)
    with Session(store.engine) as s:
        row = s.get(ShareLogRow, (f["id"], "police"))
        assert row is not None and row.sent_at is None
        claimed = row.envelope
    pub.producer.fail = False
    pub.findings(f)  # redelivered: already claimed, not sent again by the batch
    assert pub.producer.sent == []
    pub.advance(31)
    pub.publisher.sweep()
    assert [v.decode() for _t, _k, v in pub.producer.sent] == [claimed]
    pub.advance(31)
    pub.publisher.sweep()
    assert len(pub.producer.sent) == 1
    assert pub.publisher.metrics.value("hrwatch_share_shared_total", partner="police", trigger="immediate") == 1


def test_receipts_are_noted_on_the_share_log_accepted_beating_rejected(
    store: FindingStore, offline: Build, keys: KeyRing
) -> None:
    store_subjects(store.engine, _subjects())
    pub = offline()
    a, b = finding("fake_recruitment.task_scam", "p-scam"), finding("personal_data.resume_trade", "p-resume")
    pub.findings(a, b)
    env_a, env_b = pub.shared("police")[a["id"]], pub.shared("police")[b["id"]]

    def receipt(env: dict, status: str, partner: str = "police") -> dict:
        return receipt_for(keys, env, status, partner)

    # A tampered copy of `a` is rejected first, then the genuine one accepted; `b` accepted twice; a
    # receipt claiming to be from market for police's envelope changes nothing.
    pub.receipts(
        receipt(env_a, "rejected"),
        receipt(env_b, "accepted"),
        receipt(env_a, "accepted"),
        receipt(env_b, "accepted"),
        receipt(env_b, "rejected"),
        receipt(env_a, "accepted", "market"),
    )
    status = {e.finding_id: e.receipt_status for e in entries(store.engine, AuditQuery(partner="police"))}
    assert status == {a["id"]: "accepted", b["id"]: "accepted"}
    m = pub.publisher.metrics
    assert m.value("hrwatch_share_receipted_total", partner="police", status="accepted") == 2
    assert m.value("hrwatch_share_receipted_total", partner="police", status="rejected") == 1


def test_unreadable_input_is_counted_and_skipped(store: FindingStore, offline: Build) -> None:
    pub = offline()
    pub.raw("findings", b"{not json")
    pub.raw("findings", orjson.dumps({"id": "short", "rule": "x"}))
    pub.raw("reviews", orjson.dumps(["a list"]))
    pub.raw("findings", None)
    m = pub.publisher.metrics
    assert m.value("hrwatch_share_invalid_input_total", topic="hr.findings.v1") == 3
    assert m.value("hrwatch_share_invalid_input_total", topic="hr.reviews.v1") == 1
    assert pub.producer.sent == []


def test_the_audit_log_says_what_went_to_whom_under_which_basis_and_exports_csv(
    store: FindingStore, offline: Build
) -> None:
    store_subjects(store.engine, _subjects())
    pub = offline()
    f = _scenario()
    pub.findings(*f.values())
    pub.reviews(review_event("8", "confirm", [f["held_unlicensed"]["id"]]))
    rows = list(entries(store.engine))
    assert len(rows) == len(pub.producer.sent) == 7
    scam = next(r for r in rows if r.finding_id == f["police_task_scam"]["id"])
    assert (scam.partner, scam.route, scam.trigger) == ("police", "police.fraud_lures", "immediate")
    assert "刑事诉讼法 第一百一十条" in scam.legal_basis
    assert scam.unmasked == "record.contact.name; record.contact.phone; record.contact.wechat; record.contact.qq"
    assert "个人信息保护法 第三十四条" in scam.unmask_legal_basis
    assert scam.organisation == "苏州某某电子商务有限公司"
    confirmed = [r for r in rows if r.trigger == "confirmed"]
    assert {(r.partner, r.alert_id) for r in confirmed} == {("market", "8"), ("tax", "8")}
    only_tax = list(entries(store.engine, AuditQuery(partner="tax", rule="fake_recruitment.unlicensed_agency")))
    assert [r.organisation for r in only_tax] == ["苏州锦程人力资源有限公司"]
    buf = io.StringIO()
    assert write_csv(entries(store.engine), buf) == 7
    parsed = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert {r["partner"] for r in parsed} == {"police", "market", "tax"}
    assert all(r["legal_basis"] and r["shared_at"] for r in parsed)


def test_the_daily_digest_counts_ranks_agencies_and_lists_new_cases(store: FindingStore, offline: Build) -> None:
    store_subjects(store.engine, _subjects())
    pub = offline()
    f = _scenario()
    pub.findings(*f.values())
    pub.reviews(
        review_event(
            "8", "confirm", [f["held_unlicensed"]["id"], f["held_fee_agency"]["id"], f["held_fee_no_agency"]["id"]]
        )
    )
    # Yesterday's share of p-direct makes it an old case today.
    with Session(store.engine) as s, s.begin():
        s.execute(
            update(ShareLogRow)
            .where(ShareLogRow.finding_id == f["held_fee_no_agency"]["id"])
            .values(sent_at=T0 - dt.timedelta(days=1))
        )
    day = T0.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    digest = daily_digest(store.engine, "market", day, "Asia/Shanghai")
    assert digest.total == 4
    assert digest.by_rule == {
        "fake_recruitment.employer_mismatch": 1,
        "fake_recruitment.invalid_uscc": 1,
        "fake_recruitment.unlicensed_agency": 1,
        "fake_recruitment.fee_demand": 1,
    }
    assert digest.by_trigger == {"immediate": 2, "confirmed": 2}
    assert sorted(digest.top_agencies) == [
        ("昆山某某精密制造有限公司", "91320583MA1ZZZZZ2Z", 2),
        ("苏州锦程人力资源有限公司", "91320500MA1XXXXX0X", 2),
    ]
    assert [c.subject_id for c in digest.new_cases] == ["p-agency", "p-mismatch"]
    page = render_html(digest)
    assert "苏州锦程人力资源有限公司" in page and "<script" not in page
