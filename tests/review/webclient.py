"""Logging in through the real login form, and the CSRF token a logged-in client sends."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.review.conftest import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = _TOKEN.search(page.text)
    assert match, f"no CSRF token on {path}: {page.status_code}"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in with the form; returns the session's CSRF token for API calls."""
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_token(client), "next": "/queue"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:500]
    token = client.get("/api/session").json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token
