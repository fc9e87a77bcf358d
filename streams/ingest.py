"""`hrwatch ingest`: publish JSONL or CSV records to the input topics with kafka-python (acks=all, batched).

A mixed feed (`--topic auto`) is published registry records first (filings, registrations), then a
barrier: ingest waits until the worker group has committed them — which workers do only after storing
them — and only then publishes the postings. So every posting is checked against every registry
record of the file (see streams/README.md, "Ordering across topics").
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from schemas import load_schema
from streams.topics import INPUT_TOPIC_BY_TYPE, REGISTRY_TYPES, TOPIC_ALIASES, TopicNames, message_key

# Above the worker's default record limit, so oversized records reach the worker and are dead-lettered there.
INGEST_MAX_REQUEST_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FeedLine:
    """One input record: the bytes to publish, its record type if it parsed, its key, where it came from."""

    lineno: int
    value: bytes
    record_type: str | None
    key: str | None


@dataclass(slots=True)
class IngestReport:
    """Counts of an ingest run and the end offset it produced per partition."""

    sent: int = 0
    failed: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    produced: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) → next offset
    barriers: int = 0
    started: float = 0.0  # time.time() of the first send
    elapsed: float = 0.0


class BarrierTimeout(TimeoutError):
    """The worker group did not commit a published run in time (is a worker running?)."""


def read_feed(path: str | Path, fmt: str | None = None, record_type: str | None = None) -> Iterator[FeedLine]:
    """Lines of a JSONL file (kept byte for byte, even when malformed) or rows of a CSV file as JSON."""
    fmt = fmt or ("csv" if str(path).lower().endswith(".csv") else "jsonl")
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            yield from _csv_lines(fh, record_type)
        return
    with open(path, "rb") as fh:
        yield from jsonl_lines(fh)


def jsonl_lines(lines: Iterable[bytes]) -> Iterator[FeedLine]:
    """Feed lines from JSONL bytes; a malformed line is kept as it is (the worker dead-letters it)."""
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        kind = obj.get("type") if isinstance(obj, dict) else None
        yield FeedLine(lineno, line, kind if kind in INPUT_TOPIC_BY_TYPE else None, message_key(obj))


def _csv_lines(fh: IO[str], record_type: str | None) -> Iterator[FeedLine]:
    reader = csv.DictReader(fh)
    for lineno, row in enumerate(reader, 2):
        kind = (row.get("type") or record_type or "").strip()
        obj = csv_row_to_record(row, kind) if kind in INPUT_TOPIC_BY_TYPE else {k: v for k, v in row.items() if v}
        yield FeedLine(lineno, orjson.dumps(obj), kind if kind in INPUT_TOPIC_BY_TYPE else None, message_key(obj))


def csv_row_to_record(row: dict[str, str | None], record_type: str) -> dict[str, Any]:
    """A CSV row with dotted headers (`employer.name`, `salary.min`) → a record, typed by its JSON Schema.

    Empty cells are left out; numbers and integers are converted; arrays are split on `|` or `、`.
    A value that does not convert is kept as text, so the worker dead-letters it with the field named.
    """
    schema = load_schema(record_type)
    obj: dict[str, Any] = {"type": record_type}
    for header, cell in row.items():
        if header is None or cell is None or cell.strip() == "" or header == "type":
            continue
        path = header.strip().split(".")
        node = obj
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _convert(cell.strip(), _property_types(schema, path))
    return obj


def _property_types(schema: dict[str, Any], path: list[str]) -> set[str]:
    node: dict[str, Any] | None = schema
    for part in path:
        node = (node or {}).get("properties", {}).get(part)
        if node is None:
            return {"string"}
    kinds = node.get("type", "string") if node else "string"
    return set(kinds) if isinstance(kinds, list) else {kinds}


def _convert(text: str, kinds: set[str]) -> Any:
    try:
        if "integer" in kinds:
            return int(text)
        if "number" in kinds:
            value = float(text)
            return int(value) if value.is_integer() and "." not in text else value
    except ValueError:
        return text
    if "array" in kinds:
        return [part.strip() for part in text.replace("、", "|").split("|") if part.strip()]
    return text


def plan_runs(lines: Iterable[FeedLine], topic: str) -> list[tuple[bool, list[FeedLine]]]:
    """(is_registry, lines) runs to publish in turn: a fixed topic is one run; a mixed feed is its
    registry records first (in file order), then everything else (in file order)."""
    if topic != "auto":
        return [(TOPIC_ALIASES[topic] in REGISTRY_TYPES, list(lines))]
    registry: list[FeedLine] = []
    others: list[FeedLine] = []
    for line in lines:
        (registry if line.record_type in REGISTRY_TYPES else others).append(line)
    return [(flag, run) for flag, run in ((True, registry), (False, others)) if run]


class Ingester:
    """A kafka-python producer for the input topics of one namespace."""

    def __init__(self, bootstrap: str, names: TopicNames, *, linger_ms: int = 20, batch_size: int = 512 * 1024) -> None:
        from kafka import KafkaProducer

        self.bootstrap = bootstrap
        self.names = names
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="hrwatch-ingest",
            acks="all",
            linger_ms=linger_ms,
            batch_size=batch_size,
            max_request_size=INGEST_MAX_REQUEST_BYTES,
            retries=5,
        )

    def close(self, timeout: float = 30.0) -> None:
        """Flush what is pending (up to `timeout` s) and close the producer."""
        self.producer.close(timeout=timeout)

    def __enter__(self) -> Ingester:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        # On Ctrl-C the pending records are abandoned anyway: don't spend 30 s flushing them.
        self.close(2.0 if exc_type is KeyboardInterrupt else 30.0)

    def publish(
        self,
        lines: Iterable[FeedLine],
        *,
        topic: str = "auto",
        group: str | None = None,
        barrier_timeout: float = 120.0,
        progress: Callable[[int], None] | None = None,
        report: IngestReport | None = None,
        rate: float | None = None,
    ) -> IngestReport:
        """Publish every line; in `auto` mode with a `group`, wait at the registry → postings boundary.

        `rate` (records/s) paces the publication, for latency measurements below saturation.
        """
        report = report or IngestReport()
        runs = plan_runs(lines, topic)
        t0 = time.perf_counter()
        count = 0
        for index, (_is_registry, run) in enumerate(runs):
            sent_before = dict(report.produced)
            for line in run:
                target = self._topic_for(line, topic)
                self._send(target, line, report)
                count += 1
                if rate:
                    ahead = count / rate - (time.perf_counter() - t0)
                    if ahead > 0.005:
                        time.sleep(ahead)  # pacing to the requested rate, not synchronisation
                if progress:
                    progress(1)
            self.producer.flush()
            if group and topic == "auto" and index < len(runs) - 1:
                targets = {tp: n for tp, n in report.produced.items() if sent_before.get(tp) != n}
                wait_until_committed(self.bootstrap, group, targets, barrier_timeout)
                report.barriers += 1
        self.producer.flush()
        report.elapsed = time.perf_counter() - t0
        return report

    def _topic_for(self, line: FeedLine, topic: str) -> str:
        if topic != "auto":
            return self.names.input(TOPIC_ALIASES[topic])
        # Lines that are not records of a known type still go somewhere, so the worker dead-letters them.
        return self.names.input(line.record_type or "job_posting")

    def _send(self, target: str, line: FeedLine, report: IngestReport) -> None:
        from kafka.errors import KafkaError

        if not report.started:
            report.started = time.time()
        try:
            future = self.producer.send(target, key=line.key.encode() if line.key else None, value=line.value)
        except (KafkaError, ValueError, AssertionError) as exc:
            report.failed += 1
            report.errors.append(f"line {line.lineno}: {type(exc).__name__}: {exc}")
            return

        def delivered(meta: Any) -> None:
            report.sent += 1
            report.by_topic[meta.topic] = report.by_topic.get(meta.topic, 0) + 1
            tp = (meta.topic, meta.partition)
            report.produced[tp] = max(report.produced.get(tp, 0), meta.offset + 1)

        def failed(exc: BaseException) -> None:
            report.failed += 1
            report.errors.append(f"line {line.lineno}: {type(exc).__name__}: {exc}")

        future.add_callback(delivered)
        future.add_errback(failed)


def committed_offsets(admin: Any, group: str, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The group's committed offsets (next offset to process) for the given partitions; -1 when none."""
    from kafka import TopicPartition

    tps = [TopicPartition(t, p) for t, p in partitions]
    answer = admin.list_group_offsets({group: tps}).get(group, {})
    out = {(t, p): -1 for t, p in partitions}
    for tp, meta in answer.items():
        if meta is not None and meta.offset is not None:
            out[(tp.topic, tp.partition)] = meta.offset
    return out


