"""The review queue's metrics (review/metrics.py) on SQLite and PostgreSQL: backlog, ages, SLA breaches, decisions, outbox."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import create_engine

from review.lifecycle import ACTIONS, OPEN_STATUSES, SEVERITY_RANK, SLA_HOURS
from review.metrics import QueueCollector
from review.queue import QueueFilter, ReviewQueue
from review.store import FindingStore
from tests.review import samples

T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def values(registry: CollectorRegistry, name: str) -> dict[tuple[str, ...], float]:
    """Samples of one metric name, keyed by their label values in label-name order."""
    out = {}
    for family in registry.collect():
        for s in family.samples:
            if s.name == name:
                out[tuple(v for _k, v in sorted(s.labels.items()))] = s.value
    return out


@pytest.fixture
def loaded(store: FindingStore) -> tuple[ReviewQueue, Clock, CollectorRegistry]:
    clock = Clock()
    queue = ReviewQueue(store.engine, clock=clock)
    samples.load(queue)
    registry = CollectorRegistry()
    registry.register(QueueCollector(store.engine, clock=clock, cache_seconds=0))
    return queue, clock, registry


def test_backlog_by_status_and_severity_matches_the_queue(loaded: tuple[ReviewQueue, Clock, CollectorRegistry]) -> None:
    queue, _clock, registry = loaded
    open_alerts = queue.list_alerts(QueueFilter(status=OPEN_STATUSES, per_page=500)).items
    assert open_alerts, "the samples must give open alerts"
    expected = Counter((a.status, a.severity) for a in open_alerts)
    got = values(registry, "hrwatch_review_open_alerts")
    # Zero-filled: every status × severity, so an alert rule sees 0 rather than no data.
    assert len(got) == len(OPEN_STATUSES) * len(SEVERITY_RANK)
    assert {(sev, st): n for (sev, st), n in got.items() if n} == {(sev, st): n for (st, sev), n in expected.items()}
    assert values(registry, "hrwatch_review_store_up") == {(): 1.0}
    assert set(values(registry, "hrwatch_review_decisions_total")) == {(a,) for a in ACTIONS}


def test_age_and_sla_breaches_follow_the_clock(loaded: tuple[ReviewQueue, Clock, CollectorRegistry]) -> None:
    queue, clock, registry = loaded
    open_alerts = queue.list_alerts(QueueFilter(status=OPEN_STATUSES, per_page=500)).items
    severities = Counter(a.severity for a in open_alerts)
    assert values(registry, "hrwatch_review_overdue_alerts") == {(s,): 0.0 for s in SEVERITY_RANK}
    clock.now = T0 + dt.timedelta(hours=30)
    ages = values(registry, "hrwatch_review_oldest_open_alert_age_seconds")
    for sev in SEVERITY_RANK:
        assert ages[(sev,)] == (30 * 3600.0 if severities[sev] else 0.0), sev
    # Past the shortest SLA present but before the others: only that severity is overdue.
    shortest = min(severities, key=lambda s: SLA_HOURS[s])
    clock.now = T0 + dt.timedelta(hours=SLA_HOURS[shortest], minutes=1)
    overdue = values(registry, "hrwatch_review_overdue_alerts")
    assert overdue == {
        (s,): float(severities[s]) if SLA_HOURS[s] <= SLA_HOURS[shortest] else 0.0 for s in SEVERITY_RANK
    }


def test_decisions_and_outbox(loaded: tuple[ReviewQueue, Clock, CollectorRegistry]) -> None:
    queue, clock, registry = loaded
    reviewer = queue.create_user("rev-metrics", "correct-horse-battery", "reviewer")
    first, second = queue.list_alerts(QueueFilter(status=OPEN_STATUSES, per_page=2)).items
    queue.decide(first.id, "confirm", reviewer)
    queue.decide(second.id, "dismiss", reviewer, reason="false_positive")
    clock.now = T0 + dt.timedelta(minutes=20)
    decisions = values(registry, "hrwatch_review_decisions_total")
    assert decisions[("confirm",)] == 1 and decisions[("dismiss",)] == 1 and decisions[("escalate",)] == 0
    assert values(registry, "hrwatch_review_outbox_pending_events") == {(): 2.0}
    assert values(registry, "hrwatch_review_outbox_oldest_pending_age_seconds") == {(): 20 * 60.0}
    before = sum(values(registry, "hrwatch_review_open_alerts").values())
    assert before == len(queue.list_alerts(QueueFilter(status=OPEN_STATUSES, per_page=500)).items)


def test_no_subject_text_or_personal_data_in_the_exposition(
    loaded: tuple[ReviewQueue, Clock, CollectorRegistry],
) -> None:
    _queue, _clock, registry = loaded
    text = generate_latest(registry).decode("utf-8")
    for record in samples.RECORDS:
        assert record["id"] not in text and record["title"] not in text
    assert samples.ID_A not in text and samples.PHONE not in text
    allowed = {*OPEN_STATUSES, *SEVERITY_RANK, *ACTIONS}
    for family in registry.collect():
        for s in family.samples:
            assert set(s.labels.values()) <= allowed, s


def test_a_store_that_does_not_answer_reports_down_and_no_made_up_backlog(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'no.db'}")
    registry = CollectorRegistry()
    registry.register(QueueCollector(engine, cache_seconds=0))
    assert values(registry, "hrwatch_review_store_up") == {(): 0.0}
    assert values(registry, "hrwatch_review_open_alerts") == {}
    engine.dispose()


def test_scrapes_within_the_cache_window_reuse_one_snapshot(store: FindingStore) -> None:
    clock = Clock()
    collector = QueueCollector(store.engine, clock=clock, cache_seconds=3600)
    first = collector.snapshot()
    clock.now += dt.timedelta(hours=1)
    again = collector.snapshot()
    assert again[1] is first[1] and again[0] == T0  # the clock moved, the cached snapshot did not
