"""Prometheus metrics of a worker (own registry per app, so tests can build several) and their /metrics server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from streams.processing import BatchResult

# Ingest → finding latency: sub-second when keeping up, minutes when a backlog is drained.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
DEAD_LETTER_REASONS = ("empty", "json", "schema", "oversize", "wrong_topic", "detector_error")


class StreamMetrics:
    """Counters for records in, validation failures and findings; ingest→finding latency; consumer lag."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records_in = Counter("hrwatch_records_in", "messages consumed from input topics", ["topic"], registry=r)
        self.validation_failures = Counter(
            "hrwatch_validation_failures", "messages sent to the dead-letter topic", ["topic", "reason"], registry=r
        )
        self.findings = Counter(
            "hrwatch_findings", "findings stored (new finding ids only)", ["category", "rule", "severity"], registry=r
        )
        self.latency = Histogram(
            "hrwatch_ingest_to_finding_seconds",
            "publication timestamp of a record → its findings stored (every valid record)",
            registry=r, buckets=LATENCY_BUCKETS,
        )
        self.batches = Counter("hrwatch_batches", "batches processed", ["agent"], registry=r)
        self.lag = Gauge(
            "hrwatch_consumer_lag", "fetch high watermark minus next offset to process", ["topic", "partition"],
            registry=r,
        )
        self.registry_records = Gauge("hrwatch_registry_records_applied", "registry records in memory", registry=r)
        self._lag_labels: set[tuple[str, str]] = set()

    def start_series(self, topics: Iterable[str]) -> None:
        """Create the records-in and dead-letter series at 0: Prometheus' rate() and increase() cannot see the
        first increment of a series that appears with a value, so a first burst of dead letters would not alert."""
        for topic in topics:
            self.records_in.labels(topic)
            for reason in DEAD_LETTER_REASONS:
                self.validation_failures.labels(topic, reason)

    def observe_batch(self, agent: str, result: BatchResult, messages: int, topics: Iterable[str]) -> None:
        self.batches.labels(agent).inc()
        for topic in topics:
            self.records_in.labels(topic).inc(0)
        now = time.time()
        for msg, _record in result.records:
            self.records_in.labels(msg.topic).inc()
            if msg.timestamp:
                self.latency.observe(max(0.0, now - msg.timestamp))
        for dl in result.dead_letters:
            self.records_in.labels(dl.message.topic).inc()
            self.validation_failures.labels(dl.message.topic, dl.reason).inc()
        for f in result.findings:
            if f.id in result.new_finding_ids:
                self.findings.labels(f.category, f.rule, f.severity).inc()

    def set_lag(self, lags: dict[tuple[str, int], int]) -> None:
        """Replace the lag gauges (partitions no longer assigned disappear)."""
        labels = {(t, str(p)) for t, p in lags}
        for gone in self._lag_labels - labels:
            self.lag.remove(*gone)
        for (t, p), value in lags.items():
            self.lag.labels(t, str(p)).set(value)
        self._lag_labels = labels


class MetricsServer:
    """The /metrics endpoint on host:port (port 0 picks a free one); `url` says where it ended up."""

    def __init__(self, metrics: StreamMetrics, host: str = "127.0.0.1", port: int = 0) -> None:
        self.metrics = metrics
        self.host = host
        self.port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> MetricsServer:
        self._server, self._thread = start_http_server(self.port, self.host, registry=self.metrics.registry)
        self.port = int(self._server.server_port)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
