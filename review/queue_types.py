"""The queue's value types: errors with HTTP statuses, the acting user, the filter, and what the queue returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from review import presentation
from review.audit import AuditEntry
from review.lifecycle import CATEGORIES, OPEN_STATUSES, SEVERITY_RANK, STATUSES

SORTS = ("severity", "age", "newest", "due")
MAX_FILTER_TEXT = 200


class QueueError(Exception):
    """A request the queue refuses; `status` is the HTTP status the web app answers with, `code` a stable name."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Invalid(QueueError):
    status = 422


class NotFound(QueueError):
    status = 404


class Forbidden(QueueError):
    status = 403


class Conflict(QueueError):
    status = 409


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user of the queue (id None for the system) with their role, and where from."""

    id: int | None
    username: str
    role: str
    display_name: str = ""
    client: str | None = None

    def at(self, client: str | None) -> Actor:
        return Actor(self.id, self.username, self.role, self.display_name, client)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue shows. Empty `status` means every status; text filters are exact except `agency` (contains)."""

    status: tuple[str, ...] = OPEN_STATUSES
    category: str | None = None
    rule: str | None = None
    severity: str | None = None
    city: str | None = None
    source: str | None = None
    agency: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    assignee: str | None = None  # a username, "me" or "none"
    case_id: int | None = None
    sort: str = "severity"
    page: int = 1
    per_page: int = 50

    def __post_init__(self) -> None:
        bad = [s for s in self.status if s not in STATUSES]
        if bad:
            raise Invalid("invalid_filter", f"unknown status {bad[0]!r}; one of {', '.join(STATUSES)}")
        if self.category is not None and self.category not in CATEGORIES:
            raise Invalid("invalid_filter", f"unknown category {self.category!r}; one of {', '.join(CATEGORIES)}")
        if self.severity is not None and self.severity not in SEVERITY_RANK:
            raise Invalid("invalid_filter", f"unknown severity {self.severity!r}; one of {', '.join(SEVERITY_RANK)}")
        if self.sort not in SORTS:
            raise Invalid("invalid_filter", f"unknown sort {self.sort!r}; one of {', '.join(SORTS)}")
        if not 1 <= self.page <= 100_000 or not 1 <= self.per_page <= 500:
            raise Invalid("invalid_filter", "page must be 1–100000 and per_page 1–500")
        for name in ("rule", "city", "source", "agency", "assignee"):
            value = getattr(self, name)
            if value is not None:
                check_text(name, value, MAX_FILTER_TEXT)


def check_text(name: str, value: str, limit: int, *, required: bool = False) -> str:
    """Reject text a database cannot store (NUL) or that is too long; returns it stripped."""
    if "\x00" in value:
        raise Invalid("invalid_text", f"{name} must not contain NUL characters")
    value = value.strip()
    if len(value) > limit:
        raise Invalid("invalid_text", f"{name} is longer than {limit} characters")
    if required and not value:
        raise Invalid("invalid_text", f"{name} must not be empty")
    return value


def aware_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """One row of the queue."""

    id: int
    subject_type: str
    subject_id: str
    status: str
    severity: str
    score: float
    categories: tuple[str, ...]
    rules: tuple[str, ...]
    finding_count: int
    title: str | None
    source: str | None
    city: str | None
    agency_name: str | None
    employer_name: str | None
    case_id: int | None
    case_kind: str | None
    case_count: int
    assignee: str | None
    dismiss_reason: str | None
    version: int
    created_at: dt.datetime
    due_at: dt.datetime
    decided_at: dt.datetime | None

    @property
    def masked_title(self) -> str:
        return presentation.mask_text(self.title or "")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def sla(self, now: dt.datetime) -> tuple[str, str]:
        """(state, text): state is ok, due_soon (under a quarter of the SLA left), overdue or closed."""
        if not self.is_open:
            return "closed", "已处理"
        left = self.due_at - now
        if left.total_seconds() < 0:
            return "overdue", "超期" + presentation.duration_text(-left)
        total = self.due_at - self.created_at
        state = "due_soon" if left < total / 4 else "ok"
        return state, "剩余" + presentation.duration_text(left)

    def to_dict(self, now: dt.datetime) -> dict[str, Any]:
        state, sla_text = self.sla(now)
        return {
            "id": self.id,
            "subject": {"type": self.subject_type, "id": self.subject_id},
            "status": self.status,
            "severity": self.severity,
            "score": round(self.score, 4),
            "categories": list(self.categories),
            "rules": list(self.rules),
            "finding_count": self.finding_count,
            "title": self.masked_title,
            "source": self.source,
            "city": self.city,
            "agency": self.agency_name,
            "employer": self.employer_name,
            "case": {"id": self.case_id, "kind": self.case_kind, "count": self.case_count} if self.case_id else None,
            "assignee": self.assignee,
            "dismiss_reason": self.dismiss_reason,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "age_seconds": int((now - self.created_at).total_seconds()),
            "sla": {"state": state, "text": sla_text},
        }


@dataclass(slots=True)
class Page:
    items: list[AlertSummary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


@dataclass(slots=True)
class AlertDetail:
    """Everything the alert page shows; subject text is masked unless `masked` is False (an audited unmask)."""

    alert: AlertSummary
    masked: bool
    subject: dict[str, Any] | None
    findings: list[dict[str, Any]]
    text_views: list[presentation.FieldView]
    structured: list[tuple[str, str, tuple[int, ...]]]
    history: list[AuditEntry]
    case_members: list[AlertSummary] = field(default_factory=list)

    def to_dict(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "alert": self.alert.to_dict(now),
            "masked": self.masked,
            "subject": self.subject,
            "findings": self.findings,
            "highlights": [
                {"field": v.path, "segments": [{"text": s.text, "findings": list(s.marks)} for s in v.segments]}
                for v in self.text_views
            ],
            "history": [h.to_dict() for h in self.history],
            "case_members": [m.id for m in self.case_members],
        }
