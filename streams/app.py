"""The faust app, built by `create_app(settings, ...)`: the agents that validate, keep registries, detect and store."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import faust
import orjson
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import EventT, StreamT

from detectors import DetectionEngine
from review.queue import ReviewQueue
from review.store import FindingStore
from streams.metrics import StreamMetrics
from streams.processing import BatchProcessor, BatchResult
from streams.topics import TopicNames
from streams.validation import InputMessage

log = logging.getLogger(__name__)

# The largest value a worker publishes: a dead letter carries the raw bytes of an oversized record, base64.
PRODUCER_MAX_REQUEST_BYTES = 16 * 1024 * 1024
RETRY_DELAYS = (0.5, 1, 2, 5, 10)
# faust fixes aiokafka's fetch wait at 1500 ms; against Tansu an aiokafka fetch is then answered only
# every ~750 ms although new records arrived, which is the floor of ingest→finding latency.
FETCH_MAX_WAIT_MS = 100


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts its fetcher
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class StreamsApp(faust.App):
    """faust.App with a shorter consumer fetch wait (see FETCH_MAX_WAIT_MS)."""

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)


@dataclass(slots=True)
class Pipeline:
    """What the agents share in one worker: the processor, its metrics, and the next offset per partition."""

    processor: BatchProcessor
    metrics: StreamMetrics
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    starting: asyncio.Lock = field(default_factory=asyncio.Lock)


def session_timeouts(settings: Any) -> tuple[float, float]:
    """(session timeout, heartbeat interval): short on the embedded broker, where joining waits half the session."""
    embedded = not settings.kafka
    session = settings.session_timeout or (6.0 if embedded else 45.0)
    heartbeat = settings.heartbeat_interval or (1.0 if embedded else 3.0)
    return session, min(heartbeat, session / 3)


def create_app(
    settings: Any,
    *,
    bootstrap: str | None = None,
    store: FindingStore | None = None,
    cluster_id: str,
    metrics: StreamMetrics | None = None,
    engine: DetectionEngine | None = None,
    on_ready: Callable[[], None] | None = None,
) -> StreamsApp:
    """A faust app whose agents process the input topics of `settings.topic_namespace` into `store`.

    Nothing here depends on faust tables, compaction or transactions (Tansu lacks them): registry
    state lives in the store and in each worker's memory; offsets are committed after the store write.
    """
    bootstrap = bootstrap or settings.kafka
    if not bootstrap:
        raise ValueError("create_app needs a bootstrap server: HRWATCH_KAFKA or the embedded broker's")
    store = store or FindingStore.from_settings(settings)
    metrics = metrics or StreamMetrics()
    names = TopicNames(settings.topic_namespace)
    session, heartbeat = session_timeouts(settings)
    datadir = settings.data_dir or Path(tempfile.gettempdir()) / f"hrwatch-faust-{settings.group_id}"
    app = StreamsApp(
        settings.group_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        datadir=str(datadir),
        topic_partitions=settings.partitions,
        topic_allow_declare=False,  # topics are created by streams.topics.ensure_topics
        topic_disable_leader=True,
        web_enabled=False,
        broker_session_timeout=session,
        broker_heartbeat_interval=heartbeat,
        broker_rebalance_timeout=max(session, 30.0),
        # Capped: faust fetches unbounded batches otherwise (see streams/README.md).
        broker_max_poll_records=settings.max_poll_records,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_max_request_size=PRODUCER_MAX_REQUEST_BYTES,
        consumer_max_fetch_size=max(1024 * 1024, settings.max_record_bytes * 2),
    )
    queue = ReviewQueue(store.engine, duplicate_threshold=settings.review_duplicate_threshold)
    processor = BatchProcessor(
        engine or DetectionEngine(), store, names, cluster_id, settings.max_record_bytes, queue
    )
    pipeline = Pipeline(processor, metrics)
    app.hrwatch_pipeline = pipeline  # type: ignore[attr-defined]

    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    postings = app.topic(names.postings, **raw)
    registry = app.topic(*names.registry_topics, **raw)
    findings_topic = app.topic(names.findings, **raw)
    deadletter_topic = app.topic(names.deadletter, **raw)

    async def start_pipeline() -> None:
        async with pipeline.starting:
            if pipeline.started.is_set():
                return
            loaded = await asyncio.to_thread(processor.view.load)
            metrics.registry_records.set(processor.view.applied)
            log.info("registries loaded from the store: %d records", loaded)
            pipeline.started.set()
            if on_ready is not None:
                on_ready()

    async def run_batches(agent: str, stream: StreamT, topic_names: Sequence[str]) -> None:
        await start_pipeline()
        batches = cast(faust.Stream, stream).noack_take(settings.batch_size, within=settings.batch_wait)
        async for events in batches:
            messages = [_input_message(e) for e in events]
            result = await _process_until_done(processor, messages)
            await _publish(result, findings_topic, deadletter_topic)
            metrics.observe_batch(agent, result, len(messages), topic_names)
            metrics.registry_records.set(processor.view.applied)
            for event, msg in zip(events, messages, strict=True):
                pipeline.next_offsets[(msg.topic, msg.partition)] = msg.offset + 1
                await stream.ack(event)

    @app.agent(registry, name="apply_registry_records")
    async def apply_registry_records(stream: StreamT) -> None:
        """Filings and registrations: dead-letter the invalid, store the valid, detect on filing notes."""
        await run_batches("registry", stream, names.registry_topics)

    @app.agent(postings, name="detect_postings")
    async def detect_postings(stream: StreamT) -> None:
        """Postings: dead-letter the invalid, detect against the registries, store and publish findings."""
        await run_batches("postings", stream, (names.postings,))

    @app.timer(interval=2.0)
    async def measure_lag() -> None:
        metrics.set_lag(consumer_lag(app, pipeline.next_offsets))

    return app


def consumer_lag(app: faust.App, next_offsets: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """Lag per assigned partition from the high watermark of the last fetch response.

    Not from end_offsets: Tansu answers ListOffsets(latest) with the start of the last batch + 1.
    """
    lags: dict[tuple[str, int], int] = {}
    consumer = app.consumer
    committed = getattr(consumer, "_committed_offset", {})
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        position = next_offsets.get((tp.topic, tp.partition)) or committed.get(tp) or 0
        lags[(tp.topic, tp.partition)] = max(0, int(highwater) - int(position))
    return lags


def _input_message(event: EventT) -> InputMessage:
    m = event.message
    return InputMessage(m.topic, m.partition, m.offset, m.key, m.value, m.timestamp)


async def _process_until_done(processor: BatchProcessor, messages: list[InputMessage]) -> BatchResult:
    # The batch is acknowledged only after this returns, so a store that is down stalls the stream
    # (and the batch is redelivered if the worker stops) instead of losing it.
    attempt = 0
    while True:
        try:
            return processor.process(messages)
        except Exception:
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            log.exception("batch of %d messages failed; retrying in %.1fs", len(messages), delay)
            attempt += 1
            await asyncio.sleep(delay)


async def _publish(result: BatchResult, findings_topic: faust.TopicT, deadletter_topic: faust.TopicT) -> None:
    """Publish every finding of the batch (new or not: the store may have been written before a crash)."""
    pending = []
    for f in result.findings:
        pending.append(
            await findings_topic.send(key=f.subject_id.encode(), value=orjson.dumps(f.to_dict()), force=True)
        )
    for dl in result.dead_letters:
        pending.append(await deadletter_topic.send(key=dl.message.key, value=dl.to_json(), force=True))
    if pending:
        await asyncio.gather(*pending)
