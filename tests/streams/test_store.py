"""The store on SQLite and PostgreSQL: migrations, idempotent finding writes, registry records and watermarks."""

from __future__ import annotations

import datetime as dt

from detectors.findings import Evidence, Finding
from review.store import FindingStore, Provenance, StoredRegistryRecord


def finding(n: int, subject: str = "p-1") -> Finding:
    return Finding(
        id=f"{n:064x}", subject_type="job_posting", subject_id=subject, category="discrimination",
        rule="discrimination.gender", severity="high", score=0.9,
        evidence=(Evidence("description", 3, 6, "限男性"),), legal_basis=("就业促进法 第二十七条",),
        explanation="limits applicants to men", detector_version="t", detected_at="2026-01-01T00:00:00Z",
    )


def test_migrating_twice_is_harmless(store: FindingStore) -> None:
    store.migrate()
    assert store.count_findings() == 0


def test_writes_are_idempotent_on_finding_id(store: FindingStore) -> None:
    published = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)
    sources = {("job_posting", "p-1"): Provenance("hr.postings.v1", 1, 7, published)}
    assert set(store.write([finding(1), finding(2)], sources)) == {f"{1:064x}", f"{2:064x}"}
    assert store.write([finding(1), finding(2)], sources) == []  # redelivery
    assert store.write([finding(2), finding(3)]) == [f"{3:064x}"]
    assert store.count_findings() == 3
    assert store.counts_by_rule() == {"discrimination.gender": 3}
    bodies = {f["id"]: f for f in store.findings()}
    assert bodies[f"{1:064x}"]["evidence"][0]["excerpt"] == "限男性"
    (latency,) = store.latencies()  # one subject, timed from its publication
    assert latency > 0


def test_registry_records_keep_the_first_write_and_watermarks_only_rise(store: FindingStore) -> None:
    first = StoredRegistryRecord("agency_filing", "f-1", "hr.filings.v1", 0, 5, b'{"v": 1}')
    again = StoredRegistryRecord("agency_filing", "f-1", "hr.filings.v1", 1, 9, b'{"v": 2}')
    other = StoredRegistryRecord("business_registration", "9144@x", "hr.registrations.v1", 0, 0, b'{"v": 3}')
    store.write_registry("c1", [first, other], {("hr.filings.v1", 0): 6, ("hr.registrations.v1", 0): 1})
    store.write_registry("c1", [again], {("hr.filings.v1", 1): 10, ("hr.filings.v1", 0): 3})
    assert store.registry_watermarks("c1") == {
        ("hr.filings.v1", 0): 6, ("hr.filings.v1", 1): 10, ("hr.registrations.v1", 0): 1,
    }
    assert store.registry_watermarks("another-cluster") == {}
    assert [r.body for r in store.registry_records()] == [b'{"v": 1}', b'{"v": 3}']
    assert store.registry_records("c1", "hr.filings.v1", 0, 0, 6) == [first]
    assert store.registry_records("c1", "hr.filings.v1", 0, 6, 10) == []
