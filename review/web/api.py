"""The REST API under /api: JSON in and out, session cookie + X-CSRF-Token header, 4xx errors as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from review.lifecycle import DISMISS_REASONS
from review.queue import Actor, QueueFilter, ReviewQueue
from review.web.security import ApiError, check_csrf, csrf_token, current_actor

MAX_ID = 2_147_483_647  # alert ids are 32-bit integers in the store
AlertId = Annotated[int, Path(ge=1, le=MAX_ID, description="alert id")]


async def json_only(request: Request) -> None:
    """State-changing API calls take JSON bodies only (a form post cannot reach them cross-site)."""
    if request.method == "POST" and not request.headers.get("content-type", "").startswith("application/json"):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")


# Order matters: who you are (401) before what you sent (415, 403 CSRF).
router = APIRouter(prefix="/api", dependencies=[Depends(current_actor), Depends(json_only), Depends(check_csrf)])
User = Annotated[Actor, Depends(current_actor)]


def queue_of(request: Request) -> ReviewQueue:
    return request.app.state.queue


def now_of(request: Request) -> dt.datetime:
    return queue_of(request).clock()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


# Which partners exist is the queue's (the sharing policy's) business; it rejects others, naming the allowed ones.
PartnerName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class DecisionIn(_Body):
    action: Literal["start", "confirm", "dismiss", "escalate", "share", "reopen"]
    reason: Literal["false_positive", "duplicate", "out_of_scope"] | None = None
    note: str | None = Field(default=None, max_length=4000)
    partners: list[PartnerName] = Field(default_factory=list, max_length=32)
    version: int | None = Field(default=None, ge=1, le=MAX_ID)


class AssignIn(_Body):
    assignee: str | None = Field(default=None, max_length=64)


class NoteIn(_Body):
    body: str = Field(min_length=1, max_length=4000)


class UnmaskIn(_Body):
    reason: str = Field(min_length=2, max_length=500)


class BulkIn(_Body):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=500)
    action: Literal["assign", "start", "confirm", "dismiss", "escalate", "share", "reopen"]
    reason: Literal["false_positive", "duplicate", "out_of_scope"] | None = None
    assignee: str | None = Field(default=None, max_length=64)
    partners: list[PartnerName] = Field(default_factory=list, max_length=32)


Text = Annotated[str | None, Query(max_length=200)]


def queue_filter(
    status: Annotated[list[str] | None, Query(max_length=6)] = None,
    category: Text = None,
    rule: Text = None,
    severity: Text = None,
    city: Text = None,
    source: Text = None,
    agency: Text = None,
    assignee: Text = None,
    date_from: Text = None,
    date_to: Text = None,
    case: Text = None,
    sort: Literal["severity", "age", "newest", "due"] = "severity",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> QueueFilter:
    """Query parameters → QueueFilter. Empty values mean "any" (HTML forms send them); `status=all` (or
    several `status=`) widens the default of open statuses."""
    statuses: tuple[str, ...] = ("new", "in_review")
    chosen = [s for s in status or () if s]
    if chosen:
        statuses = () if "all" in chosen else tuple(chosen)
    case_id = None
    if case:
        if not case.isdigit() or not 1 <= int(case) <= MAX_ID:
            raise ApiError(422, "invalid_request", "case: must be a case id")
        case_id = int(case)
    return QueueFilter(
        status=statuses,
        category=category or None,
        rule=rule or None,
        severity=severity or None,
        city=city or None,
        source=source or None,
        agency=agency or None,
        assignee=assignee or None,
        date_from=_date("date_from", date_from),
        date_to=_date("date_to", date_to),
        case_id=case_id,
        sort=sort,
        page=page,
        per_page=per_page,
    )


def _date(name: str, value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "invalid_request", f"{name}: expected a date YYYY-MM-DD, got {value[:20]!r}") from None


@router.get("/session")
def session_info(request: Request, user: User) -> dict[str, Any]:
    """Who is logged in, and the CSRF token to send as X-CSRF-Token."""
    return {
        "username": user.username,
        "role": user.role,
        "display_name": user.display_name,
        "csrf_token": csrf_token(request),
    }


@router.get("/alerts")
def list_alerts(request: Request, user: User, f: Annotated[QueueFilter, Depends(queue_filter)]) -> dict[str, Any]:
    page = queue_of(request).list_alerts(f, user)
    now = now_of(request)
    return {
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "pages": page.pages,
        "items": [a.to_dict(now) for a in page.items],
    }


@router.get("/alerts/{alert_id}")
def get_alert(request: Request, user: User, alert_id: AlertId) -> dict[str, Any]:
    return queue_of(request).detail(alert_id, user).to_dict(now_of(request))


@router.get("/alerts/{alert_id}/history")
def alert_history(request: Request, user: User, alert_id: AlertId) -> dict[str, Any]:
    return {"history": [h.to_dict() for h in queue_of(request).history(alert_id)]}


@router.post("/alerts/{alert_id}/decision")
def decide(request: Request, user: User, alert_id: AlertId, body: DecisionIn) -> dict[str, Any]:
    summary = queue_of(request).decide(
        alert_id,
        body.action,
        user,
        reason=body.reason,
        note=body.note,
        partners=body.partners,
        expected_version=body.version,
    )
    return summary.to_dict(now_of(request))


@router.post("/alerts/{alert_id}/assign")
def assign(request: Request, user: User, alert_id: AlertId, body: AssignIn) -> dict[str, Any]:
    assignee = user.username if body.assignee == "me" else body.assignee
    return queue_of(request).assign(alert_id, assignee, user).to_dict(now_of(request))


@router.post("/alerts/{alert_id}/notes", status_code=201)
def add_note(request: Request, user: User, alert_id: AlertId, body: NoteIn) -> dict[str, Any]:
    queue_of(request).add_note(alert_id, body.body, user)
    return {"ok": True}


@router.post("/alerts/{alert_id}/unmask")
def unmask(request: Request, user: User, alert_id: AlertId, body: UnmaskIn) -> dict[str, Any]:
    """The alert with personal data in clear (supervisors; audited with the stated reason)."""
    return queue_of(request).detail(alert_id, user, unmask=True, reason=body.reason).to_dict(now_of(request))


@router.post("/alerts/bulk")
def bulk(request: Request, user: User, body: BulkIn) -> dict[str, Any]:
    assignee = user.username if body.assignee == "me" else body.assignee
    return queue_of(request).bulk(
        body.ids, body.action, user, reason=body.reason, assignee=assignee, partners=body.partners
    )


@router.get("/cases/{case_id}")
def get_case(request: Request, user: User, case_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> dict[str, Any]:
    info, members = queue_of(request).case(case_id)
    now = now_of(request)
    return {**info, "alerts": [m.to_dict(now) for m in members]}


@router.get("/options")
def options(request: Request, user: User) -> dict[str, Any]:
    """Values the queue filters accept (cities, sources and rules present; reasons; partners)."""
    queue = queue_of(request)
    return {**queue.filter_options(), "dismiss_reasons": list(DISMISS_REASONS), "partners": list(queue.share_partners)}


@router.get("/audit")
def audit(
    request: Request,
    user: User,
    action: Text = None,
    username: Text = None,
    object_id: Text = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    rows = queue_of(request).audit(
        user, action=action, username=username, object_id=object_id, limit=limit, before=before
    )
    return {"entries": [r.to_dict() for r in rows]}
