"""`hrwatch scan`: the nightly batch over the store, with a progress bar, a report and an exit code for schedulers."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click

from review.scan.context import PHASES


def _progress(quiet: bool) -> Any:
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: re-detection forks worker processes

    def make(phase: str, total: int | None) -> Any:
        return tqdm(total=total, desc=f"scan {phase}", unit="rec", file=sys.stderr, disable=quiet,
                    mininterval=1.0, dynamic_ncols=True)

    return make


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    from review.scan.runner import ScanInterrupted

    raise ScanInterrupted()


@click.command(name="scan")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="write the HTML and CSV report here (default: HRWATCH_SCAN_REPORT_DIR; none when unset)")
@click.option("--phases", default=",".join(PHASES), show_default=True,
              help=f"comma-separated, from: {', '.join(PHASES)}")
@click.option("--workers", type=click.IntRange(0), default=None,
              help="re-detection processes (default HRWATCH_SCAN_WORKERS; 0 = one per CPU)")
@click.option("--no-publish", is_flag=True, help="do not publish new findings to hr.findings.v1 (offline)")
@click.option("--restart", is_flag=True, help="abandon an unfinished pass and start a new one")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
              help="the scan's point in time (UTC when no offset; default now): backfills, reproducible runs")
@click.option("--quiet", is_flag=True, help="no progress bar")
def scan_cmd(report_dir: Path | None, phases: str, workers: int | None, no_publish: bool, restart: bool,
             as_of: dt.datetime | None, quiet: bool) -> None:
    """The nightly batch scan over the store. Resumes an unfinished pass; one scan at a time.

    \b
    Exit codes: 0 completed; 1 completed with record errors (see the report);
    2 failed; 3 interrupted (SIGTERM/SIGINT); 75 another scan is running.
    A failed or interrupted pass is resumed by the next run.
    """
    from hrwatch.settings import load_settings
    from review.scan.runner import EXIT_FAILED, ScanOptions, run_scan
    from review.store import FindingStore

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    chosen = tuple(p.strip() for p in phases.split(",") if p.strip())
    unknown = [p for p in chosen if p not in PHASES]
    if unknown or not chosen:
        raise click.BadParameter(f"unknown phase(s) {unknown}; choose from {', '.join(PHASES)}", param_hint="--phases")
    n_workers = settings.scan_workers if workers is None else workers
    if n_workers == 0:
        n_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.UTC)
    store = FindingStore.from_settings(settings)
    publisher = None
    try:
        store.migrate()
        if not no_publish and settings.kafka:
            from review.scan.sink import KafkaFindingsPublisher
            from streams.topics import TopicNames, ensure_topics

            names = TopicNames(settings.topic_namespace)
            ensure_topics(settings.kafka, [names.findings], settings.partitions, replication_factor=settings.replication_factor)
            publisher = KafkaFindingsPublisher(settings.kafka, names.findings)
        options = ScanOptions(
            phases=chosen, workers=n_workers, chunk_size=settings.scan_chunk_size, live_days=settings.scan_live_days,
            cluster_hours=settings.scan_cluster_hours, lock_stale_seconds=settings.scan_lock_stale_seconds,
            duplicate_threshold=settings.review_duplicate_threshold,
            report_dir=report_dir or settings.scan_report_dir, publish=publisher, restart=restart, as_of=as_of,
            progress=_progress(quiet),
        )
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            outcome = run_scan(store, options)
        finally:
            signal.signal(signal.SIGTERM, previous)
    except Exception as exc:  # the store or the broker is unreachable: a failed run for the scheduler
        click.echo(f"scan failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        if publisher is not None:
            publisher.close()
        store.close()
    if settings.kafka is None and not no_publish and outcome.new_findings:
        click.echo("note: HRWATCH_KAFKA is unset; new findings were not published (they wait in the pass outbox)",
                   err=True)
    for path in outcome.reports:
        click.echo(f"report: {path}", err=True)
    click.echo(outcome.message)
    sys.exit(outcome.exit_code)


COMMANDS = (scan_cmd,)
