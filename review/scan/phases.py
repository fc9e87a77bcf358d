"""Scan phases over the store: lapsed licences, mass-posted templates, annual-report anomalies (re-detection: redetect.py)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import orjson
from sqlalchemy import and_, bindparam, func, or_, select, tuple_, update

from detectors.context import DetectionContext
from detectors.engine import utc_now
from detectors.fake_recruitment import annual_report, lapsed_licence, templates
from detectors.findings import Finding
from review.scan.context import ScanContext, chunks
from review.scan.models import PostingRow
from schemas import RecordError, parse_json

POSTINGS = PostingRow.__table__
AGENCIES_PER_QUERY = 400


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _cursor(raw: str | None) -> Any:
    return orjson.loads(raw) if raw else None


def run_licences(ctx: ScanContext) -> dict[str, Any]:
    """Live postings (published within `live_days`) of agencies whose licence lapsed after they were published."""
    phase = "licences"
    cp = ctx.state.checkpoint(ctx.info.pass_id, phase)
    lapsed = lapsed_licence.lapsed_agencies(ctx.registries.licences, ctx.info.since.date(), ctx.as_of.date())
    summary = {"agencies_lapsed": len(lapsed), "lapsed_since_last_scan": sum(a.lapsed_since_last_scan for a in lapsed)}
    if cp["done"]:
        return summary
    live_from = ctx.as_of - dt.timedelta(days=ctx.live_days)
    cursor = _cursor(cp["cursor"]) or {"group": 0, "after": None}
    groups = list(chunks(lapsed, AGENCIES_PER_QUERY))
    bar = ctx.progress(phase, len(lapsed))
    bar.update(min(len(lapsed), cursor["group"] * AGENCIES_PER_QUERY))
    for g in range(cursor["group"], len(groups)):
        group = groups[g]
        usccs = [a.uscc for a in group]
        numbers = [n for a in group for n in a.numbers]
        match = POSTINGS.c.agency_uscc.in_(usccs)
        if numbers:
            match = or_(match, and_(POSTINGS.c.agency_uscc.is_(None), POSTINGS.c.agency_licence.in_(numbers)))
        after = cursor["after"] if g == cursor["group"] else None
        while True:
            started = time.perf_counter()
            q = select(POSTINGS.c.id, POSTINGS.c.posted_at, POSTINGS.c.body).where(
                match, POSTINGS.c.posted_at >= live_from, POSTINGS.c.posted_at <= ctx.as_of
            )
            if after is not None:
                q = q.where(tuple_(POSTINGS.c.posted_at, POSTINGS.c.id) > (dt.datetime.fromisoformat(after[0]), after[1]))
            with ctx.store.engine.connect() as conn:
                rows = conn.execute(q.order_by(POSTINGS.c.posted_at, POSTINGS.c.id).limit(ctx.chunk_size)).all()
            findings: list[Finding] = []
            subjects: dict[tuple[str, str], Any] = {}
            errors: list[tuple[str, str]] = []
            for pid, _posted, body in rows:
                try:
                    record = parse_json(body)
                except RecordError as exc:
                    errors.append((pid, str(exc)))
                    continue
                dc = DetectionContext(record, ctx.registries, ctx.version, utc_now())
                f = lapsed_licence.lapsed_licence_finding(dc, ctx.as_of.date(), ctx.live_days)
                if f is not None:
                    findings.append(f)
                    subjects[(record.type, record.subject_id)] = dict(record.raw)
            last = rows[-1] if rows else None
            exhausted = len(rows) < ctx.chunk_size
            next_cursor = {"group": g + 1, "after": None} if exhausted else {
                "group": g, "after": [_aware(last[1]).isoformat(), last[0]]}  # type: ignore[index]
            ctx.sink.commit(phase, findings, subjects, errors=errors, cursor=next_cursor, processed=len(rows),
                            elapsed_ms=_ms(started))
            if exhausted:
                break
            after = next_cursor["after"]
        bar.update(len(group))
    with ctx.store.engine.begin() as conn:
        ctx.state.advance(conn, ctx.info.pass_id, phase, done=True)
    bar.close()
    return summary


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def run_templates(ctx: ScanContext) -> dict[str, Any]:
    """Near-duplicate clusters among the postings of the last `cluster_hours` that span several employers."""
    phase = "templates"
    cp = ctx.state.checkpoint(ctx.info.pass_id, phase)
    if cp["done"]:
        return {}
    window_from = ctx.as_of - dt.timedelta(hours=ctx.cluster_hours)
    window = and_(POSTINGS.c.posted_at >= window_from, POSTINGS.c.posted_at <= ctx.as_of)
    with ctx.store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(POSTINGS).where(window)).scalar_one()
    bar = ctx.progress(phase, int(total))
    items: list[templates.TemplateItem] = []
    after: tuple[dt.datetime, str] | None = None
    computed = 0
    while True:
        q = select(POSTINGS.c.id, POSTINGS.c.posted_at, POSTINGS.c.source, POSTINGS.c.employer_uscc,
                   POSTINGS.c.employer_name, POSTINGS.c.fingerprint, POSTINGS.c.body).where(window)
        if after is not None:
            q = q.where(tuple_(POSTINGS.c.posted_at, POSTINGS.c.id) > after)
        with ctx.store.engine.connect() as conn:
            rows = conn.execute(q.order_by(POSTINGS.c.posted_at, POSTINGS.c.id).limit(ctx.chunk_size)).all()
        if not rows:
            break
        fresh: list[dict[str, str]] = []
        for pid, _posted, source, e_uscc, e_name, fp, body in rows:
            if fp is None:
                obj = orjson.loads(body)
                title, desc = obj.get("title"), obj.get("description")
                fp = templates.fingerprint(title if isinstance(title, str) else "", desc if isinstance(desc, str) else "")
                fresh.append({"b_id": pid, "b_fp": fp})
            sig = templates.parse_fingerprint(fp)
            if sig is not None:
                items.append(templates.TemplateItem(pid, templates.employer_key(e_uscc, e_name), source, sig))
        if fresh:
            # Stored, so a resumed or later scan does not normalise and hash the same text again.
            with ctx.store.engine.begin() as conn:
                conn.execute(update(POSTINGS).where(POSTINGS.c.id == bindparam("b_id"))
                             .values(fingerprint=bindparam("b_fp")), fresh)
            computed += len(fresh)
        after = (_aware(rows[-1][1]), rows[-1][0])
        bar.update(len(rows))
    bar.close()
    started = time.perf_counter()
    clusters = templates.cluster_templates(items)
    member_of = {pid: c for c in clusters for pid in c.posting_ids}
    flagged = sorted(member_of)
    for part in chunks(flagged, ctx.chunk_size):
        with ctx.store.engine.connect() as conn:
            bodies = dict(conn.execute(select(POSTINGS.c.id, POSTINGS.c.body).where(POSTINGS.c.id.in_(part))).all())
        findings, subjects, errors = [], {}, []
        for pid in part:
            try:
                record = parse_json(bodies[pid])
            except RecordError as exc:
                errors.append((pid, str(exc)))
                continue
            dc = DetectionContext(record, ctx.registries, ctx.version, utc_now())
            findings.append(templates.template_finding(dc, member_of[pid]))
            subjects[(record.type, record.subject_id)] = dict(record.raw)
        ctx.sink.commit(phase, findings, subjects, errors=errors, cursor={"flagged_done": part[-1]})
    with ctx.store.engine.begin() as conn:
        ctx.state.advance(conn, ctx.info.pass_id, phase, done=True, processed=len(items), elapsed_ms=_ms(started))
    return {"window_postings": int(total), "fingerprinted": computed, "clusters": len(clusters),
            "postings_in_clusters": len(flagged)}


def run_reports(ctx: ScanContext) -> dict[str, Any]:
    """Annual reports (agency filings) that fail the plausibility checks, in filing-id order."""
    phase = "reports"
    cp = ctx.state.checkpoint(ctx.info.pass_id, phase)
    reports = sorted((f for f in ctx.filings if f.filing_type == "annual_report" and f.annual_report is not None),
                     key=lambda f: f.id)
    if cp["done"]:
        return {"annual_reports": len(reports)}
    after = _cursor(cp["cursor"])
    todo = [f for f in reports if after is None or f.id > after]
    by_uscc = {a.uscc: a for a in ctx.registries.licences.agencies()}
    bar = ctx.progress(phase, len(reports))
    bar.update(len(reports) - len(todo))
    anomalous = 0
    for part in chunks(todo, ctx.chunk_size):
        started = time.perf_counter()
        findings, subjects = [], {}
        for filing in part:
            year = filing.annual_report.year if filing.annual_report else None
            on = dt.date(year, 12, 31) if year else filing.filed_at.date()
            scope = annual_report.scope_in_force(by_uscc.get((filing.agency.uscc or "").strip().upper()), on)
            checks = annual_report.annual_report_checks(filing, scope)
            dc = DetectionContext(filing, ctx.registries, ctx.version, utc_now())
            f = annual_report.annual_report_finding(dc, checks)
            if f is not None:
                anomalous += 1
                findings.append(f)
                subjects[(filing.type, filing.subject_id)] = dict(filing.raw)
        ctx.sink.commit(phase, findings, subjects, cursor=part[-1].id, processed=len(part), elapsed_ms=_ms(started))
        bar.update(len(part))
    with ctx.store.engine.begin() as conn:
        ctx.state.advance(conn, ctx.info.pass_id, phase, done=True)
    bar.close()
    return {"annual_reports": len(reports), "anomalous_this_run": anomalous}
