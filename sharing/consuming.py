"""The kafka-python batch loop the publisher and the partner subscriber share: poll, handle, commit; rewind on failure."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """Connection and group settings; session/heartbeat short on the embedded Tansu (see streams/README.md)."""

    bootstrap: str
    group_id: str
    session_timeout: float = 6.0
    heartbeat_interval: float = 1.0
    max_poll_records: int = 500
    client_id: str = "hrwatch-sharing"


def make_consumer(settings: ConsumerSettings, topics: Sequence[str]) -> Any:
    """A group consumer from the earliest offset, committing by hand after each handled batch."""
    from kafka import KafkaConsumer

    return KafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap,
        group_id=settings.group_id,
        client_id=settings.client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=int(settings.session_timeout * 1000),
        heartbeat_interval_ms=int(settings.heartbeat_interval * 1000),
        max_poll_records=settings.max_poll_records,
        fetch_max_wait_ms=100,  # Tansu answers as soon as a record arrives; this bounds the idle wait
    )


def make_producer(bootstrap: str, client_id: str, timeout: float = 15.0) -> Any:
    """acks=all: a message counts as sent only once the broker has it."""
    from kafka import KafkaProducer

    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        linger_ms=5,
        retries=5,
        max_block_ms=int(timeout * 1000),
        request_timeout_ms=int(timeout * 1000),
    )


def send_all(
    producer: Any, messages: Sequence[tuple[str, bytes, bytes]], timeout: float = 15.0
) -> list[BaseException | None]:
    """Send (topic, key, value) messages and wait for every acknowledgement; per message None or the error."""
    futures = [producer.send(topic, key=key, value=value) for topic, key, value in messages]
    producer.flush(timeout=timeout)
    results: list[BaseException | None] = []
    for f in futures:
        try:
            f.get(timeout=timeout)
            results.append(None)
        except Exception as exc:  # a failed send is reported to the caller, which keeps it for a retry
            results.append(exc)
    return results


class BatchLoop:
    """poll → handler(messages) → commit, until `stop` is set; `idle()` runs between polls (sweeps, retries).

    At-least-once: offsets are committed only after the handler returned. A handler that raises
    (database down, broker unreachable) gets the same messages again: the loop seeks back to the
    batch's first offsets and retries with back-off, so nothing is skipped and nothing crashes.
    """

    def __init__(
        self,
        consumer: Any,
        handler: Callable[[list[Any]], None],
        *,
        idle: Callable[[], None] | None = None,
        name: str = "sharing",
        poll_ms: int = 200,
        max_backoff: float = 10.0,
    ) -> None:
        self.consumer = consumer
        self.handler = handler
        self.idle = idle
        self.name = name
        self.poll_ms = poll_ms
        self.max_backoff = max_backoff
        self.stop_event = threading.Event()
        self.batches = 0
        self.failures = 0
        self.last_error: str | None = None

    def run(self) -> None:
        """Loop until stop() is called; closes the consumer at the end."""
        backoff = 0.5
        try:
            while not self.stop_event.is_set():
                polled = self.consumer.poll(timeout_ms=self.poll_ms)
                messages = [m for batch in polled.values() for m in batch]
                if messages:
                    try:
                        self.handler(messages)
                        self.consumer.commit()
                        self.batches += 1
                        backoff = 0.5
                    except Exception as exc:  # keep consuming: the batch is retried, never dropped
                        self._failed(exc, f"batch of {len(messages)} messages", backoff)
                        self._rewind(messages)
                        self.stop_event.wait(backoff)
                        backoff = min(backoff * 2, self.max_backoff)
                        continue
                if self.idle is not None:
                    try:
                        self.idle()
                    except Exception as exc:  # the next idle call tries again
                        self._failed(exc, "periodic work", 0)

        finally:
            self.consumer.close()

    def _failed(self, exc: Exception, what: str, backoff: float) -> None:
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.exception("%s: %s failed%s", self.name, what, f"; retrying in {backoff:.1f}s" if backoff else "")

    def _rewind(self, messages: list[Any]) -> None:
        from kafka import TopicPartition

        first: dict[tuple[str, int], int] = {}
        for m in messages:
            key = (m.topic, m.partition)
            first[key] = min(first.get(key, m.offset), m.offset)
        for (topic, partition), offset in first.items():
            try:
                self.consumer.seek(TopicPartition(topic, partition), offset)
            except Exception:  # partition revoked meanwhile: its new owner starts from the committed offset
                log.warning("%s: could not rewind %s[%d]", self.name, topic, partition)

    def stop(self) -> None:
        self.stop_event.set()


class ConsumerService:
    """A batch handler run by a BatchLoop in a background thread, with a producer made on first use."""

    bootstrap: str
    client_id: str

    _loop: BatchLoop | None = None
    _thread: threading.Thread | None = None
    _producer: Any = None

    def _run_loop(
        self, consumer: Any, handler: Callable[[list[Any]], None], name: str, idle: Callable[[], None] | None = None
    ) -> None:
        self._loop = BatchLoop(consumer, handler, idle=idle, name=name)
        self._thread = threading.Thread(target=self._loop.run, name=name.replace(" ", "-"), daemon=True)
        self._thread.start()

    @property
    def producer(self) -> Any:
        if self._producer is None:
            self._producer = make_producer(self.bootstrap, self.client_id)
        return self._producer

    @property
    def failures(self) -> int:
        """Batches (or periodic runs) that raised and were retried."""
        return self._loop.failures if self._loop else 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the loop (it closes its consumer), wait for the thread, close the producer."""
        if self._loop is not None:
            self._loop.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None
