"""`hrwatch scan` without the command line: lock, run/pass bookkeeping, the phases in order, publishing, report, exit code."""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from detectors import detector_version
from review.scan.context import PHASES, Progress, ScanContext, silent
from review.scan.models import ScanFindingRow
from review.scan.phases import run_licences, run_reports, run_templates
from review.scan.redetect import run_redetect
from review.scan.sink import Publish, ScanSink
from review.scan.state import LockHeld, ScanState
from review.store import FindingStore

log = logging.getLogger(__name__)

# Exit codes for schedulers (documented in review/README.md, "Nightly scan").
EXIT_OK = 0  # the pass completed
EXIT_RECORD_ERRORS = 1  # completed, but some stored records could not be checked (listed in the report)
EXIT_FAILED = 2  # the run failed; the next run resumes the pass
EXIT_INTERRUPTED = 3  # stopped by SIGTERM/SIGINT; the next run resumes the pass
EXIT_LOCKED = 75  # another scan holds the lock (EX_TEMPFAIL): try again later

RUNNERS: dict[str, Callable[[ScanContext], dict[str, Any]]] = {
    "licences": run_licences,
    "redetect": run_redetect,
    "templates": run_templates,
    "reports": run_reports,
}


class ScanInterrupted(Exception):
    """Raised in the main thread by the SIGTERM handler: stop at once, the pass resumes next time."""


@dataclass
class ScanOptions:
    phases: tuple[str, ...] = PHASES
    workers: int = 2
    chunk_size: int = 1000
    live_days: int = 30
    cluster_hours: float = 24.0
    lock_stale_seconds: float = 900.0
    duplicate_threshold: float = 90.0
    report_dir: Path | None = None
    publish: Publish | None = None
    restart: bool = False
    as_of: dt.datetime | None = None
    version: str | None = None  # default: the running detectors' version
    progress: Callable[[str, int | None], Progress] = silent


@dataclass
class ScanOutcome:
    exit_code: int
    status: str
    message: str
    run_id: int | None = None
    pass_id: int | None = None
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_findings: int = 0
    record_errors: int = 0
    postings_scanned: int = 0
    published: int = 0
    reports: list[Path] = field(default_factory=list)


def run_scan(store: FindingStore, options: ScanOptions) -> ScanOutcome:
    """One scan run: resumes an unfinished pass (unless `restart`), runs the phases, reports; never raises."""
    unknown = [p for p in options.phases if p not in RUNNERS]
    if unknown:
        return ScanOutcome(EXIT_FAILED, "failed", f"unknown phase(s) {unknown}; phases are {', '.join(PHASES)}")
    version = options.version or detector_version()
    state = ScanState(store.engine, stale_after=options.lock_stale_seconds)
    try:
        state.acquire()
    except LockHeld as exc:
        return ScanOutcome(EXIT_LOCKED, "locked", str(exc))
    outcome = ScanOutcome(EXIT_FAILED, "failed", "")
    try:
        info = state.start_run(list(options.phases), version, options.live_days, as_of=options.as_of,
                               restart=options.restart)
        outcome.run_id, outcome.pass_id = info.run_id, info.pass_id
        sink = ScanSink(store, state, info, options.duplicate_threshold)
        ctx = ScanContext(store, state, sink, info, version, live_days=options.live_days,
                          cluster_hours=options.cluster_hours, chunk_size=options.chunk_size,
                          workers=options.workers, progress=options.progress)
        error: str | None = None
        try:
            loaded = time.perf_counter()
            ctx.load_registries()
            outcome.phases["registries"] = {"records": len(ctx.filings), "seconds": round(time.perf_counter() - loaded, 2)}
            for phase in PHASES:
                if phase not in options.phases:
                    continue
                started = time.perf_counter()
                outcome.phases[phase] = dict(RUNNERS[phase](ctx))
                if options.publish is not None:
                    outcome.published += sink.publish_pending(options.publish)
                outcome.phases[phase]["seconds"] = round(time.perf_counter() - started, 2)
            status = "completed"
        except (ScanInterrupted, KeyboardInterrupt):
            status, error = "interrupted", "stopped by a signal; the next run resumes this pass"
        except Exception as exc:  # a failed run is recorded, reported and resumed next time
            log.exception("scan run %s failed", info.run_id)
            status, error = "failed", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        _totals(state, store, info.pass_id, outcome)
        outcome.status = status
        if status == "completed":
            outcome.exit_code = EXIT_RECORD_ERRORS if outcome.record_errors else EXIT_OK
        else:
            outcome.exit_code = EXIT_INTERRUPTED if status == "interrupted" else EXIT_FAILED
        if options.report_dir is not None:
            from review.scan.report import write_report

            try:
                outcome.reports = write_report(store, state, info, outcome, options.report_dir, error)
            except OSError as exc:
                log.error("cannot write the scan report to %s: %s", options.report_dir, exc)
                error = (error or "") + f"\nreport not written: {exc}"
                if outcome.exit_code == EXIT_OK:
                    outcome.exit_code, outcome.status, status = EXIT_FAILED, "failed", "failed"
        state.finish_run(info.run_id, status, scanned=outcome.postings_scanned, new_findings=outcome.new_findings,
                         record_errors=outcome.record_errors, counts=outcome.phases, error=error,
                         report=str(outcome.reports[0]) if outcome.reports else None)
        outcome.message = summary_line(outcome, info.as_of, error)
        return outcome
    except Exception as exc:
        log.exception("scan bookkeeping failed")
        outcome.message = f"scan failed: {type(exc).__name__}: {exc}"
        return outcome
    finally:
        try:
            state.release()
        except Exception:  # the lock goes stale on its own; never mask the outcome
            log.exception("could not release the scan lock")


def _totals(state: ScanState, store: FindingStore, pass_id: int, outcome: ScanOutcome) -> None:
    """Pass totals from the checkpoints (a resumed pass counts the work of its earlier runs too)."""
    cps = state.checkpoints(pass_id)
    outcome.record_errors = sum(c["record_errors"] for c in cps)
    outcome.postings_scanned = sum(c["processed"] for c in cps if c["phase"] in ("licences", "redetect", "templates"))
    for c in cps:
        outcome.phases.setdefault(c["phase"], {}).update(
            {"processed": c["processed"], "new_findings": c["new_findings"], "record_errors": c["record_errors"],
             "done": bool(c["done"])}
        )
    sf = ScanFindingRow.__table__
    with store.engine.connect() as conn:
        outcome.new_findings = conn.execute(select(func.count()).select_from(sf).where(sf.c.pass_id == pass_id)).scalar_one()


def summary_line(outcome: ScanOutcome, as_of: dt.datetime, error: str | None = None) -> str:
    """One line for logs and schedulers."""
    parts = [
        f"scan {outcome.status}: run {outcome.run_id} (pass {outcome.pass_id}, as of {as_of:%Y-%m-%d %H:%M}Z)",
        f"postings scanned {outcome.postings_scanned}", f"new findings {outcome.new_findings}",
        f"record errors {outcome.record_errors}", f"exit {outcome.exit_code}",
    ]
    timings = ", ".join(f"{p} {v['seconds']}s" for p, v in outcome.phases.items() if "seconds" in v)
    if timings:
        parts.append(timings)
    line = "; ".join(parts)
    if error:
        line += " — " + error.splitlines()[0]
    return line
