"""Prometheus collector of the scan's runs, read from the store at every scrape (registered on `hrwatch serve`'s /metrics)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from review.scan.models import ScanRunRow
from review.scan.state import aware

log = logging.getLogger(__name__)
STATUSES = ("completed", "failed", "interrupted", "running")


class ScanRunCollector(Collector):
    """hrwatch_scan_* gauges from the scan_runs table. A store that cannot be read yields no samples (and a log line)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        runs = ScanRunRow.__table__
        try:
            with self.engine.connect() as conn:
                by_status = dict(conn.execute(select(runs.c.status, func.count()).group_by(runs.c.status)).all())
                last_ok = conn.execute(
                    select(runs).where(runs.c.status == "completed").order_by(runs.c.finished_at.desc(), runs.c.id.desc())
                    .limit(1)
                ).mappings().first()
                last_finished = conn.execute(
                    select(runs.c.status).where(runs.c.finished_at.is_not(None), runs.c.status != "running")
                    .order_by(runs.c.finished_at.desc(), runs.c.id.desc()).limit(1)
                ).scalar()
        except SQLAlchemyError as exc:
            log.warning("scan metrics: cannot read scan_runs: %s", exc)
            return
        counts = GaugeMetricFamily("hrwatch_scan_runs", "Scan runs in the store, by status", labels=["status"])
        for status in STATUSES:
            counts.add_metric([status], float(by_status.get(status, 0)))
        yield counts
        finished = aware(last_ok["finished_at"]) if last_ok else None
        started = aware(last_ok["started_at"]) if last_ok else None
        yield GaugeMetricFamily("hrwatch_scan_last_success_timestamp_seconds",
                                "Unix time the last completed scan run finished (0: none yet)",
                                value=finished.timestamp() if finished else 0.0)
        yield GaugeMetricFamily("hrwatch_scan_last_run_failed", "1 if the most recent finished scan run failed",
                                value=1.0 if last_finished == "failed" else 0.0)
        yield GaugeMetricFamily("hrwatch_scan_last_duration_seconds", "Wall time of the last completed scan run",
                                value=(finished - started).total_seconds() if finished and started else 0.0)
        yield GaugeMetricFamily("hrwatch_scan_last_new_findings", "New findings of the last completed scan pass",
                                value=float(last_ok["new_findings"]) if last_ok else 0.0)
        yield GaugeMetricFamily("hrwatch_scan_last_postings_scanned", "Postings read by the last completed scan pass",
                                value=float(last_ok["postings_scanned"]) if last_ok else 0.0)

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Describing without a query keeps registration cheap (and possible before the store is migrated).
        yield GaugeMetricFamily("hrwatch_scan_runs", "Scan runs in the store, by status", labels=["status"])
        for name in ("hrwatch_scan_last_success_timestamp_seconds", "hrwatch_scan_last_run_failed",
                     "hrwatch_scan_last_duration_seconds", "hrwatch_scan_last_new_findings",
                     "hrwatch_scan_last_postings_scanned"):
            yield GaugeMetricFamily(name, name)
