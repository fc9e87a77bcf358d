"""The alert queue service: intake from workers, filtered listing, detail (masked unless unmasked), decisions, outbox."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Engine, Select, func, or_, select, text, update
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from detectors import Finding
from review import intake, presentation
from review.accounts import Accounts
from review.audit import AuditEntry, audit_entry, write_audit
from review.events import EVENT_SCHEMA, PendingEvent
from review.lifecycle import (
    ACTIONS,
    DISMISS_REASONS,
    OPEN_STATUSES,
    PARTNERS,
    SEVERITY_RANK,
    LifecycleError,
    can,
    check_transition,
)
from review.models import FindingRow
from review.queue_models import (
    AlertFindingRow,
    AlertRow,
    AuditRow,
    CaseRow,
    DecisionRow,
    NoteRow,
    ReviewEventRow,
    SubjectRow,
    UserRow,
)
from review.queue_types import (
    Actor,
    AlertDetail,
    AlertSummary,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Page,
    QueueError,
    QueueFilter,
    aware_utc,
    check_text,
)
from review.store import FindingStore, make_engine

MAX_NOTE = 4000
MAX_BULK = 500
FINAL_STATUSES = frozenset({"confirmed", "dismissed", "escalated", "shared"})
MAX_ID = 2_147_483_647  # ids are 32-bit integers in the store; a larger one cannot exist


class ReviewQueue(Accounts):
    """The queue over one database (SQLite or PostgreSQL); thread-safe, one short transaction per call."""

    def __init__(
        self,
        engine: Engine,
        *,
        duplicate_threshold: float = 90.0,
        clock: Callable[[], dt.datetime] | None = None,
        share_partners: Sequence[str] = PARTNERS,
    ) -> None:
        self.engine = engine
        self.share_partners = tuple(share_partners)  # whom `share` may name: the sharing policy's, from hrwatch/
        self.duplicate_threshold = duplicate_threshold
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._listeners: list[Callable[[], None]] = []
        self._options: tuple[float, dict[str, list[str]]] | None = None
        self._options_lock = threading.Lock()

    @classmethod
    def open(cls, url: str | URL, *, password: str | None = None, **kwargs: Any) -> ReviewQueue:
        return cls(make_engine(url, password), **kwargs)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> ReviewQueue:
        """The queue on HRWATCH_DATABASE_URL (and HRWATCH_DATABASE_PASSWORD); `kwargs` as for the constructor."""
        secret = getattr(settings, "database_password", None)
        return cls.open(
            settings.database_url,
            password=secret.get_secret_value() if secret else None,
            duplicate_threshold=getattr(settings, "review_duplicate_threshold", 90.0),
            **kwargs,
        )

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (the same path as the findings store)."""
        FindingStore("", engine=self.engine).migrate()

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1

    # -- intake (stream workers) -------------------------------------------------------------------

    def record_subjects(self, records: Iterable[Any]) -> int:
        """Store the records findings are about (typed records or JSON objects); idempotent, first write wins."""
        with self._sessions.begin() as s:
            return intake.record_subjects(s, records, self.clock(), self.duplicate_threshold)

    def record_subject(self, record: Any) -> bool:
        """Store one subject record; True if it was new."""
        return self.record_subjects([record]) == 1

    def record_findings(self, findings: Iterable[Finding | Mapping[str, Any]]) -> list[int]:
        """Fold findings (Finding or finding.v1 objects) into alerts; returns ids of alerts created or grown."""
        with self._sessions.begin() as s:
            return intake.record_findings(s, findings, self.clock(), self.duplicate_threshold)

    def record(self, pairs: Iterable[tuple[Any, Sequence[Finding | Mapping[str, Any]]]]) -> list[int]:
        """A worker batch in one transaction: (record, its findings) pairs; records without findings are skipped."""
        pairs = [(r, f) for r, f in pairs if f]
        if not pairs:
            return []
        now = self.clock()
        with self._sessions.begin() as s:
            intake.record_subjects(s, [r for r, _ in pairs], now, self.duplicate_threshold)
            return intake.record_findings(s, [x for _, fs in pairs for x in fs], now, self.duplicate_threshold)

    # -- reading -----------------------------------------------------------------------------------

    def _summary_query(self) -> Select[Any]:
        return (
            select(AlertRow, CaseRow.kind, CaseRow.alert_count, UserRow.username)
            .outerjoin(CaseRow, AlertRow.case_id == CaseRow.id)
            .outerjoin(UserRow, AlertRow.assignee_id == UserRow.id)
        )

    @staticmethod
    def _summary(row: Any) -> AlertSummary:
        a, kind, count, assignee = row
        return AlertSummary(
            id=a.id,
            subject_type=a.subject_type,
            subject_id=a.subject_id,
            status=a.status,
            severity=a.severity,
            score=a.score,
            categories=tuple(c for c in a.categories.split(",") if c),
            rules=tuple(r for r in a.rules.split(",") if r),
            finding_count=a.finding_count,
            title=a.title,
            source=a.source,
            city=a.city,
            agency_name=a.agency_name,
            employer_name=a.employer_name,
            case_id=a.case_id,
            case_kind=kind,
            case_count=count or 1,
            assignee=assignee,
            dismiss_reason=a.dismiss_reason,
            version=a.version,
            created_at=aware_utc(a.created_at),
            due_at=aware_utc(a.due_at),
            decided_at=aware_utc(a.decided_at),
        )

    def _conditions(self, f: QueueFilter, actor: Actor | None, s: Session) -> list[Any]:
        conds: list[Any] = []
        if f.status:
            conds.append(AlertRow.status.in_(f.status) if len(f.status) > 1 else AlertRow.status == f.status[0])
        if f.severity:
            conds.append(AlertRow.severity == f.severity)
        if f.category:
            conds.append(
                AlertRow.id.in_(select(AlertFindingRow.alert_id).where(AlertFindingRow.category == f.category))
            )
        if f.rule:
            conds.append(AlertRow.id.in_(select(AlertFindingRow.alert_id).where(AlertFindingRow.rule == f.rule)))
        if f.city:
            conds.append(AlertRow.city == f.city)
        if f.source:
            conds.append(AlertRow.source == f.source)
        if f.agency:
            conds.append(
                or_(
                    AlertRow.agency_name.contains(f.agency, autoescape=True),
                    AlertRow.employer_name.contains(f.agency, autoescape=True),
                )
            )
        if f.date_from:
            conds.append(AlertRow.created_at >= _day_start(f.date_from))
        if f.date_to:
            conds.append(AlertRow.created_at < _day_start(f.date_to + dt.timedelta(days=1)))
        if f.case_id is not None:
            conds.append(AlertRow.case_id == f.case_id)
        if f.assignee == "none":
            conds.append(AlertRow.assignee_id.is_(None))
        elif f.assignee:
            name = actor.username if f.assignee == "me" and actor else f.assignee
            conds.append(AlertRow.assignee_id == select(UserRow.id).where(UserRow.username == name).scalar_subquery())
        return conds

    def list_alerts(self, f: QueueFilter, actor: Actor | None = None) -> Page:
        """One page of the queue under a filter, in the filter's order, with the total count."""
        order = {
            "severity": (AlertRow.severity_rank.desc(), AlertRow.created_at.asc(), AlertRow.id.asc()),
            "age": (AlertRow.created_at.asc(), AlertRow.id.asc()),
            "newest": (AlertRow.created_at.desc(), AlertRow.id.desc()),
            "due": (AlertRow.due_at.asc(), AlertRow.id.asc()),
        }[f.sort]
        with self._sessions() as s:
            conds = self._conditions(f, actor, s)
            total = int(s.scalar(select(func.count()).select_from(AlertRow).where(*conds)) or 0)
            q = self._summary_query().where(*conds).order_by(*order)
            rows = s.execute(q.limit(f.per_page).offset((f.page - 1) * f.per_page)).all()
            return Page([self._summary(r) for r in rows], total, f.page, f.per_page)

    def summary(self, alert_id: int) -> AlertSummary:
        with self._sessions() as s:
            return self._get_summary(s, alert_id)

    def _get_summary(self, s: Session, alert_id: int) -> AlertSummary:
        _check_id(alert_id)
        row = s.execute(self._summary_query().where(AlertRow.id == alert_id)).first()
        if row is None:
            raise NotFound("alert_not_found", f"no alert {alert_id}")
        return self._summary(row)

    def detail(self, alert_id: int, actor: Actor, *, unmask: bool = False, reason: str | None = None) -> AlertDetail:
        """The alert page's content; every call is audited as a view, or as an unmask with its stated reason."""
        if unmask:
            if not can(actor.role, "unmask"):
                raise Forbidden("forbidden", f"role {actor.role!r} may not unmask personal data")
            reason = check_text("reason", reason or "", 500, required=True)
        now = self.clock()
        with self._sessions.begin() as s:
            summary = self._get_summary(s, alert_id)
            subject_row = s.get(SubjectRow, (summary.subject_type, summary.subject_id))
            record = orjson.loads(subject_row.body) if subject_row else None
            bodies = s.scalars(
                select(FindingRow.body)
                .join(AlertFindingRow, AlertFindingRow.finding_id == FindingRow.id)
                .where(AlertFindingRow.alert_id == alert_id)
            ).all()
            findings = sorted(
                (orjson.loads(b) for b in bodies),
                key=lambda f: (-SEVERITY_RANK.get(f["severity"], 0), f["rule"], f["id"]),
            )
            evidence = [(i, ev) for i, f in enumerate(findings) for ev in f.get("evidence", [])]
            masked = not unmask
            views = presentation.text_views(record, evidence, masked) if record else []
            structured = presentation.structured_rows(record, evidence, masked) if record else []
            if record is not None and masked:
                record = presentation.masked_record(record)
            action, detail = ("unmask", {"reason": reason}) if unmask else ("view", None)
            write_audit(s, now, actor.username, actor.role, action, "alert", str(alert_id), detail, actor.client)
            members: list[AlertSummary] = []
            if summary.case_id is not None:
                rows = s.execute(
                    self._summary_query()
                    .where(AlertRow.case_id == summary.case_id, AlertRow.id != alert_id)
                    .order_by(AlertRow.id)
                    .limit(50)
                ).all()
                members = [self._summary(r) for r in rows]
            s.flush()
            history = self._history(s, alert_id)
        return AlertDetail(summary, masked, record, findings, views, structured, history, members)

    def history(self, alert_id: int) -> list[AuditEntry]:
        with self._sessions() as s:
            self._get_summary(s, alert_id)
            return self._history(s, alert_id)

    @staticmethod
    def _history(s: Session, alert_id: int) -> list[AuditEntry]:
        rows = s.scalars(
            select(AuditRow)
            .where(AuditRow.object_type == "alert", AuditRow.object_id == str(alert_id))
            .order_by(AuditRow.at, AuditRow.id)
        )
        return [audit_entry(r) for r in rows]

    def case(self, case_id: int) -> tuple[dict[str, Any], list[AlertSummary]]:
        _check_id(case_id, "case")
        with self._sessions() as s:
            case = s.get(CaseRow, case_id)
            if case is None:
                raise NotFound("case_not_found", f"no case {case_id}")
            rows = s.execute(
                self._summary_query().where(AlertRow.case_id == case_id).order_by(AlertRow.id).limit(500)
            ).all()
            info = {
                "id": case.id,
                "kind": case.kind,
                "title": case.title,
                "count": case.alert_count,
                "created_at": aware_utc(case.created_at).isoformat(),
            }
            return info, [self._summary(r) for r in rows]

    def filter_options(self, max_age: float = 30.0) -> dict[str, list[str]]:
        """Distinct cities, sources and rules for the filter form (cached for `max_age` seconds)."""
        with self._options_lock:
            if self._options and time.monotonic() - self._options[0] < max_age:
                return self._options[1]
            with self._sessions() as s:
                options = {
                    "cities": sorted(c for c in s.scalars(select(AlertRow.city).distinct()) if c),
                    "sources": sorted(c for c in s.scalars(select(AlertRow.source).distinct()) if c),
                    "rules": sorted(s.scalars(select(AlertFindingRow.rule).distinct())),
                    "reviewers": sorted(
                        s.scalars(
                            select(UserRow.username).where(
                                UserRow.active.is_(True), UserRow.role.in_(("reviewer", "supervisor"))
                            )
                        )
                    ),
                }
            self._options = (time.monotonic(), options)
            return options

    # -- decisions ---------------------------------------------------------------------------------

    def decide(
        self,
        alert_id: int,
        action: str,
        actor: Actor,
        *,
        reason: str | None = None,
        note: str | None = None,
        partners: Sequence[str] = (),
        expected_version: int | None = None,
    ) -> AlertSummary:
        """Take a lifecycle action; records the decision, the audit row and (for decisions) the outbox event."""
        if note is not None:
            note = check_text("note", note, MAX_NOTE) or None
        partners = tuple(dict.fromkeys(partners))
        now = self.clock()
        _check_id(alert_id)
        with self._sessions.begin() as s:
            alert = s.get(AlertRow, alert_id)
            if alert is None:
                raise NotFound("alert_not_found", f"no alert {alert_id}")
            try:
                target = check_transition(action, alert.status, actor.role, reason, partners, self.share_partners)
            except LifecycleError as exc:
                raise _lifecycle_error(exc) from None
            if expected_version is not None and expected_version != alert.version:
                raise Conflict("stale", f"alert {alert_id} changed since version {expected_version}; reload it")
            values: dict[str, Any] = {"status": target, "version": alert.version + 1, "updated_at": now}
            if target in FINAL_STATUSES:
                values["decided_at"] = now
            if action == "dismiss":
                values["dismiss_reason"] = reason
            if action == "reopen":
                values.update(dismiss_reason=None, decided_at=None)
            if action == "start" and alert.assignee_id is None:
                values["assignee_id"] = actor.id
            done = s.execute(
                update(AlertRow.__table__)
                .where(AlertRow.__table__.c.id == alert_id, AlertRow.__table__.c.version == alert.version)
                .values(**values)
            )
            if done.rowcount != 1:
                raise Conflict("stale", f"alert {alert_id} was changed by someone else; reload it")
            s.add(
                DecisionRow(
                    alert_id=alert_id,
                    action=action,
                    from_status=alert.status,
                    to_status=target,
                    reason=reason,
                    partners=",".join(partners) or None,
                    note=note,
                    actor_id=actor.id,
                    created_at=now,
                )
            )
            write_audit(
                s,
                now,
                actor.username,
                actor.role,
                action,
                "alert",
                str(alert_id),
                {
                    k: v
                    for k, v in {
                        "from": alert.status,
                        "to": target,
                        "reason": reason,
                        "partners": list(partners),
                        "note": note,
                    }.items()
                    if v
                },
                actor.client,
            )
            if ACTIONS[action].emits_event:
                s.add(self._event_row(s, alert, action, alert.status, target, reason, partners, actor, now))
            s.flush()
            s.expire_all()
            summary = self._get_summary(s, alert_id)
        self._notify()
        return summary

    def _event_row(
        self,
        s: Session,
        alert: AlertRow,
        action: str,
        before: str,
        after: str,
        reason: str | None,
        partners: tuple[str, ...],
        actor: Actor,
        now: dt.datetime,
    ) -> ReviewEventRow:
        links = s.execute(
            select(AlertFindingRow.finding_id, AlertFindingRow.rule, AlertFindingRow.category)
            .where(AlertFindingRow.alert_id == alert.id)
            .order_by(AlertFindingRow.finding_id)
        ).all()
        case = s.get(CaseRow, alert.case_id) if alert.case_id else None
        event_id = str(uuid.uuid4())
        body = {
            "schema": EVENT_SCHEMA,
            "event_id": event_id,
            "alert_id": str(alert.id),
            "decision": action,
            "status": after,
            "previous_status": before,
            "reason": reason,
            "partners": list(partners),
            "subject": {"type": alert.subject_type, "id": alert.subject_id},
            "finding_ids": [f for f, _r, _c in links],
            "rules": sorted({r for _f, r, _c in links}),
            "categories": sorted({c for _f, _r, c in links}),
            "severity": alert.severity,
            "case": {"id": case.id, "kind": case.kind, "count": case.alert_count} if case else None,
            "decided_by": {"username": actor.username, "role": actor.role},
            "decided_at": now.isoformat(),
        }
        return ReviewEventRow(event_id=event_id, key=str(alert.id), body=orjson.dumps(body).decode(), created_at=now)

    def assign(self, alert_id: int, assignee: str | None, actor: Actor) -> AlertSummary:
        """Assign an open alert (None releases it): to oneself as a reviewer, to anybody as a supervisor."""
        if not can(actor.role, "claim"):
            raise Forbidden("forbidden", f"role {actor.role!r} may not take alerts")
        if assignee is not None:
            assignee = check_text("assignee", assignee, 64, required=True)
        now = self.clock()
        _check_id(alert_id)
        with self._sessions.begin() as s:
            alert = s.get(AlertRow, alert_id)
            if alert is None:
                raise NotFound("alert_not_found", f"no alert {alert_id}")
            if alert.status not in OPEN_STATUSES:
                raise Conflict(
                    "invalid_transition", f"alert {alert_id} is {alert.status}; only open alerts are assigned"
                )
            others = assignee not in (None, actor.username) or (
                assignee is None and alert.assignee_id not in (None, actor.id)
            )
            if others and not can(actor.role, "assign"):
                raise Forbidden("forbidden", "a reviewer may only take or release alerts for themself")
            user_id = None
            if assignee is not None:
                user = s.scalar(select(UserRow).where(UserRow.username == assignee))
                if user is None or not user.active:
                    raise NotFound("user_not_found", f"no active user {assignee!r}")
                if not can(user.role, "claim"):
                    raise Invalid("invalid_assignee", f"{assignee!r} is an {user.role} and cannot review alerts")
                user_id = user.id
            alert.assignee_id = user_id
            alert.version += 1
            alert.updated_at = now
            write_audit(
                s,
                now,
                actor.username,
                actor.role,
                "assign",
                "alert",
                str(alert_id),
                {"assignee": assignee},
                actor.client,
            )
            s.flush()
            return self._get_summary(s, alert_id)

    def add_note(self, alert_id: int, body: str, actor: Actor) -> None:
        if not can(actor.role, "note"):
            raise Forbidden("forbidden", f"role {actor.role!r} may not write notes")
        body = check_text("note", body, MAX_NOTE, required=True)
        now = self.clock()
        _check_id(alert_id)
        with self._sessions.begin() as s:
            if s.get(AlertRow, alert_id) is None:
                raise NotFound("alert_not_found", f"no alert {alert_id}")
            s.add(NoteRow(alert_id=alert_id, author_id=actor.id, body=body, created_at=now))
            write_audit(
                s, now, actor.username, actor.role, "note", "alert", str(alert_id), {"note": body}, actor.client
            )

    def bulk(
        self,
        alert_ids: Sequence[int],
        action: str,
        actor: Actor,
        *,
        reason: str | None = None,
        assignee: str | None = None,
        partners: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Apply one action (a lifecycle action or `assign`) to many alerts; each succeeds or fails on its own."""
        ids = list(dict.fromkeys(alert_ids))
        if not ids:
            raise Invalid("no_alerts", "select at least one alert")
        if len(ids) > MAX_BULK:
            raise Invalid("too_many_alerts", f"at most {MAX_BULK} alerts per bulk action")
        if action != "assign" and action not in ACTIONS:
            raise Invalid("unknown_action", f"unknown action {action!r}; one of assign, {', '.join(ACTIONS)}")
        done: list[int] = []
        failed: list[dict[str, Any]] = []
        for alert_id in ids:
            try:
                if action == "assign":
                    self.assign(alert_id, assignee, actor)
                else:
                    self.decide(alert_id, action, actor, reason=reason, partners=partners)
                done.append(alert_id)
            except QueueError as exc:
                failed.append({"id": alert_id, "code": exc.code, "message": exc.message})
        return {"action": action, "done": done, "failed": failed}

    # -- hr.reviews.v1 outbox ----------------------------------------------------------------------

    def on_event(self, callback: Callable[[], None]) -> None:
        """Call `callback` after each committed decision that wrote an outbox event (the relay's wake-up)."""
        self._listeners.append(callback)

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()

    def pending_events(self, limit: int = 500) -> list[PendingEvent]:
        with self._sessions() as s:
            rows = s.execute(
                select(ReviewEventRow.id, ReviewEventRow.key, ReviewEventRow.body)
                .where(ReviewEventRow.published_at.is_(None))
                .order_by(ReviewEventRow.id)
                .limit(limit)
            )
            return [PendingEvent(i, k, b.encode()) for i, k, b in rows]

    def mark_published(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self._sessions.begin() as s:
            s.execute(update(ReviewEventRow).where(ReviewEventRow.id.in_(list(ids))).values(published_at=self.clock()))

    def events(self) -> list[dict[str, Any]]:
        """Every outbox event, oldest first (tests, the CLI)."""
        with self._sessions() as s:
            return [orjson.loads(b) for b in s.scalars(select(ReviewEventRow.body).order_by(ReviewEventRow.id))]

    def counts(self) -> dict[str, int]:
        """Alerts per status."""
        with self._sessions() as s:
            return {st: int(n) for st, n in s.execute(select(AlertRow.status, func.count()).group_by(AlertRow.status))}


def _check_id(value: int, kind: str = "alert") -> None:
    if not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise NotFound(f"{kind}_not_found", f"no {kind} {value}")


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight China Standard Time: reviewers' dates are local dates."""
    return dt.datetime.combine(day, dt.time(), presentation.CHINA_TZ)


def _lifecycle_error(exc: LifecycleError) -> QueueError:
    if exc.code == "forbidden":
        return Forbidden(exc.code, exc.message)
    if exc.code == "invalid_transition":
        return Conflict(exc.code, exc.message)
    return Invalid(exc.code, exc.message)


__all__ = [
    "DISMISS_REASONS",
    "Actor",
    "AlertDetail",
    "AlertSummary",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Page",
    "QueueError",
    "QueueFilter",
    "ReviewQueue",
]
