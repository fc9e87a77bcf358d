"""Where the scan's findings go — the streamed findings' path: findings store, review queue, then hr.findings.v1.

Each chunk is one transaction: new findings, their alerts, the pass's list of new findings (the
report's source and the publishing outbox), record errors, re-detected postings and the phase
checkpoint. A scan killed at any point therefore resumes with nothing half-written, and the
outbox is published after the commit (at-least-once, consumers dedupe on the finding id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ARRAY, Connection, String, any_, bindparam, select, update
from sqlalchemy.orm import Session

from detectors import Finding
from review import intake
from review.models import FindingRow
from review.scan.models import PostingRow, ScanFindingRow, ScanRecordErrorRow
from review.scan.state import RunInfo, ScanState, utcnow
from review.store import FindingStore

PUBLISH_BATCH = 500
# (key, value) pairs → delivered (raises if not); injected so review/ does not depend on streams/.
Publish = Callable[[Sequence[tuple[bytes, bytes]]], None]


class ScanSink:
    """Commits a chunk of scan results atomically with the phase checkpoint; publishes the new findings."""

    def __init__(self, store: FindingStore, state: ScanState, info: RunInfo, duplicate_threshold: float = 90.0) -> None:
        self.store = store
        self.state = state
        self.info = info
        self.threshold = duplicate_threshold

    def commit(
        self,
        phase: str,
        findings: Sequence[Finding],
        subjects: Mapping[tuple[str, str], Mapping[str, Any]],
        *,
        checked_postings: Sequence[str] = (),
        detector_version: str | None = None,
        errors: Iterable[tuple[str, str]] = (),
        cursor: Any = None,
        processed: int = 0,
        done: bool = False,
        elapsed_ms: int = 0,
    ) -> int:
        """Store one chunk; returns how many findings were new to the store."""
        errors = list(errors)
        now = dt.datetime.now(dt.UTC)
        with Session(self.store.engine) as s, s.begin():
            conn = s.connection()
            # Re-detection mostly finds what the stream already stored: look the ids up first, so the
            # insert (many rows × 15 columns) carries only the new ones. ON CONFLICT still guards races.
            fr = FindingRow.__table__
            known = set(conn.execute(select(fr.c.id).where(_one_of(conn, fr.c.id, [f.id for f in findings])))
                        .scalars()) if findings else set()
            new_ids = set(self.store.write_in(conn, [f for f in findings if f.id not in known]))
            if new_ids:
                table = ScanFindingRow.__table__
                conn.execute(intake.insert_ignoring(s, table, ["pass_id", "finding_id"]), [
                    {"pass_id": self.info.pass_id, "finding_id": fid, "phase": phase, "run_id": self.info.run_id}
                    for fid in sorted(new_ids)
                ])
                new = [f for f in findings if f.id in new_ids]
                keys = sorted({(f.subject_type, f.subject_id) for f in new})
                # The subject record comes first, so the alert shows the posting (or filing) text.
                intake.record_subjects(s, [subjects[k] for k in keys if k in subjects], now, self.threshold)
                intake.record_findings(s, new, now, self.threshold)
            if checked_postings and detector_version is not None:
                # One statement per chunk (an IN list), not one per posting: this runs for every stored posting.
                posts = PostingRow.__table__
                conn.execute(update(posts).where(_one_of(conn, posts.c.id, checked_postings))
                             .values(detector_version=detector_version))
            if errors:
                conn.execute(intake.insert_ignoring(s, ScanRecordErrorRow.__table__, ["pass_id", "phase", "subject_id"]), [
                    {"pass_id": self.info.pass_id, "phase": phase, "subject_id": sid[:200], "error": err[:2000]}
                    for sid, err in errors
                ])
            self.state.advance(conn, self.info.pass_id, phase, cursor=cursor, done=done, processed=processed,
                               new_findings=len(new_ids), record_errors=len(errors), elapsed_ms=elapsed_ms)
            self.state.heartbeat(conn, self.info.run_id)
        return len(new_ids)

    def publish_pending(self, publish: Publish) -> int:
        """Send the pass's unpublished new findings to hr.findings.v1 (key: subject id); returns how many."""
        sf, fr = ScanFindingRow.__table__, FindingRow.__table__
        sent = 0
        while True:
            with self.store.engine.connect() as conn:
                rows = conn.execute(
                    select(sf.c.finding_id, fr.c.subject_id, fr.c.body)
                    .join(fr, fr.c.id == sf.c.finding_id)
                    .where(sf.c.pass_id == self.info.pass_id, sf.c.published_at.is_(None))
                    .order_by(sf.c.finding_id).limit(PUBLISH_BATCH)
                ).all()
            if not rows:
                return sent
            publish([(subject.encode(), body.encode()) for _fid, subject, body in rows])
            with self.store.engine.begin() as conn:
                conn.execute(
                    update(sf).where(sf.c.pass_id == self.info.pass_id, sf.c.finding_id == bindparam("b_id"))
                    .values(published_at=utcnow()),
                    [{"b_id": fid} for fid, _s, _b in rows],
                )
            sent += len(rows)


def _one_of(conn: Connection, column: Any, values: Sequence[str]) -> Any:
    """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter instead of one per value."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("b_values", list(values), type_=ARRAY(String)))
    # expanding: the statement is compiled once and cached; a literal list compiles anew on every chunk.
    return column.in_(bindparam("b_values", list(values), expanding=True))


class KafkaFindingsPublisher:
    """kafka-python producer for hr.findings.v1 (acks=all): a batch returns once every message is acknowledged."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from kafka import KafkaProducer

        self.topic = topic
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="hrwatch-scan", acks="all",
                                      linger_ms=20, retries=5, max_request_size=8 * 1024 * 1024)

    def __call__(self, messages: Sequence[tuple[bytes, bytes]]) -> None:
        futures = [self.producer.send(self.topic, key=key, value=value) for key, value in messages]
        self.producer.flush()
        for future in futures:
            future.get(timeout=30)  # raises the delivery error, if any

    def close(self) -> None:
        self.producer.close(timeout=10)
