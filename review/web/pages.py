"""Server-rendered pages: login, the queue with filters and bulk actions, alert detail, cases, admin pages."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from review.lifecycle import can
from review.queue import Actor, QueueError, QueueFilter, ReviewQueue
from review.web.api import MAX_ID, AlertId, queue_filter
from review.web.security import ApiError, check_csrf, client_of, csrf_token, current_actor

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
User = Annotated[Actor, Depends(current_actor)]
FormText = Annotated[str, Form(max_length=4000)]


def queue_of(request: Request) -> ReviewQueue:
    return request.app.state.queue


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    flashes = request.session.pop("flash", [])
    base = {"user": context.get("user"), "flashes": flashes, "now": queue_of(request).clock()}
    return request.app.state.templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def flash(request: Request, kind: str, message: str) -> None:
    request.session.setdefault("flash", []).append([kind, message[:300]])
    request.session["flash"] = request.session["flash"][-5:]


def back_to(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def safe_next(target: str | None) -> str:
    """Only same-site paths: never `//host` or a scheme, so the login cannot redirect elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target[:2000]


def require(user: Actor, capability: str) -> None:
    if not can(user.role, capability):
        raise ApiError(403, "forbidden", "您的角色无权访问此页面")


# -- login ---------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    csrf_token(request)
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/queue",
) -> Response:
    throttle = request.app.state.throttle
    client = client_of(request)
    if throttle.blocked(username, client):
        return render(request, "login.html", {"next": safe_next(next), "error": "失败次数过多，请稍后再试。"}, 429)
    actor = queue_of(request).authenticate(username, password, client)
    if actor is None:
        throttle.failed(username, client)
        return render(request, "login.html", {"next": safe_next(next), "error": "用户名或密码错误。"}, 401)
    throttle.succeeded(username, client)
    request.session.clear()  # a fresh session (and CSRF token) at login: no fixation
    request.session.update({"uid": actor.id, "login_at": int(time.time())})
    csrf_token(request)
    return back_to(safe_next(next))


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return back_to("/login")


# -- queue ---------------------------------------------------------------------------------------


@router.get("/")
def home(user: User) -> Response:
    return back_to("/queue")


@router.get("/queue")
def queue_page(request: Request, user: User, f: Annotated[QueueFilter, Depends(queue_filter)]) -> Response:
    page = queue_of(request).list_alerts(f, user)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page" and v]
    return render(
        request,
        "queue.html",
        {
            "user": user,
            "page": page,
            "f": f,
            "options": queue_of(request).filter_options(),
            "query": urlencode(params),
            "here": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
            "selected_status": request.query_params.get("status", ""),
        },
    )


@router.post("/queue/bulk")
def bulk(
    request: Request,
    user: User,
    action: Annotated[str, Form(max_length=20)],
    ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI default
    reason: Annotated[str, Form(max_length=30)] = "",
    assignee: Annotated[str, Form(max_length=64)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/queue",
) -> Response:
    try:
        result = queue_of(request).bulk(
            ids, action, user, reason=reason or None, assignee=user.username if assignee in ("", "me") else assignee
        )
    except QueueError as exc:
        flash(request, "error", exc.message)
        return back_to(safe_next(back))
    if result["done"]:
        flash(request, "ok", f"已对 {len(result['done'])} 条预警执行“{action}”。")
    if result["failed"]:
        flash(request, "error", f"{len(result['failed'])} 条未能处理：{result['failed'][0]['message']}")
    return back_to(safe_next(back))


# -- alert ---------------------------------------------------------------------------------------


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, user: User, alert_id: AlertId) -> Response:
    detail = queue_of(request).detail(alert_id, user)
    return render(request, "alert.html", {"user": user, "d": detail, "a": detail.alert})


@router.post("/alerts/{alert_id}/unmask")
def unmask_page(
    request: Request, user: User, alert_id: AlertId, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    detail = queue_of(request).detail(alert_id, user, unmask=True, reason=reason)
    return render(request, "alert.html", {"user": user, "d": detail, "a": detail.alert})


@router.post("/alerts/{alert_id}/decide")
def decide(
    request: Request,
    user: User,
    alert_id: AlertId,
    action: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=30)] = "",
    note: FormText = "",
    partners: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI default
    version: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    try:
        queue_of(request).decide(
            alert_id,
            action,
            user,
            reason=reason or None,
            note=note or None,
            partners=partners,
            expected_version=version,
        )
        flash(request, "ok", "已记录：" + request.app.state.templates.env.globals["ACTION"].get(action, action))
    except QueueError as exc:
        if exc.status == 404:
            raise
        flash(request, "error", exc.message)
    return back_to(f"/alerts/{alert_id}")


@router.post("/alerts/{alert_id}/assign")
def assign(
    request: Request, user: User, alert_id: AlertId, assignee: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    try:
        queue_of(request).assign(alert_id, user.username if assignee == "me" else (assignee or None), user)
        flash(request, "ok", "分派已更新。")
    except QueueError as exc:
        if exc.status == 404 and exc.code == "alert_not_found":
            raise
        flash(request, "error", exc.message)
    return back_to(f"/alerts/{alert_id}")


@router.post("/alerts/{alert_id}/notes")
def add_note(request: Request, user: User, alert_id: AlertId, body: FormText = "") -> Response:
    try:
        queue_of(request).add_note(alert_id, body, user)
        flash(request, "ok", "备注已保存。")
    except QueueError as exc:
        if exc.status == 404:
            raise
        flash(request, "error", exc.message)
    return back_to(f"/alerts/{alert_id}")


@router.get("/cases/{case_id}")
def case_page(request: Request, user: User, case_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
    info, members = queue_of(request).case(case_id)
    return render(request, "case.html", {"user": user, "case": info, "members": members})


# -- admin ---------------------------------------------------------------------------------------


@router.get("/admin/users")
def users_page(request: Request, user: User) -> Response:
    require(user, "manage_users")
    return render(request, "admin_users.html", {"user": user, "users": queue_of(request).users()})


@router.post("/admin/users")
def create_user(
    request: Request,
    user: User,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=20)],
    display_name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    require(user, "manage_users")
    try:
        queue_of(request).create_user(username, password, role, display_name=display_name or None, actor=user)
        flash(request, "ok", f"已创建用户 {username}。")
    except QueueError as exc:
        flash(request, "error", exc.message)
    return back_to("/admin/users")


@router.post("/admin/users/{username}/active")
def set_active(
    request: Request,
    user: User,
    username: Annotated[str, Path(max_length=64)],
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    require(user, "manage_users")
    try:
        queue_of(request).set_user_active(username, active == "1", user)
        flash(request, "ok", f"已更新用户 {username}。")
    except QueueError as exc:
        flash(request, "error", exc.message)
    return back_to("/admin/users")


@router.get("/admin/audit")
def audit_page(
    request: Request, user: User, action: str | None = None, username: str | None = None, object_id: str | None = None
) -> Response:
    require(user, "read_audit")
    entries = queue_of(request).audit(
        user, action=action or None, username=username or None, object_id=object_id or None, limit=300
    )
    return render(
        request,
        "admin_audit.html",
        {
            "user": user,
            "entries": entries,
            "action": action or "",
            "username": username or "",
            "object_id": object_id or "",
        },
    )
