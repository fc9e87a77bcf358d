"""The worker stores every posting it checks (clean ones too) for `hrwatch scan`; scan findings reach hr.findings.v1."""

from __future__ import annotations

from pathlib import Path

import orjson
import sqlalchemy as sa
from click.testing import CliRunner

from hrwatch.cli import cli
from review.scan.models import PostingRow, ScanFindingRow
from tests.streams.conftest import StreamHarness, generated_feed


def test_worker_stores_every_posting_and_scan_publishes_its_findings(harness: StreamHarness, tmp_path: Path) -> None:
    feed = generated_feed(tmp_path, 300, seed=5)
    posting_ids = {orjson.loads(line.value)["id"] for line in feed if orjson.loads(line.value)["type"] == "job_posting"}
    harness.start_worker()
    report = harness.publish(feed)
    assert report.failed == 0, report.errors
    harness.wait_processed(report.produced)

    store = harness.store()
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(PostingRow.id, PostingRow.detector_version, PostingRow.body)).all()
        flagged = set(conn.execute(sa.text("SELECT DISTINCT subject_id FROM findings")).scalars())
    assert {r.id for r in rows} == posting_ids
    assert posting_ids - flagged, "the feed should hold clean postings, which are stored too"
    assert len({r.detector_version for r in rows}) == 1
    by_id = {orjson.loads(line.value)["id"]: orjson.loads(line.value) for line in feed}
    assert all(orjson.loads(r.body) == by_id[r.id] for r in rows)  # the record as received, compact JSON

    # The scan (annual reports of the feed's filings) publishes its new findings like the stream does.
    harness.stop_all()
    env = {k: v for k, v in harness.env().items() if k.startswith("HRWATCH_")}
    result = CliRunner().invoke(cli, ["scan", "--quiet", "--workers", "1", "--phases", "reports,redetect"], env=env)
    assert result.exit_code == 0, result.output
    with store.engine.connect() as conn:
        new = set(conn.execute(sa.select(ScanFindingRow.finding_id)).scalars())
        unpublished = conn.execute(sa.select(sa.func.count()).select_from(ScanFindingRow)
                                   .where(ScanFindingRow.published_at.is_(None))).scalar()
    store.close()
    assert new, "the generated filings include implausible annual reports"
    assert unpublished == 0
    on_topic = {orjson.loads(m.value)["id"] for m in harness.read_topic(harness.topics.findings)}
    assert new <= on_topic