def wait_until_committed(
    bootstrap: str, group: str, targets: dict[tuple[str, int], int], timeout: float, poll: float = 0.2
) -> None:
    """Block until `group` has committed at least `targets` (next offsets); BarrierTimeout after `timeout` s."""
    from kafka.admin import KafkaAdminClient

    if not targets:
        return
    deadline = time.monotonic() + timeout
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="hrwatch-ingest-admin")
    try:
        while True:
            current = committed_offsets(admin, group, targets)
            behind = {tp: current[tp] for tp, n in targets.items() if current[tp] < n}
            if not behind:
                return
            if time.monotonic() >= deadline:
                detail = ", ".join(f"{t}[{p}] at {c} of {targets[(t, p)]}" for (t, p), c in sorted(behind.items()))
                raise BarrierTimeout(
                    f"group {group!r} did not process the published records within {timeout:.0f}s: {detail}"
                )
            time.sleep(poll)  # polling the condition "group committed", bounded by the deadline
    finally:
        admin.close()


def summarize(report: IngestReport) -> str:
    topics = ", ".join(f"{t} {n}" for t, n in sorted(report.by_topic.items()))
    rate = report.sent / report.elapsed if report.elapsed > 0 else 0.0
    return (f"sent: {report.sent}, failed: {report.failed} ({topics or 'nothing'}),"
            f" barriers: {report.barriers}, elapsed: {report.elapsed:.2f}s ({rate:.0f} records/s)")
