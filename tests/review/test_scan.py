"""`hrwatch scan` phases on SQLite and PostgreSQL: lapsed licences, re-detection, templates, annual reports, intake, lock, report, metrics."""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest

from detectors import DetectionEngine, detector_version
from review.queue_models import AlertRow, SubjectRow
from review.scan.metrics import ScanRunCollector
from review.scan.models import PostingRow, ScanLockRow, ScanRecordErrorRow
from review.scan.runner import EXIT_LOCKED, EXIT_OK, EXIT_RECORD_ERRORS, ScanOptions, run_scan
from review.scan.state import LOCK_NAME
from review.store import FindingStore
from schemas import parse_record
from tests.review import scan_data

pytestmark = pytest.mark.timeout(300)


def _options(tmp_path: Path, **kw: object) -> ScanOptions:
    base: dict[str, object] = {"as_of": scan_data.AS_OF, "workers": 1, "chunk_size": 7, "report_dir": tmp_path / "reports"}
    base.update(kw)
    return ScanOptions(**base)  # type: ignore[arg-type]


def _rules_by_subject(store: FindingStore) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in store.findings():
        out.setdefault(f["subject"]["id"], set()).add(f["rule"])
    return out


def test_every_phase_finds_what_it_should_and_a_second_pass_adds_nothing(store: FindingStore, tmp_path: Path) -> None:
    scan_data.load(store, extra=30)
    outcome = run_scan(store, _options(tmp_path))
    assert outcome.exit_code == EXIT_OK, outcome.message
    rules = _rules_by_subject(store)
    # (a) licence expired on 11-20 / revoked on 11-22, posting published before and still live on 11-23
    assert "fake_recruitment.lapsed_licence" in rules["p-lapsed-live"]
    assert "fake_recruitment.lapsed_licence" in rules["p-revoked-live"]
    assert "fake_recruitment.lapsed_licence" not in rules.get("p-lapsed-old", set())  # older than 30 days
    assert "fake_recruitment.lapsed_licence" not in rules.get("p-fine", set())
    # published after the expiry: the re-detection's unlicensed_agency, not a lapse
    assert rules["p-after-expiry"] >= {"fake_recruitment.unlicensed_agency"}
    assert "fake_recruitment.lapsed_licence" not in rules["p-after-expiry"]
    # (c) one text under four employers the same day; one employer's own repost is not a template
    for i in range(4):
        assert "fake_recruitment.mass_posted_template" in rules[f"p-template-{i}"]
    for i in range(2):
        assert "fake_recruitment.mass_posted_template" not in rules.get(f"p-repost-{i}", set())
    # (d) fees above revenue, fees without placements, dispatch without 劳务派遣 scope
    assert rules["f-report-bad"] == {"fake_recruitment.annual_report_anomaly"}
    assert "f-report-ok" not in rules
    bad = next(f for f in store.findings() if f["subject"]["id"] == "f-report-bad")
    assert set(bad["analysis"]["checks"]) == {"fees_exceed_revenue", "fees_without_placements", "low_tax",
                                              "dispatch_without_scope"}
    # (b) every stored posting re-detected with the running version, findings equal to the engine's
    with store.engine.connect() as conn:
        versions = set(conn.execute(sa.select(PostingRow.detector_version)).scalars())
    assert versions == {detector_version()}
    engine = DetectionEngine()
    for r in scan_data.registry_records():
        engine.registries.apply(parse_record(r))
    expected = {f.id for p in scan_data.postings(30) for f in engine.detect(parse_record(p))}
    stored = {f["id"] for f in store.findings() if f["subject"]["type"] == "job_posting"}
    scan_rules = {"fake_recruitment.lapsed_licence", "fake_recruitment.mass_posted_template"}
    assert {f["id"] for f in store.findings() if f["subject"]["type"] == "job_posting" and f["rule"] not in scan_rules} == expected
    assert expected <= stored
    # new findings went through the queue like streamed ones: an alert per subject, with its record
    with store.engine.connect() as conn:
        alert_subjects = set(conn.execute(sa.select(AlertRow.subject_id)).scalars())
        subject_rows = set(conn.execute(sa.select(SubjectRow.subject_id)).scalars())
    assert {"p-lapsed-live", "p-template-0", "f-report-bad"} <= alert_subjects <= subject_rows
    assert outcome.new_findings == len(list(store.findings()))
    # a second pass (same as-of date, restarted) finds nothing new
    again = run_scan(store, _options(tmp_path, restart=True))
    assert again.exit_code == EXIT_OK and again.new_findings == 0, again.message
    assert again.pass_id != outcome.pass_id


