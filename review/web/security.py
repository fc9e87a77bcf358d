"""Web security: sessions, who is logged in, CSRF checks, request body limits, response headers, login throttling."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from review.auth import csrf_matches, new_csrf_token
from review.queue import Actor, ReviewQueue

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class WebConfig:
    """What the web app needs besides the queue (built from settings by the composition root)."""

    secret_key: str = ""
    cookie_secure: bool = False
    session_hours: float = 8.0
    max_body_bytes: int = 64 * 1024
    login_attempts: int = 5  # failures per username and client within `login_window` before a pause
    login_window: float = 300.0

    def secret(self) -> str:
        return self.secret_key or secrets.token_urlsafe(32)


class NeedLogin(Exception):
    """No valid session: pages redirect to /login, the API answers 401."""


class ApiError(Exception):
    """A 4xx answer with a stable code and a message, as JSON (API) or an error page (HTML)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use, also before login so the login form carries one)."""
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return str(token)


def current_actor(request: Request) -> Actor:
    """The logged-in user, re-read from the store on every request (a deactivated account is out at once)."""
    queue: ReviewQueue = request.app.state.queue
    config: WebConfig = request.app.state.config
    uid, since = request.session.get("uid"), request.session.get("login_at")
    if not isinstance(uid, int) or not isinstance(since, int | float):
        raise NeedLogin()
    if time.time() - since > config.session_hours * 3600:
        request.session.clear()
        raise NeedLogin()
    actor = queue.actor(uid)
    if actor is None:
        request.session.clear()
        raise NeedLogin()
    return actor.at(client_of(request))


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token: header X-CSRF-Token, or form field csrf_token."""
    if request.method not in UNSAFE_METHODS:
        return
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not csrf_matches(request.session.get("csrf"), given):
        raise ApiError(403, "csrf_failed", "missing or wrong CSRF token; reload the page and try again")


class LoginThrottle:
    """Counts failed logins per (username, client); after too many, refuses for the rest of the window."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, username: str, client: str | None) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get((username, client or ""), []) if now - t < self.window]
            self._failures[(username, client or "")] = recent
            return len(recent) >= self.attempts

    def failed(self, username: str, client: str | None) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # bounded memory under a spray of usernames
                self._failures.clear()
            self._failures.setdefault((username, client or ""), []).append(time.monotonic())

    def succeeded(self, username: str, client: str | None) -> None:
        with self._lock:
            self._failures.pop((username, client or ""), None)


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes gets 413 before any handler parses it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await _too_large(send, self.limit)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    payload = orjson.dumps(
        {"error": {"code": "body_too_large", "message": f"request body is larger than {limit} bytes"}}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def security_headers(nonce: str) -> dict[str, str]:
    """Headers on every response: no framing, no sniffing, no caching of personal data, a strict CSP."""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def with_headers(app: Any) -> Callable[[Request, Callable[[Request], Awaitable[Any]]], Awaitable[Any]]:
    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        request.state.nonce = secrets.token_urlsafe(16)
        response = await call_next(request)
        for name, value in security_headers(request.state.nonce).items():
            response.headers.setdefault(name, value)
        return response

    return middleware
