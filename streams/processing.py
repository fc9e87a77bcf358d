"""One batch of consumed messages → dead letters, registry updates and findings in the store (no faust here)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from detectors import DetectionEngine, Finding
from review.queue import ReviewQueue
from review.scan.postings import posting_row
from review.store import FindingStore, Provenance, StoredRegistryRecord
from schemas import Record, RecordError, parse_json
from streams.topics import REGISTRY_TYPES, TopicNames
from streams.validation import DeadLetter, InputMessage, validate_message

log = logging.getLogger(__name__)


class RegistryView:
    """The engine's in-memory registries, kept equal to the store's registry records.

    Loaded in full at start, then topped up before every batch from the rows past this worker's
    per-partition watermark. Every worker of the group sees every registry record this way, although
    each consumes only some partitions of the registry topics.
    """

    def __init__(self, store: FindingStore, engine: DetectionEngine, cluster_id: str) -> None:
        self.store = store
        self.engine = engine
        self.cluster_id = cluster_id
        self.loaded: dict[tuple[str, int], int] = {}
        self.applied = 0

    def load(self) -> int:
        """Apply every stored registry record; returns how many."""
        # Watermarks first: rows committed after this read are loaded too, and applying twice is harmless.
        marks = self.store.registry_watermarks(self.cluster_id)
        count = self._apply(self.store.registry_records())
        self.loaded = marks
        return count

    def refresh(self) -> int:
        """Apply the registry records stored since the last call; returns how many."""
        count = 0
        for (topic, partition), end in self.store.registry_watermarks(self.cluster_id).items():
            start = self.loaded.get((topic, partition), 0)
            if end > start:
                rows = self.store.registry_records(self.cluster_id, topic, partition, start, end)
                count += self._apply(rows)
                self.loaded[(topic, partition)] = end
        return count

    def _apply(self, rows: Sequence[StoredRegistryRecord]) -> int:
        for row in rows:
            try:
                record = parse_json(row.body)
            except RecordError:  # stored only after validation; a schema change could still reject it
                log.warning("registry record %s %s no longer validates; skipped", row.record_type, row.record_key)
                continue
            self.engine.registries.apply(record)
        self.applied += len(rows)
        return len(rows)


@dataclass(slots=True)
class BatchResult:
    """What one batch produced: everything here has been written to the store before it is returned."""

    records: list[tuple[InputMessage, Record]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    new_finding_ids: set[str] = field(default_factory=set)


class BatchProcessor:
    """Validate, persist registry records, detect with the same engine as `hrwatch detect`, store findings."""

    def __init__(
        self,
        engine: DetectionEngine,
        store: FindingStore,
        names: TopicNames,
        cluster_id: str,
        max_record_bytes: int,
        queue: ReviewQueue | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        # The alert queue regulators review: findings grouped per subject, with the subject's text.
        self.queue = queue
        self.names = names
        self.cluster_id = cluster_id
        self.max_record_bytes = max_record_bytes
        self.view = RegistryView(store, engine, cluster_id)
        self._registry_topics = set(names.registry_topics)

    def process(self, messages: Sequence[InputMessage]) -> BatchResult:
        """Process one batch; idempotent, so a redelivered batch changes nothing in the store."""
        result = BatchResult()
        registry_rows: list[StoredRegistryRecord] = []
        marks: dict[tuple[str, int], int] = {}
        for msg in messages:
            outcome = validate_message(msg, self.names.record_type_of(msg.topic), self.max_record_bytes)
            if msg.topic in self._registry_topics:
                tp = (msg.topic, msg.partition)
                marks[tp] = max(marks.get(tp, 0), msg.offset + 1)
            if isinstance(outcome, DeadLetter):
                result.dead_letters.append(outcome)
                continue
            result.records.append((msg, outcome))
            if outcome.type in REGISTRY_TYPES:
                registry_rows.append(
                    StoredRegistryRecord(outcome.type, outcome.subject_id, msg.topic, msg.partition, msg.offset,
                                         msg.value or b"")
                )
        if marks:
            self.store.write_registry(self.cluster_id, registry_rows, marks)
        # Postings are checked against every registry record stored so far, this batch's included.
        self.view.refresh()
        sources: dict[tuple[str, str], Provenance] = {}
        detected: list[tuple[InputMessage, Record]] = []
        for msg, record in result.records:
            try:
                found = self.engine.detect(record)
            except Exception as exc:
                # A detector bug on one record must not stall its partition: the record goes to the
                # dead-letter topic (with its bytes, for a replay once the detector is fixed).
                log.exception("detectors failed on %s %s", record.type, record.subject_id)
                result.dead_letters.append(DeadLetter("detector_error", f"{type(exc).__name__}: {exc}", msg))
                continue
            detected.append((msg, record))
            result.findings.extend(found)
            sources[(record.type, record.subject_id)] = Provenance(msg.topic, msg.partition, msg.offset,
                                                                   msg.published_at)
        result.records = detected
        # Every checked posting, clean ones too, goes into `postings` (one upsert, in the findings'
        # transaction): the nightly scan re-detects and clusters them.
        now = dt.datetime.now(dt.UTC)
        postings = [posting_row(r, self.engine.version, now) for _m, r in detected if r.type == "job_posting"]
        if result.findings or postings:
            result.new_finding_ids = set(self.store.write(result.findings, sources, postings))
        if result.findings:
            if self.queue is not None:
                by_subject: dict[tuple[str, str], list[Finding]] = {}
                for f in result.findings:
                    by_subject.setdefault((f.subject_type, f.subject_id), []).append(f)
                # Idempotent like the store: a redelivered batch adds no alert and no finding.
                self.queue.record(
                    (record, by_subject.get((record.type, record.subject_id), [])) for _msg, record in detected
                )
        return result
