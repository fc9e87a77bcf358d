"""Intake from the stream workers: subjects and findings into alerts (idempotent), then cases of related alerts."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import CompoundSelect, Insert, Table, bindparam, select, text, union_all, update
from sqlalchemy.orm import Session

from detectors import Finding
from review import grouping
from review.audit import write_audit
from review.lifecycle import SEVERITY_RANK, SLA_HOURS
from review.models import FindingRow
from review.presentation import field_value
from review.queue_models import AlertBlockRow, AlertFindingRow, AlertRow, CaseRow, SubjectRow

MAX_CANDIDATES = 20  # most recent alerts per blocking key that are compared with rapidfuzz


def insert_ignoring(session: Session, table: Table, keys: list[str]) -> Insert:
    """INSERT … ON CONFLICT (keys) DO NOTHING for the session's dialect (SQLite or PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=keys)
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)
    raise NotImplementedError(f"the review store supports SQLite and PostgreSQL, not {name}")


def record_mapping(record: Any) -> dict[str, Any]:
    """A subject record as a plain dict: a typed record from `schemas` (its `raw`) or a decoded JSON object."""
    raw = getattr(record, "raw", None)
    obj = raw if raw else record
    if not isinstance(obj, Mapping):
        raise TypeError(f"expected a record or a JSON object, got {type(record).__name__}")
    return orjson.loads(orjson.dumps(dict(obj)))


def finding_mapping(finding: Finding | Mapping[str, Any]) -> dict[str, Any]:
    """A finding as its finding.v1 object."""
    return finding.to_dict() if isinstance(finding, Finding) else dict(finding)


def subject_identity(obj: Mapping[str, Any]) -> tuple[str, str]:
    subject_type = str(obj.get("type") or "")
    subject_id = obj.get("id") or obj.get("uscc")
    if not subject_type or not isinstance(subject_id, str) or not subject_id:
        raise ValueError("a subject record needs a type and an id (uscc for a business_registration)")
    return subject_type, subject_id


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if isinstance(value, str | int | float) and str(value) else None


