"""Batch processing without a broker: the findings of `hrwatch detect`, redelivery, registries shared via the store."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from detectors import DetectionEngine
from hrwatch.cli import cli
from review.store import FindingStore
from streams.ingest import FeedLine, plan_runs
from streams.processing import BatchProcessor
from streams.topics import TopicNames
from streams.validation import InputMessage
from tests.streams.conftest import detect_finding_ids, dev_feed, generated_feed

NAMES = TopicNames("unit")


def as_messages(lines: list[FeedLine]) -> list[InputMessage]:
    offsets: dict[str, int] = {}
    out = []
    for line in lines:
        topic = NAMES.input(line.record_type or "job_posting")
        offsets[topic] = offsets.get(topic, -1) + 1
        out.append(InputMessage(topic, 0, offsets[topic], line.key.encode() if line.key else None, line.value,
                                time.time()))
    return out


def test_batches_give_the_findings_of_detect_and_redelivery_adds_nothing(store: FindingStore, tmp_path: Path) -> None:
    lines = dev_feed()
    expected = set(detect_finding_ids(lines, tmp_path))
    assert expected, "the detectors find nothing in the dev sample"
    messages = as_messages([line for _flag, run in plan_runs(lines, "auto") for line in run])
    processor = BatchProcessor(DetectionEngine(), store, NAMES, "c1", 512 * 1024)
    new: set[str] = set()
    for i in range(0, len(messages), 17):
        new |= processor.process(messages[i : i + 17]).new_finding_ids
    assert new == expected == store.finding_ids()
    again = processor.process(messages)  # everything redelivered
    assert again.new_finding_ids == set() and {f.id for f in again.findings} == expected


def test_a_second_worker_sees_registry_records_another_worker_stored(store: FindingStore) -> None:
    filings = [line for line in dev_feed() if line.record_type == "agency_filing"]
    assert filings
    messages = as_messages(filings)
    one = BatchProcessor(DetectionEngine(), store, NAMES, "c1", 512 * 1024)
    two = BatchProcessor(DetectionEngine(), store, NAMES, "c1", 512 * 1024)
    two.view.load()
    one.process(messages)
    assert len(two.engine.registries.licences) == 0
    assert two.view.refresh() == len(messages)
    assert len(two.engine.registries.licences) == len(one.engine.registries.licences) > 0
    assert two.view.refresh() == 0
    three = BatchProcessor(DetectionEngine(), store, NAMES, "c1", 512 * 1024)
    assert three.view.load() == len(messages)  # a worker starting later loads them all


def test_publishing_registry_records_first_does_not_change_what_detect_finds(tmp_path: Path) -> None:
    """Ingest publishes a mixed feed registry records first (streams/README.md, "Ordering across topics").
    The registries answer "as of the posting date", so on the sample feeds that is what `hrwatch detect`
    finds in file order too."""
    for lines in (dev_feed(), generated_feed(tmp_path, 1500, seed=5)):
        in_file_order = tmp_path / "in-order.jsonl"
        in_file_order.write_bytes(b"\n".join(line.value for line in lines) + b"\n")
        result = CliRunner().invoke(cli, ["detect", str(in_file_order), "--quiet"])
        assert result.exit_code == 0, result.output
        file_order = {json.loads(row)["id"] for row in result.stdout.splitlines() if row.strip()}
        assert file_order == set(detect_finding_ids(lines, tmp_path)), (
            "a posting's findings depend on registry records that come after it in the feed"
        )


def test_a_detector_that_raises_dead_letters_the_record_instead_of_stalling(store: FindingStore) -> None:
    lines = [line for line in dev_feed() if line.record_type == "job_posting"][:5]

    class Exploding(DetectionEngine):
        def detect(self, record):  # type: ignore[no-untyped-def]
            if record.subject_id == lines[2].key:
                raise KeyError("negation_before")
            return super().detect(record)

    result = BatchProcessor(Exploding(), store, NAMES, "c1", 512 * 1024).process(as_messages(lines))
    (letter,) = result.dead_letters
    assert letter.reason == "detector_error" and "negation_before" in letter.error
    assert letter.message.value == lines[2].value
    assert len(result.records) == 4


def test_batches_feed_the_alert_queue_one_alert_per_subject(store: FindingStore) -> None:
    from review.queue import ReviewQueue

    queue = ReviewQueue(store.engine)
    queue.migrate()
    lines = dev_feed()
    messages = as_messages([line for _flag, run in plan_runs(lines, "auto") for line in run])
    processor = BatchProcessor(DetectionEngine(), store, NAMES, "c1", 512 * 1024, queue)
    result = processor.process(messages)
    subjects = {(f.subject_type, f.subject_id) for f in result.findings}
    assert subjects and sum(queue.counts().values()) == len(subjects)
    processor.process(messages)  # redelivered: no second alert
    assert sum(queue.counts().values()) == len(subjects)
