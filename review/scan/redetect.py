"""Scan phase: re-detect every stored posting last checked by another detector version, over worker processes.

The parent reads chunks in id order (keyset), the workers run the same DetectionEngine as the
stream against the registries loaded from the store (forked, so each worker has them without
reloading), and the parent commits each chunk in order with its findings and the new
detector_version. The version column is the real checkpoint: a resumed scan re-detects only what
no committed chunk covered, and the id cursor merely spares it from reading past committed rows.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import orjson
from sqlalchemy import func, select

from detectors import DetectionEngine, DetectorError, Finding
from review.scan.context import ScanContext
from review.scan.models import PostingRow
from schemas import RecordError, parse_json

POSTINGS = PostingRow.__table__
_PR_SET_PDEATHSIG = 1
_ENGINE: DetectionEngine | None = None  # set in the parent before the workers fork

ChunkResult = tuple[list[Finding], dict[str, str], list[str], list[tuple[str, str]]]


def _worker_init() -> None:
    # A worker must not outlive a scan that was SIGKILLed, and Ctrl-C is the parent's to handle.
    if os.name == "posix":
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def detect_rows(rows: list[tuple[str, str]]) -> ChunkResult:
    """Findings for stored postings (id, JSON body); bodies of postings with findings; ids checked; record errors."""
    engine = _ENGINE
    assert engine is not None, "the detection engine is set before the workers start"
    findings: list[Finding] = []
    bodies: dict[str, str] = {}
    checked: list[str] = []
    errors: list[tuple[str, str]] = []
    for pid, body in rows:
        try:
            found = engine.detect(parse_json(body))
        except (RecordError, DetectorError) as exc:
            errors.append((pid, f"{type(exc).__name__}: {exc}"))
            continue
        checked.append(pid)
        if found:
            findings.extend(found)
            bodies[pid] = body
    return findings, bodies, checked, errors


def run_redetect(ctx: ScanContext) -> dict[str, Any]:
    """Re-detect postings whose detector_version differs from the running one; returns counters."""
    global _ENGINE
    phase = "redetect"
    cp = ctx.state.checkpoint(ctx.info.pass_id, phase)
    if cp["done"]:
        return {}
    stale = POSTINGS.c.detector_version != ctx.version
    after: str = orjson.loads(cp["cursor"]) if cp["cursor"] else ""
    with ctx.store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(POSTINGS).where(stale, POSTINGS.c.id > after)).scalar_one()
    _ENGINE = DetectionEngine(ctx.registries)
    workers = max(1, ctx.workers)
    pool = None
    if workers > 1:
        # fork: the workers inherit the loaded registries instead of each reading the registry log again.
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init)
    bar = ctx.progress(phase, int(total))
    pending: deque[tuple[str, int, float, Future[ChunkResult] | ChunkResult]] = deque()
    exhausted = False
    counts: dict[str, Any] = {"redetected": 0, "record_errors": 0, "findings": 0, "wait_s": 0.0, "store_s": 0.0}
    try:
        while pending or not exhausted:
            while not exhausted and len(pending) < 2 * workers:
                with ctx.store.engine.connect() as conn:
                    rows = [tuple(r) for r in conn.execute(
                        select(POSTINGS.c.id, POSTINGS.c.body).where(stale, POSTINGS.c.id > after)
                        .order_by(POSTINGS.c.id).limit(ctx.chunk_size)
                    )]
                if not rows:
                    exhausted = True
                    break
                after = rows[-1][0]
                started = time.perf_counter()
                job: Future[ChunkResult] | ChunkResult = (
                    pool.submit(detect_rows, rows) if pool is not None else detect_rows(rows)  # type: ignore[arg-type]
                )
                pending.append((after, len(rows), started, job))
            if not pending:
                break
            last_id, n, started, job = pending.popleft()
            waited = time.perf_counter()
            findings, bodies, checked, errors = job.result() if isinstance(job, Future) else job
            committing = time.perf_counter()
            subjects = {("job_posting", pid): orjson.loads(body) for pid, body in bodies.items()}
            ctx.sink.commit(phase, findings, subjects, checked_postings=checked, detector_version=ctx.version,
                            errors=errors, cursor=last_id, processed=n,
                            elapsed_ms=int((time.perf_counter() - started) * 1000))
            # Where the parent's time goes: waiting for the workers (detection-bound) or storing (store-bound).
            counts["wait_s"] += committing - waited
            counts["store_s"] += time.perf_counter() - committing
            counts["redetected"] += len(checked)
            counts["record_errors"] += len(errors)
            counts["findings"] += len(findings)
            bar.update(n)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        _ENGINE = None
        bar.close()
    with ctx.store.engine.begin() as conn:
        ctx.state.advance(conn, ctx.info.pass_id, phase, done=True)
    counts["wait_s"], counts["store_s"] = round(counts["wait_s"], 1), round(counts["store_s"], 1)
    return counts