def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def subject_row(obj: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The `subjects` row of a record: display and filter fields pulled out, the skeleton for grouping."""
    subject_type, subject_id = subject_identity(obj)
    if subject_type == "job_posting":
        title = field_value(obj, "title")
        skel = grouping.skeleton(title, field_value(obj, "description"))
        when = obj.get("posted_at")
    elif subject_type == "agency_filing":
        title = " ".join(str(x) for x in (field_value(obj, "agency.name"), obj.get("filing_type")) if x)
        skel, when = "", obj.get("filed_at")
    else:
        title, skel, when = obj.get("name"), "", obj.get("updated_at")
    return {
        "subject_type": subject_type,
        "subject_id": subject_id[:200],
        "source": _text(obj.get("source") or ("filing" if subject_type == "agency_filing" else None), 100),
        "city": _text(field_value(obj, "location.city"), 100),
        "agency_name": _text(field_value(obj, "agency.name"), 300),
        "agency_key": (grouping.agency_key(obj) or "")[:300] or None,
        "employer_name": _text(field_value(obj, "employer.name") or obj.get("name"), 300),
        "title": _text(title, 500),
        "posted_at": _when(when),
        "skeleton": skel,
        "body": orjson.dumps(obj).decode(),
        "stored_at": now,
    }


_DENORMALISED = ("title", "source", "city", "agency_name", "employer_name")


def record_subjects(session: Session, records: Iterable[Any], now: dt.datetime, threshold: float) -> int:
    """Store subject records not stored yet (first write wins); returns how many were new."""
    rows = {}
    for record in records:
        row = subject_row(record_mapping(record), now)
        rows[(row["subject_type"], row["subject_id"])] = row
    if not rows:
        return 0
    table = SubjectRow.__table__
    stmt = insert_ignoring(session, table, ["subject_type", "subject_id"]).returning(
        table.c.subject_type, table.c.subject_id
    )
    new = {tuple(r) for r in session.execute(stmt, list(rows.values()))}
    if not new:
        return 0
    # Alerts that came before their subject get its display fields now, and a case.
    alerts = AlertRow.__table__
    waiting = [
        (alert_id, (t, sid))
        for alert_id, t, sid in session.execute(
            select(alerts.c.id, alerts.c.subject_type, alerts.c.subject_id).where(
                # Both key columns, so the (subject_type, subject_id) index is used: no scan of all alerts.
                alerts.c.subject_type.in_({k[0] for k in new}),
                alerts.c.subject_id.in_([k[1] for k in new]),
            )
        )
        if (t, sid) in new
    ]
    if waiting:
        session.execute(
            update(alerts)
            .where(alerts.c.id == bindparam("b_id"))
            .values(has_subject=True, **{k: bindparam(f"b_{k}") for k in _DENORMALISED}),
            [{"b_id": alert_id, **{f"b_{k}": rows[key][k] for k in _DENORMALISED}} for alert_id, key in waiting],
        )
        group_alerts(session, [alert_id for alert_id, _ in waiting], now, threshold)
    return len(new)


def record_findings(
    session: Session, findings: Iterable[Finding | Mapping[str, Any]], now: dt.datetime, threshold: float
) -> list[int]:
    """Store findings and fold them into one alert per subject; returns the ids of alerts created or grown.

    A finding already stored (same id) changes nothing, so a redelivered batch is harmless.
    """
    by_id: dict[str, dict[str, Any]] = {}
    for f in findings:
        obj = finding_mapping(f)
        by_id[str(obj["id"])] = obj
    if not by_id:
        return []
    session.execute(
        insert_ignoring(session, FindingRow.__table__, ["id"]),
        [_finding_row(obj, now) for obj in by_id.values()],
    )
    by_subject: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for obj in by_id.values():
        by_subject[(obj["subject"]["type"], obj["subject"]["id"])].append(obj)
    alert_ids = _ensure_alerts(session, by_subject, now)
    link = insert_ignoring(session, AlertFindingRow.__table__, ["finding_id"]).returning(
        AlertFindingRow.__table__.c.finding_id
    )
    rows = [
        {
            "finding_id": obj["id"],
            "alert_id": alert_ids[key],
            "category": obj["category"],
            "rule": obj["rule"],
            "severity": obj["severity"],
        }
        for key, objs in by_subject.items()
        for obj in objs
    ]
    added = set(session.execute(link, rows).scalars())
    scores = {
        alert_ids[key]: max(float(o.get("score", 0)) for o in objs if o["id"] in added)
        for key, objs in by_subject.items()
        if any(o["id"] in added for o in objs)
    }
    _refresh_alerts(session, scores, now)
    group_alerts(session, list(scores), now, threshold)
    return sorted(scores)


def _finding_row(obj: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {
        "id": obj["id"],
        "subject_type": obj["subject"]["type"],
        "subject_id": obj["subject"]["id"],
        "category": obj["category"],
        "rule": obj["rule"],
        "severity": obj["severity"],
        "score": float(obj.get("score", 0)),
        "detector_version": str(obj.get("detector_version", ""))[:64],
        "detected_at": str(obj.get("detected_at", ""))[:40],
        "body": orjson.dumps(obj).decode(),
        "source_topic": None,
        "source_partition": None,
        "source_offset": None,
        "ingested_at": None,
        "stored_at": now,
    }


def _ensure_alerts(
    session: Session, by_subject: Mapping[tuple[str, str], list[dict[str, Any]]], now: dt.datetime
) -> dict[tuple[str, str], int]:
    """The alert id of every subject, creating alerts (status new) for subjects seen for the first time."""
    subjects = {
        (s.subject_type, s.subject_id): s
        for s in session.scalars(
            select(SubjectRow).where(
                SubjectRow.subject_type.in_({k[0] for k in by_subject}),
                SubjectRow.subject_id.in_([k[1] for k in by_subject]),
            )
        )
    }
    rows = []
    for key, objs in by_subject.items():
        worst = max(objs, key=lambda o: SEVERITY_RANK.get(o["severity"], 0))["severity"]
        subject = subjects.get(key)
        rows.append(
            {
                "subject_type": key[0],
                "subject_id": key[1],
                "status": "new",
                "severity": worst,
                "severity_rank": SEVERITY_RANK.get(worst, 0),
                "score": 0.0,
                "categories": "",
                "rules": "",
                "finding_count": 0,
                "has_subject": subject is not None,
                "grouped": False,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "due_at": now + dt.timedelta(hours=SLA_HOURS.get(worst, 336)),
                **{k: getattr(subject, k) if subject is not None else None for k in _DENORMALISED},
            }
        )
    session.execute(insert_ignoring(session, AlertRow.__table__, ["subject_type", "subject_id"]), rows)
    found = session.execute(
        select(AlertRow.subject_type, AlertRow.subject_id, AlertRow.id).where(
            AlertRow.subject_type.in_({k[0] for k in by_subject}),
            AlertRow.subject_id.in_([k[1] for k in by_subject]),
        )
    )
    return {(t, s): i for t, s, i in found if (t, s) in by_subject}


def _refresh_alerts(session: Session, new_scores: Mapping[int, float], now: dt.datetime) -> None:
    """Recompute alerts' severity, rules, categories and counts from their findings; move due times if worse."""
    if not new_scores:
        return
    alerts = AlertRow.__table__
    ids = list(new_scores)
    links: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for alert_id, category, rule, severity in session.execute(
        select(
            AlertFindingRow.alert_id, AlertFindingRow.category, AlertFindingRow.rule, AlertFindingRow.severity
        ).where(AlertFindingRow.alert_id.in_(ids))
    ):
        links[alert_id].append((category, rule, severity))
    current = {
        r.id: r
        for r in session.execute(
            select(alerts.c.id, alerts.c.score, alerts.c.finding_count, alerts.c.created_at, alerts.c.rules).where(
                alerts.c.id.in_(ids)
            )
        )
    }
    params = []
    for alert_id in ids:
        cur, found = current[alert_id], links[alert_id]
        worst = max((sev for _c, _r, sev in found), key=lambda sev: SEVERITY_RANK.get(sev, 0))
        created = cur.created_at if cur.created_at.tzinfo else cur.created_at.replace(tzinfo=dt.UTC)
        rules = ",".join(sorted({r for _c, r, _s in found}))
        params.append(
            {
                "b_id": alert_id,
                "b_categories": ",".join(sorted({c for c, _r, _s in found})),
                "b_rules": rules,
                "b_finding_count": len(found),
                "b_score": max(cur.score, new_scores[alert_id]),
                "b_severity": worst,
                "b_severity_rank": SEVERITY_RANK.get(worst, 0),
                "b_updated_at": now,
                "b_due_at": created + dt.timedelta(hours=SLA_HOURS.get(worst, 336)),
            }
        )
        if cur.finding_count > 0:  # an alert seen before gets more findings: say so in its history
            write_audit(
                session,
                now,
                "system",
                None,
                "findings_added",
                "alert",
                str(alert_id),
                {"finding_count": len(found), "rules": rules},
            )
    columns = ("categories", "rules", "finding_count", "score", "severity", "severity_rank", "updated_at", "due_at")
    session.execute(
        update(alerts).where(alerts.c.id == bindparam("b_id")).values(**{c: bindparam(f"b_{c}") for c in columns}),
        params,
    )


def group_alerts(session: Session, alert_ids: Iterable[int], now: dt.datetime, threshold: float) -> None:
    """Put each alert whose subject is stored into a case: its agency's, or that of a near-identical posting.

    Alerts of one batch are compared with each other as well as with the stored ones.
    """
    ids = sorted(set(alert_ids))
    if not ids:
        return
    alerts, subjects, blocks = AlertRow.__table__, SubjectRow.__table__, AlertBlockRow.__table__
    joined = alerts.join(
        subjects, (subjects.c.subject_type == alerts.c.subject_type) & (subjects.c.subject_id == alerts.c.subject_id)
    )
    pending = session.execute(
        select(alerts.c.id, alerts.c.title, subjects.c.skeleton, subjects.c.agency_key, subjects.c.agency_name)
        .select_from(joined)
        .where(alerts.c.id.in_(ids), alerts.c.grouped.is_(False), alerts.c.has_subject.is_(True))
        .order_by(alerts.c.id)
    ).all()
    # Decided in memory first, written in a few bulk statements after: a case id not yet in the store
    # is a negative placeholder until the batch's new cases are inserted.
    case_of: dict[int, int | None] = {}  # this batch's decisions, and candidates' cases as read
    title_of: dict[int, str] = {}
    keys_of = {alert_id: grouping.block_keys(skel) if not agency else [] for alert_id, _t, skel, agency, _n in pending}
    stored_blocks, stored = _stored_candidates(session, {k for keys in keys_of.values() for k in keys})
    for cid, (ctitle, ccase, _cskel) in stored.items():
        case_of[cid], title_of[cid] = ccase, ctitle or ""
    local_skeletons: dict[int, str] = {}
    local_blocks: dict[int, list[int]] = defaultdict(list)
    agency_placeholder: dict[str, int] = {}
    agency_names: dict[str, str | None] = {}
    new_case_titles: list[str] = []  # placeholder -(i + 1) → title
    stored_joins: dict[int, int] = {}  # stored alert id → the (placeholder) case it now opens
    joins: Counter[int] = Counter()
    block_rows = []
    for alert_id, title, skel, agency, agency_name in pending:
        keys = keys_of[alert_id] or grouping.block_keys(skel)
        case_id = None
        if agency:
            if agency not in agency_placeholder:
                agency_names[agency] = agency_name
                agency_placeholder[agency] = -1_000_000_000 - len(agency_placeholder)
            case_id = agency_placeholder[agency]
        elif keys:
            candidates: dict[int, str] = {}
            for k in keys:
                for cid in stored_blocks.get(k, ()):
                    if cid != alert_id:
                        candidates[cid] = stored[cid][2]
                for cid in local_blocks.get(k, ()):
                    candidates[cid] = local_skeletons[cid]
            match = grouping.best_match(skel, candidates.items(), threshold)
            if match is not None:
                case_id = case_of.get(match)
                if case_id is None:
                    new_case_titles.append(title_of.get(match, ""))
                    case_id = -len(new_case_titles)
                    case_of[match] = case_id
                    joins[case_id] += 1
                    if match in stored:
                        stored_joins[match] = case_id
        case_of[alert_id] = case_id
        title_of[alert_id] = title or ""
        if case_id is not None:
            joins[case_id] += 1
        if keys:
            local_skeletons[alert_id] = skel
            for k in keys:
                local_blocks[k].append(alert_id)
                block_rows.append({"key": k, "alert_id": alert_id})
    if not pending:
        return
    real = _new_cases(session, new_case_titles, now)
    by_agency = _agency_cases(session, agency_names, now)
    real.update({placeholder: by_agency[agency] for agency, placeholder in agency_placeholder.items()})

    def resolved(case_id: int | None) -> int | None:
        return real[case_id] if case_id is not None and case_id < 0 else case_id

    if stored_joins:
        session.execute(
            update(alerts).where(alerts.c.id == bindparam("b_id")).values(case_id=bindparam("b_case")),
            [{"b_id": cid, "b_case": resolved(case)} for cid, case in stored_joins.items()],
        )
    session.execute(
        update(alerts).where(alerts.c.id == bindparam("b_id")).values(grouped=True, case_id=bindparam("b_case")),
        [{"b_id": alert_id, "b_case": resolved(case_of[alert_id])} for alert_id, *_ in pending],
    )
    if block_rows:
        session.execute(insert_ignoring(session, blocks, ["key", "alert_id"]), block_rows)
    if joins:
        cases = CaseRow.__table__
        session.execute(
            update(cases)
            .where(cases.c.id == bindparam("b_id"))
            .values(alert_count=cases.c.alert_count + bindparam("b_n"), updated_at=now),
            [{"b_id": resolved(cid), "b_n": n} for cid, n in joins.items()],
        )


_KEYS_PER_QUERY = 200  # SQLite allows 500 terms in a compound SELECT
_NO_KEY = -1  # block keys are CRC32 values, never negative


_NEWEST_PER_KEY_PG = text(
    "SELECT k.key, b.alert_id FROM unnest(CAST(:keys AS BIGINT[])) AS k(key) CROSS JOIN LATERAL "
    "(SELECT alert_id FROM alert_blocks WHERE alert_blocks.key = k.key ORDER BY alert_id DESC LIMIT :n) AS b"
)


@functools.cache
def _newest_per_key() -> CompoundSelect:
    """The newest `MAX_CANDIDATES` alert ids for each of `_KEYS_PER_QUERY` bound keys `k0`, `k1`, …"""
    blocks = AlertBlockRow.__table__
    # One backward index scan per key, LIMITed: a key that thousands of templated postings share costs
    # no more than a rare one (a window over all its rows would grow with the table).
    newest = [
        select(blocks.c.key, blocks.c.alert_id)
        .where(blocks.c.key == bindparam(f"k{i}"))
        .order_by(blocks.c.alert_id.desc())
        .limit(MAX_CANDIDATES)
        .subquery()
        for i in range(_KEYS_PER_QUERY)
    ]
    return union_all(*(select(q.c.key, q.c.alert_id) for q in newest))


def _stored_candidates(
    session: Session, keys: set[int]
) -> tuple[dict[int, list[int]], dict[int, tuple[str | None, int | None, str]]]:
    """For a batch's blocking keys: the newest `MAX_CANDIDATES` stored alerts per key, and their title, case, skeleton.

    Two queries per batch, whatever its size; a key shared by thousands of templated postings
    still yields only its newest few candidates.
    """
    if not keys:
        return {}, {}
    alerts, subjects = AlertRow.__table__, SubjectRow.__table__
    by_key: dict[int, list[int]] = defaultdict(list)
    ordered = sorted(keys)
    if session.get_bind().dialect.name == "postgresql":
        # One LATERAL index scan per key, all keys in one array parameter and one round trip.
        for key, alert_id in session.execute(_NEWEST_PER_KEY_PG, {"keys": ordered, "n": MAX_CANDIDATES}):
            by_key[key].append(alert_id)
        ordered = []
    statement = _newest_per_key()
    for start in range(0, len(ordered), _KEYS_PER_QUERY):
        chunk = ordered[start : start + _KEYS_PER_QUERY]
        # Padded to the fixed width with a key no shingle hash takes, so one compiled statement serves
        # every batch (building and compiling a 200-branch UNION per batch cost more than running it).
        params = {f"k{i}": chunk[i] if i < len(chunk) else _NO_KEY for i in range(_KEYS_PER_QUERY)}
        for key, alert_id in session.execute(statement, params):
            by_key[key].append(alert_id)
    ids = sorted({i for v in by_key.values() for i in v})
    joined = alerts.join(
        subjects, (subjects.c.subject_type == alerts.c.subject_type) & (subjects.c.subject_id == alerts.c.subject_id)
    )
    found: dict[int, tuple[str | None, int | None, str]] = {}
    for start in range(0, len(ids), 1000):
        for cid, ctitle, ccase, cskel in session.execute(
            select(alerts.c.id, alerts.c.title, alerts.c.case_id, subjects.c.skeleton)
            .select_from(joined)
            .where(alerts.c.id.in_(ids[start : start + 1000]))
        ):
            found[cid] = (ctitle, ccase, cskel)
    return by_key, found


def _agency_cases(session: Session, names: Mapping[str, str | None], now: dt.datetime) -> dict[Any, int]:
    """The case id of each agency key, creating the missing ones (two statements for the whole batch)."""
    if not names:
        return {}
    cases = CaseRow.__table__
    session.execute(
        insert_ignoring(session, cases, ["key"]),
        [
            {
                "kind": "agency",
                "key": key,
                "title": (name or key)[:500],
                "alert_count": 0,
                "created_at": now,
                "updated_at": now,
            }
            for key, name in names.items()
        ],
    )
    found: dict[Any, int] = {}
    keys = sorted(names)
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        found.update(
            (key, case_id)
            for key, case_id in session.execute(select(cases.c.key, cases.c.id).where(cases.c.key.in_(chunk)))
        )
    return found


def _new_cases(session: Session, titles: list[str], now: dt.datetime) -> dict[Any, int]:
    """Insert one near-duplicate case per title; returns placeholder -(i + 1) → the new case id."""
    if not titles:
        return {}
    cases = CaseRow.__table__
    rows = (
        session.execute(
            cases.insert().returning(cases.c.id, sort_by_parameter_order=True),
            [
                {
                    "kind": "near_duplicate",
                    "key": None,
                    "title": title[:500],
                    "alert_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for title in titles
            ],
        )
        .scalars()
        .all()
    )
    return {-(i + 1): int(case_id) for i, case_id in enumerate(rows)}