def test_report_lists_the_new_findings_and_the_phases(store: FindingStore, tmp_path: Path) -> None:
    scan_data.load(store)
    outcome = run_scan(store, _options(tmp_path))
    html, findings_csv, phases_csv = outcome.reports
    with open(findings_csv, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["finding_id"] for r in rows} == {f["id"] for f in store.findings()}
    assert all(r["published"] == "no" for r in rows)  # no publisher configured
    with open(phases_csv, encoding="utf-8") as fh:
        phases = {r["phase"]: r for r in csv.DictReader(fh)}
    assert {"licences", "redetect", "templates", "reports"} <= set(phases)
    assert phases["templates"]["new_findings"] == "4"
    text = html.read_text("utf-8")
    assert "fake_recruitment.mass_posted_template" in text and "completed" in text
    assert "<script" not in text


def test_publishes_new_findings_once_and_marks_them(store: FindingStore, tmp_path: Path) -> None:
    scan_data.load(store)
    sent: list[tuple[bytes, bytes]] = []
    outcome = run_scan(store, _options(tmp_path, publish=sent.extend))
    assert outcome.published == outcome.new_findings == len(sent) > 0
    assert {orjson.loads(v)["id"] for _k, v in sent} == {f["id"] for f in store.findings()}
    assert all(k.decode() == orjson.loads(v)["subject"]["id"] for k, v in sent)


def test_a_record_that_no_longer_validates_is_reported_and_retried(store: FindingStore, tmp_path: Path) -> None:
    scan_data.load(store)
    with store.engine.begin() as conn:
        conn.execute(sa.update(PostingRow).where(PostingRow.id == "p-fine").values(body='{"type": "job_posting", "id": "p-fine"}'))
    outcome = run_scan(store, _options(tmp_path, phases=("redetect",)))
    assert outcome.exit_code == EXIT_RECORD_ERRORS and outcome.record_errors == 1, outcome.message
    with store.engine.connect() as conn:
        errors = conn.execute(sa.select(ScanRecordErrorRow.subject_id, ScanRecordErrorRow.error)).all()
        version = conn.execute(sa.select(PostingRow.detector_version).where(PostingRow.id == "p-fine")).scalar()
    assert errors[0][0] == "p-fine" and "required field is missing" in errors[0][1]
    assert version == scan_data.OLD_VERSION  # the next pass tries it again


def test_a_live_lock_holder_means_exit_75_and_a_dead_one_is_taken_over(store: FindingStore, tmp_path: Path) -> None:
    scan_data.load(store)
    import socket

    now = dt.datetime.now(dt.UTC)
    with store.engine.begin() as conn:
        conn.execute(sa.insert(ScanLockRow).values(name=LOCK_NAME, run_id=99, host=socket.gethostname(),
                                                    pid=os.getppid(), acquired_at=now, heartbeat_at=now))
    locked = run_scan(store, _options(tmp_path))
    assert locked.exit_code == EXIT_LOCKED and "holds the lock" in locked.message
    with store.engine.begin() as conn:  # the holder's process is gone (no such pid)
        conn.execute(sa.update(ScanLockRow).values(pid=2**22 + 12345))
    assert run_scan(store, _options(tmp_path)).exit_code == EXIT_OK
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ScanLockRow)).scalar() == 0


def test_collector_reports_the_runs(store: FindingStore, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    registry.register(ScanRunCollector(store.engine))
    empty = generate_latest(registry).decode()
    assert "hrwatch_scan_last_success_timestamp_seconds 0.0" in empty
    scan_data.load(store)
    outcome = run_scan(store, _options(tmp_path))
    text = generate_latest(registry).decode()
    values = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line.startswith("hrwatch_scan")}
    assert values['hrwatch_scan_runs{status="completed"}'] == 1
    assert values['hrwatch_scan_runs{status="failed"}'] == 0
    assert values["hrwatch_scan_last_run_failed"] == 0
    assert values["hrwatch_scan_last_new_findings"] == outcome.new_findings
    assert values["hrwatch_scan_last_postings_scanned"] == outcome.postings_scanned > 0
    assert values["hrwatch_scan_last_success_timestamp_seconds"] > dt.datetime(2026, 1, 1).timestamp()
    assert values["hrwatch_scan_last_duration_seconds"] >= 0
