"""hr.reviews.v1: the decision event, publishers (Kafka, in-memory) and the relay that drains the outbox."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

REVIEWS_TOPIC = "hr.reviews.v1"
EVENT_SCHEMA = "review.v1"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An outbox row waiting to be published: Kafka key (alert id) and JSON value."""

    id: int
    key: str
    body: bytes


class ReviewPublisher(Protocol):
    """Publishes review events; `publish` returns once every event is acknowledged, or raises."""

    def publish(self, events: Sequence[PendingEvent]) -> None: ...

    def close(self) -> None: ...


class MemoryPublisher:
    """Keeps events in memory (tests, or a web app run without a broker that should still drain its outbox)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self._lock = threading.Lock()

    def publish(self, events: Sequence[PendingEvent]) -> None:
        with self._lock:
            for e in events:
                self.keys.append(e.key)
                self.events.append(orjson.loads(e.body))

    def close(self) -> None:
        pass


class KafkaReviewPublisher:
    """kafka-python producer for hr.reviews.v1: acks=all, idempotent per event (consumers dedupe on event_id)."""

    def __init__(
        self, bootstrap: str, topic: str = REVIEWS_TOPIC, *, timeout: float = 10.0, client_id: str = "hrwatch-review"
    ) -> None:
        from kafka import KafkaProducer

        self.topic = topic
        self.timeout = timeout
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            acks="all",
            linger_ms=5,
            max_block_ms=int(timeout * 1000),
            request_timeout_ms=int(timeout * 1000),
            retries=5,
        )

    def publish(self, events: Sequence[PendingEvent]) -> None:
        futures = [self._producer.send(self.topic, key=e.key.encode(), value=e.body) for e in events]
        self._producer.flush(timeout=self.timeout)
        for f in futures:
            f.get(timeout=self.timeout)  # raises the send error, so the outbox keeps the event

    def close(self) -> None:
        self._producer.close(timeout=self.timeout)


class Outbox(Protocol):
    def pending_events(self, limit: int) -> list[PendingEvent]: ...

    def mark_published(self, ids: Sequence[int]) -> None: ...

    def on_event(self, callback: Callable[[], None]) -> None: ...


class EventRelay:
    """Drains the outbox to a publisher in a background thread: woken by each decision, retried on failure.

    Decisions never wait for the broker; an event that could not be published stays in the outbox
    and goes out on the next wake-up or retry (at-least-once, in outbox order).
    """

    def __init__(
        self, outbox: Outbox, publisher: ReviewPublisher, *, retry_every: float = 5.0, batch: int = 500
    ) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.retry_every = retry_every
        self.batch = batch
        self.published = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flush_lock = threading.Lock()
        outbox.on_event(self._wake.set)

    def flush(self) -> int:
        """Publish every pending event now; returns how many went out (0 on a publisher error, kept for retry)."""
        sent = 0
        with self._flush_lock:
            while True:
                pending = self.outbox.pending_events(self.batch)
                if not pending:
                    self.last_error = None
                    return sent
                try:
                    self.publisher.publish(pending)
                except Exception as exc:  # any publisher failure means "retry later"
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("review events not published, will retry: %s", self.last_error)
                    return sent
                self.outbox.mark_published([e.id for e in pending])
                sent += len(pending)
                self.published += len(pending)

    def start(self) -> EventRelay:
        self._thread = threading.Thread(target=self._run, name="review-event-relay", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.retry_every)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.flush()
            except Exception:  # a database hiccup must not kill the relay
                log.exception("review event relay failed; retrying")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after a last flush attempt, and close the publisher."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        try:
            self.flush()
        finally:
            self.publisher.close()
