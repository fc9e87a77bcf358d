"""Prometheus metrics of the alert queue, read from the store at scrape time: backlog, its age, SLA breaches, decisions.

Counts only — statuses, severities, actions — never a subject, a title or a person, so the /metrics
endpoint carries no personal data. Every scrape runs a few indexed aggregate queries; the result is
kept for `cache_seconds` so several Prometheus replicas (or a fast scrape interval) do not multiply
the load on the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from review.lifecycle import ACTIONS, OPEN_STATUSES, SEVERITY_RANK
from review.queue_models import AlertRow, DecisionRow, ReviewEventRow
from review.queue_types import aware_utc

log = logging.getLogger(__name__)

SEVERITIES = tuple(SEVERITY_RANK)


@dataclass
class QueueSnapshot:
    """What one round of queries found; `ok` is False when the store did not answer."""

    ok: bool = True
    open_alerts: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, severity) → count
    oldest_open: dict[str, dt.datetime] = field(default_factory=dict)  # severity → created_at of the oldest
    overdue: dict[str, int] = field(default_factory=dict)  # severity → open alerts past their due time
    decisions: dict[str, int] = field(default_factory=dict)  # action → decisions ever taken
    outbox_pending: int = 0
    outbox_oldest: dt.datetime | None = None
    duration: float = 0.0


def read_snapshot(engine: Engine, now: dt.datetime) -> QueueSnapshot:
    """Aggregates over the open part of the queue (indexed on status and due_at), the decisions and the outbox."""
    snap = QueueSnapshot()
    is_open = AlertRow.status.in_(OPEN_STATUSES)
    with engine.connect() as conn:
        rows = conn.execute(
            select(AlertRow.status, AlertRow.severity, func.count(), func.min(AlertRow.created_at))
            .where(is_open)
            .group_by(AlertRow.status, AlertRow.severity)
        )
        for status, severity, count, oldest in rows:
            snap.open_alerts[(status, severity)] = int(count)
            oldest = aware_utc(oldest)
            if oldest is not None and (severity not in snap.oldest_open or oldest < snap.oldest_open[severity]):
                snap.oldest_open[severity] = oldest
        rows = conn.execute(
            select(AlertRow.severity, func.count()).where(is_open, AlertRow.due_at < now).group_by(AlertRow.severity)
        )
        snap.overdue = {severity: int(count) for severity, count in rows}
        rows = conn.execute(select(DecisionRow.action, func.count()).group_by(DecisionRow.action))
        snap.decisions = {action: int(count) for action, count in rows}
        pending, oldest_event = conn.execute(
            select(func.count(), func.min(ReviewEventRow.created_at)).where(ReviewEventRow.published_at.is_(None))
        ).one()
        snap.outbox_pending = int(pending)
        snap.outbox_oldest = aware_utc(oldest_event)
    return snap


class QueueCollector(Collector):
    """The review backlog as gauges (zero-filled for every status × severity, so alerts see 0, not no data)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        cache_seconds: float = 5.0,
    ) -> None:
        self.engine = engine
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, dt.datetime, QueueSnapshot] | None = None

    def snapshot(self) -> tuple[dt.datetime, QueueSnapshot]:
        """The latest snapshot, re-read when older than `cache_seconds`; a failing store gives `ok=False`."""
        with self._lock:
            mono = time.monotonic()
            if self._cached is not None and mono - self._cached[0] < self.cache_seconds:
                return self._cached[1], self._cached[2]
            now = self.clock()
            try:
                snap = read_snapshot(self.engine, now)
            except Exception as exc:
                log.warning("queue metrics: the store did not answer: %s", exc)
                snap = QueueSnapshot(ok=False)
            snap.duration = time.monotonic() - mono
            self._cached = (mono, now, snap)
            return now, snap

    def collect(self) -> Iterator[Metric]:
        now, snap = self.snapshot()
        up = GaugeMetricFamily("hrwatch_review_store_up", "1 when the queue's store answered the last metrics query")
        up.add_metric([], 1.0 if snap.ok else 0.0)
        yield up
        took = GaugeMetricFamily("hrwatch_review_metrics_query_seconds", "time the last round of queue queries took")
        took.add_metric([], snap.duration)
        yield took
        if not snap.ok:
            return  # no made-up zeros: the backlog is unknown
        open_alerts = GaugeMetricFamily(
            "hrwatch_review_open_alerts",
            "alerts waiting for a decision (new, in_review)",
            labels=["status", "severity"],
        )
        for status in OPEN_STATUSES:
            for severity in SEVERITIES:
                open_alerts.add_metric([status, severity], snap.open_alerts.get((status, severity), 0))
        yield open_alerts
        age = GaugeMetricFamily(
            "hrwatch_review_oldest_open_alert_age_seconds",
            "age of the oldest alert waiting for a decision (0 when none waits)",
            labels=["severity"],
        )
        for severity in SEVERITIES:
            oldest = snap.oldest_open.get(severity)
            age.add_metric([severity], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield age
        overdue = GaugeMetricFamily(
            "hrwatch_review_overdue_alerts",
            "alerts waiting for a decision past their SLA due time (review/lifecycle.py SLA_HOURS)",
            labels=["severity"],
        )
        for severity in SEVERITIES:
            overdue.add_metric([severity], snap.overdue.get(severity, 0))
        yield overdue
        decisions = CounterMetricFamily(
            "hrwatch_review_decisions", "lifecycle actions taken on alerts (from the store)", labels=["action"]
        )
        for action in ACTIONS:
            decisions.add_metric([action], snap.decisions.get(action, 0))
        yield decisions
        pending = GaugeMetricFamily(
            "hrwatch_review_outbox_pending_events", "decision events not yet published to hr.reviews.v1"
        )
        pending.add_metric([], snap.outbox_pending)
        yield pending
        outbox_age = GaugeMetricFamily(
            "hrwatch_review_outbox_oldest_pending_age_seconds",
            "age of the oldest unpublished decision event (0 when none waits)",
        )
        outbox_age.add_metric([], max(0.0, (now - snap.outbox_oldest).total_seconds()) if snap.outbox_oldest else 0.0)
        yield outbox_age


class ReviewMetrics:
    """The registry `hrwatch serve` (and the demo) exposes: the queue backlog and the nightly scan's runs."""

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        from review.scan.metrics import ScanRunCollector

        self.registry = CollectorRegistry()
        self.queue = QueueCollector(engine, clock=clock)
        self.registry.register(self.queue)
        self.registry.register(ScanRunCollector(engine))
