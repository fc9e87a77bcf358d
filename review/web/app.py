"""The review web app: `create_app(queue, config, publisher)` builds FastAPI with the pages, the REST API and security."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from review import lifecycle, presentation
from review.events import EventRelay, ReviewPublisher
from review.queue import QueueError, ReviewQueue
from review.web.security import ApiError, BodyLimit, LoginThrottle, NeedLogin, WebConfig, csrf_token, with_headers

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def templates(partners: Sequence[str] = lifecycle.PARTNERS) -> Jinja2Templates:
    """Jinja templates with the Chinese labels and display helpers as globals; `partners`: whom `share` offers."""
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.globals.update(
        STATUS=lifecycle.STATUS_LABELS,
        ACTION=lifecycle.ACTION_LABELS,
        REASON=lifecycle.REASON_LABELS,
        SEVERITY=lifecycle.SEVERITY_LABELS,
        CATEGORY=lifecycle.CATEGORY_LABELS,
        ROLE=lifecycle.ROLE_LABELS,
        PARTNER=lifecycle.partner_labels(partners),
        FIELD=presentation.FIELD_LABELS,
        STATUSES=lifecycle.STATUSES,
        SEVERITIES=tuple(lifecycle.SEVERITY_RANK)[::-1],
        CATEGORIES=lifecycle.CATEGORIES,
        DISMISS_REASONS=lifecycle.DISMISS_REASONS,
        PARTNERS=tuple(partners),
        ACTIONS=lifecycle.ACTIONS,
        can=lifecycle.can,
        local_time=presentation.local_time,
        csrf_token=csrf_token,
        stylesheet=(HERE / "static" / "app.css").read_text("utf-8"),
    )
    return t


def create_app(
    queue: ReviewQueue, config: WebConfig | None = None, publisher: ReviewPublisher | None = None
) -> FastAPI:
    """The web UI and REST API over `queue`; with a publisher, a relay drains decision events to it."""
    from review.web import api, pages

    config = config or WebConfig()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay = EventRelay(queue, publisher).start() if publisher is not None else None
        app.state.relay = relay
        try:
            yield
        finally:
            if relay is not None:
                relay.stop()

    # No /docs or /openapi.json: nothing but /login and /healthz is open to anonymous callers.
    app = FastAPI(title="hrwatch review", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.queue = queue
    app.state.config = config
    app.state.templates = templates(queue.share_partners)
    app.state.throttle = LoginThrottle(config.login_attempts, config.login_window)
    app.state.relay = None

    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.secret(),
        session_cookie="hrwatch_session",
        max_age=int(config.session_hours * 3600),
        same_site="lax",
        https_only=config.cookie_secure,
    )
    app.middleware("http")(with_headers(app))

    app.include_router(api.router)
    app.include_router(pages.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            ok = queue.ping()
        except Exception:  # the answer is "not healthy", never a traceback
            ok = False
        return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)

    _install_error_handlers(app)
    return app


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def error_response(request: Request, status: int, code: str, message: str, details: Any = None) -> Response:
    """A 4xx as `{"error": {code, message}}` for the API, or the error page for a browser."""
    if wants_json(request):
        body: dict[str, Any] = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        return JSONResponse({"error": body}, status_code=status)
    t: Jinja2Templates = request.app.state.templates
    return t.TemplateResponse(
        request,
        "error.html",
        {"status": status, "code": code, "message": message, "user": getattr(request.state, "actor", None)},
        status_code=status,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, _exc: NeedLogin) -> Response:
        if wants_json(request):
            return error_response(request, 401, "not_authenticated", "log in first (POST /login)")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(QueueError)
    async def queue_error(request: Request, exc: QueueError) -> Response:
        return error_response(request, exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(request, 400, "malformed_json", "the request body is not valid JSON")
        details = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": str(e.get("msg", ""))[:300]}
            for e in errors[:20]
        ]
        first = details[0] if details else {"where": "request", "problem": "invalid"}
        return error_response(request, 422, "invalid_request", f"{first['where']}: {first['problem']}", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal_error", "internal error; it has been logged")


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
