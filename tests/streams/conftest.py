"""Fixtures for the stream tests: store databases (SQLite file, PostgreSQL database per run), feeds, a harness."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from hrwatch.cli import cli
from hrwatch.settings import child_environment
from review.store import FindingStore
from streams.broker import EmbeddedBroker
from streams.ingest import FeedLine, Ingester, IngestReport, jsonl_lines, plan_runs, wait_until_committed
from streams.topics import TopicNames, ensure_topics
from streams.worker import WorkerProcess
from tests.conftest import StreamNames

DEV_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "eval_dev.jsonl"
# Small, so the oversized test messages stay small too.
TEST_MAX_RECORD_BYTES = 64 * 1024


def generated_feed(tmp_path: Path, count: int, seed: int) -> list[FeedLine]:
    """`count` records of the labelled synthetic corpus."""
    from corpus.generator import write_corpus

    path = tmp_path / f"corpus-{seed}.jsonl"
    write_corpus(str(path), str(tmp_path / f"labels-{seed}.jsonl"), count, seed, True)
    return list(jsonl_lines(path.read_bytes().splitlines()))


def dev_feed() -> list[FeedLine]:
    """The hand-written dev sample (filings first, then postings); the test fails if shared/ is missing."""
    assert DEV_SAMPLE.exists(), f"the dev sample {DEV_SAMPLE} is missing (shared/ must sit beside the repo)"
    return list(jsonl_lines(DEV_SAMPLE.read_bytes().splitlines()))


def detect_findings(lines: Iterable[FeedLine], tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Findings (by id) that `hrwatch detect` writes for the feed as ingest publishes it (registry records first)."""
    ordered = [line for _flag, run in plan_runs(lines, "auto") for line in run]
    path = tmp_path / f"detect-{uuid.uuid4().hex[:6]}.jsonl"
    path.write_bytes(b"\n".join(line.value for line in ordered) + b"\n")
    result = CliRunner().invoke(cli, ["detect", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    found = [json.loads(row) for row in result.stdout.splitlines() if row.strip()]
    return {f["id"]: f for f in found}


def detect_finding_ids(lines: Iterable[FeedLine], tmp_path: Path) -> list[str]:
    return list(detect_findings(lines, tmp_path))


@dataclass
class StreamHarness:
    """A namespace on the session broker, a store, and the workers and ingest runs of one test."""

    broker: EmbeddedBroker
    names: StreamNames
    tmp_path: Path
    database_url: str
    workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def topics(self) -> TopicNames:
        return TopicNames(self.names.namespace)

    def env(self, **extra: Any) -> dict[str, str]:
        settings: dict[str, Any] = {
            "kafka": self.broker.bootstrap, "database_url": self.database_url,
            "topic_namespace": self.names.namespace, "group_id": self.names.group, "partitions": 4,
            "session_timeout": 6, "heartbeat_interval": 1, "metrics_port": 0,
            "max_record_bytes": TEST_MAX_RECORD_BYTES,
        }
        settings.update(extra)
        return child_environment(**settings)

    def start_worker(self) -> WorkerProcess:
        n = len(self.workers)
        worker = WorkerProcess(
            self.env(ready_file=self.tmp_path / f"worker{n}.ready", data_dir=self.tmp_path / f"faust{n}"),
            self.tmp_path / f"worker{n}.ready", self.tmp_path / f"worker{n}.log",
        ).start()
        self.workers.append(worker)
        worker.wait_ready(90)
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- worker {i} ---\n{w.log_tail()}" for i, w in enumerate(self.workers))

    def publish(self, lines: list[FeedLine], topic: str = "auto", wait: bool = True) -> IngestReport:
        ensure_topics(self.broker.bootstrap, self.topics.all(), 4)
        with Ingester(self.broker.bootstrap, self.topics) as ingester:
            return ingester.publish(lines, topic=topic, group=self.names.group if wait else None, barrier_timeout=120)

    def wait_processed(self, produced: dict[tuple[str, int], int], timeout: float = 120) -> None:
        try:
            wait_until_committed(self.broker.bootstrap, self.names.group, produced, timeout)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    def store(self) -> FindingStore:
        return FindingStore(self.database_url)

    def read_topic(self, topic: str) -> list[Any]:
        """Every message of a topic (all partitions) up to the high watermark the fetch responses report."""
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self.broker.bootstrap, enable_auto_commit=False,
                                 group_id=None, fetch_max_wait_ms=100, consumer_timeout_ms=1000)
        try:
            tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            messages: list[Any] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=200, max_records=5000).values():
                    messages.extend(batch)
                marks = {tp: consumer.highwater(tp) for tp in tps}
                if all(m is not None and consumer.position(tp) >= m for tp, m in marks.items()):
                    return messages
            raise AssertionError(f"could not read {topic} to its end within 60s")
        finally:
            consumer.close()

    def dead_letters(self) -> list[dict[str, Any]]:
        out = []
        for message in self.read_topic(self.topics.deadletter):
            value = orjson.loads(message.value)
            value["raw_bytes"] = base64.b64decode(value["raw"])
            value["key"] = message.key
            out.append(value)
        return out

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()


@pytest.fixture
def harness(kafka_broker: EmbeddedBroker, stream_names: StreamNames, tmp_path: Path) -> Iterator[StreamHarness]:
    h = StreamHarness(kafka_broker, stream_names, tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    try:
        yield h
    finally:
        h.stop_all()


def wait_for(condition: Callable[[], bool], timeout: float, message: Callable[[], str]) -> None:
    """Poll `condition` until it holds; fail with `message()` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message())
        time.sleep(0.05)  # polling interval of the condition, bounded by the deadline
