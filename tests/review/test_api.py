"""The web app's boundary: authentication everywhere but /login and /healthz, CSRF, roles, and bad input → 4xx."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from review.events import MemoryPublisher
from review.queue import ReviewQueue
from review.web import WebConfig, create_app
from tests.review import samples
from tests.review.webclient import form_token, login

PUBLIC = {"/login", "/healthz"}


@pytest.fixture
def app_and_events(web_queue: ReviewQueue) -> tuple[object, MemoryPublisher]:
    publisher = MemoryPublisher()
    return create_app(web_queue, WebConfig(secret_key="test-secret", max_body_bytes=4096), publisher), publisher


@pytest.fixture
def client(app_and_events: tuple[object, MemoryPublisher]) -> Iterator[TestClient]:
    # Server errors come back as responses, so a test can assert that none is a 500.
    with TestClient(app_and_events[0], raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c


@pytest.fixture
def ids(web_queue: ReviewQueue) -> dict[str, int]:
    return samples.alert_ids(web_queue)


def test_nothing_but_login_and_health_is_open_to_anonymous_callers(client: TestClient) -> None:
    routes = []
    for entry in client.app.routes:  # type: ignore[attr-defined]
        # FastAPI keeps an included router as one entry that points at the router it came from.
        inner = getattr(getattr(entry, "original_router", None), "routes", [entry])
        routes.extend(r for r in inner if isinstance(r, Route))
    assert len(routes) > 20
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods or ():
            if method == "HEAD":
                continue
            answer = client.request(method, path, follow_redirects=False)
            if route.path in PUBLIC:
                assert answer.status_code < 400 or (route.path == "/login" and answer.status_code == 403)
            elif path.startswith("/api/"):
                assert answer.status_code == 401, (method, path, answer.status_code)
                assert answer.json()["error"]["code"] == "not_authenticated"
            else:
                assert answer.status_code in (303, 401, 403), (method, path, answer.status_code)
                if answer.status_code == 303:
                    assert answer.headers["location"].startswith("/login")
    assert client.get("/healthz").json() == {"status": "ok"}
    for hidden in ("/docs", "/openapi.json", "/redoc"):
        assert client.get(hidden).status_code in (303, 404)


def test_responses_carry_security_headers(client: TestClient) -> None:
    page = client.get("/login")
    assert "nonce-" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_login_needs_csrf_rotates_the_session_and_throttles_guessing(client: TestClient) -> None:
    bad = client.post("/login", data={"username": "rev", "password": "x" * 12})
    assert bad.status_code == 403
    before = form_token(client)
    token = login(client, "rev")
    assert token != before
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/api/session").status_code == 401
    del client.headers["X-CSRF-Token"]
    for _ in range(5):
        wrong = client.post(
            "/login", data={"username": "rev2", "password": "wrong-password", "csrf_token": form_token(client)}
        )
        assert wrong.status_code == 401
    blocked = client.post(
        "/login", data={"username": "rev2", "password": "correct-horse-battery", "csrf_token": form_token(client)}
    )
    assert blocked.status_code == 429
    assert (
        client.post(
            "/login",
            data={"username": "x", "password": "y", "csrf_token": form_token(client), "next": "//evil.example/"},
            follow_redirects=False,
        ).status_code
        == 401
    )


def test_open_redirects_are_refused(client: TestClient) -> None:
    answer = client.post(
        "/login",
        data={
            "username": "rev",
            "password": "correct-horse-battery",
            "csrf_token": form_token(client),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/queue"


def test_state_changes_need_the_csrf_token(client: TestClient, ids: dict[str, int]) -> None:
    token = login(client, "rev")
    del client.headers["X-CSRF-Token"]
    url = f"/api/alerts/{ids['p-gender']}/decision"
    assert client.post(url, json={"action": "confirm"}).json()["error"]["code"] == "csrf_failed"
    assert client.post(url, json={"action": "confirm"}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    form = client.post(f"/alerts/{ids['p-gender']}/decide", data={"action": "confirm"})
    assert form.status_code == 403
    assert client.post(url, json={"action": "confirm"}, headers={"X-CSRF-Token": token}).status_code == 200


def test_a_decision_through_the_api_is_published(
    app_and_events: tuple[object, MemoryPublisher], client: TestClient, ids: dict[str, int]
) -> None:
    import time

    login(client, "rev")
    answer = client.post(
        f"/api/alerts/{ids['p-dup-a']}/decision",
        json={"action": "dismiss", "reason": "duplicate", "note": "与 BOSS直聘 重复"},
    )
    assert answer.status_code == 200 and answer.json()["status"] == "dismissed"
    publisher = app_and_events[1]
    deadline = time.monotonic() + 20
    while not publisher.events and time.monotonic() < deadline:
        time.sleep(0.02)  # polling interval while waiting on the condition "relay published"
    assert [e["decision"] for e in publisher.events] == ["dismiss"]
    assert publisher.keys == [str(ids["p-dup-a"])]
    history = client.get(f"/api/alerts/{ids['p-dup-a']}/history").json()["history"]
    assert history[-1]["detail"] == {
        "from": "new",
        "to": "dismissed",
        "reason": "duplicate",
        "note": "与 BOSS直聘 重复",
    }


def test_roles(client: TestClient, ids: dict[str, int]) -> None:
    alert = ids["p-idcard"]
    login(client, "rev")
    assert client.post(f"/api/alerts/{alert}/unmask", json={"reason": "核查"}).status_code == 403
    assert client.get("/api/audit").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert samples.ID_A not in client.get(f"/api/alerts/{alert}").text
    assert samples.ID_A not in client.get(f"/alerts/{alert}").text
    login(client, "aud")
    assert client.post(f"/api/alerts/{alert}/decision", json={"action": "confirm"}).status_code == 403
    assert client.get("/api/audit").status_code == 200
    assert client.get("/admin/users").status_code == 403
    login(client, "sup")
    clear = client.post(f"/api/alerts/{alert}/unmask", json={"reason": "移送公安"})
    assert clear.status_code == 200 and samples.ID_A in clear.text
    entries = client.get("/api/audit", params={"action": "unmask"}).json()["entries"]
    assert entries[0]["actor"] == "sup" and entries[0]["detail"] == {"reason": "移送公安"}


BAD_REQUESTS = [
    # (method, path, json body or raw bytes, expected status, error code)
    ("GET", "/api/alerts/999999", None, 404, "alert_not_found"),
    ("GET", "/api/alerts/0", None, 422, "invalid_request"),
    ("GET", "/api/alerts/-5", None, 422, "invalid_request"),
    ("GET", "/api/alerts/99999999999999999999", None, 422, "invalid_request"),
    ("GET", "/api/alerts/abc", None, 422, "invalid_request"),
    ("GET", "/api/cases/424242", None, 404, "case_not_found"),
    ("GET", "/api/nothing-here", None, 404, "not_found"),
    ("GET", "/api/alerts?status=bogus", None, 422, "invalid_filter"),
    ("GET", "/api/alerts?category=weather", None, 422, "invalid_filter"),
    ("GET", "/api/alerts?date_from=2026-13-45", None, 422, "invalid_request"),
    ("GET", "/api/alerts?per_page=0", None, 422, "invalid_request"),
    ("GET", "/api/alerts?page=100000000", None, 422, "invalid_request"),
    ("GET", "/api/alerts?city=%00", None, 422, "invalid_text"),
    ("GET", "/api/alerts?city=" + "长" * 201, None, 422, "invalid_request"),
    ("GET", "/api/alerts?case=x", None, 422, "invalid_request"),
    ("GET", "/api/audit?before=-1", None, 422, "invalid_request"),
    ("GET", "/api/audit", None, 403, "forbidden"),
    ("POST", "/api/alerts/999999/decision", {"action": "confirm"}, 404, "alert_not_found"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "approve"}, 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "dismiss"}, 422, "reason_required"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "dismiss", "reason": "bored"}, 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "confirm", "reason": "duplicate"}, 422, "unexpected_reason"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "escalate"}, 409, "invalid_transition"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "confirm", "extra": 1}, 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "confirm", "note": "a\x00b"}, 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "confirm", "note": "x" * 4001}, 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "confirm", "version": 99}, 409, "stale"),
    ("POST", "/api/alerts/{gender}/decision", {"action": 7}, 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/decision", [1, 2], 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/decision", b'{"action": "confirm"', 400, "malformed_json"),
    ("POST", "/api/alerts/{gender}/decision", b"\xff\xfe\x00garbage", 400, "malformed_json"),
    ("POST", "/api/alerts/{gender}/decision", b"", 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/decision", {"action": "confirm", "note": "x" * 5000}, 413, "body_too_large"),
    ("POST", "/api/alerts/{gender}/assign", {"assignee": "rev2"}, 403, "forbidden"),
    ("POST", "/api/alerts/{gender}/assign", {"assignee": "x" * 65}, 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/notes", {"body": ""}, 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/notes", {"body": "   "}, 422, "invalid_request"),
    ("POST", "/api/alerts/bulk", {"ids": [], "action": "confirm"}, 422, "invalid_request"),
    ("POST", "/api/alerts/bulk", {"ids": list(range(1, 502)), "action": "confirm"}, 422, "invalid_request"),
    ("POST", "/api/alerts/bulk", {"ids": list(range(10**6, 10**6 + 600)), "action": "confirm"}, 413, "body_too_large"),
    ("POST", "/api/alerts/bulk", {"ids": [2**40], "action": "confirm"}, 422, "invalid_request"),
    ("POST", "/api/alerts/bulk", {"ids": [1], "action": "delete"}, 422, "invalid_request"),
    ("POST", "/api/alerts/{gender}/unmask", {"reason": "核查"}, 403, "forbidden"),
    ("PUT", "/api/alerts/{gender}/decision", {"action": "confirm"}, 405, "method_not_allowed"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    BAD_REQUESTS,
    ids=[f"{m} {p[:40]} {s}" for m, p, _b, s, _c in BAD_REQUESTS],
)
def test_bad_input_gets_a_clear_4xx(
    client: TestClient, ids: dict[str, int], method: str, path: str, body: object, status: int, code: str
) -> None:
    login(client, "rev")
    path = path.replace("{gender}", str(ids["p-gender"]))
    if isinstance(body, bytes):
        answer = client.request(method, path, content=body, headers={"content-type": "application/json"})
    elif body is None:
        answer = client.request(method, path)
    else:
        answer = client.request(method, path, json=body)
    assert answer.status_code == status, answer.text[:300]
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]


def test_oversized_chunked_bodies_and_wrong_media_types_are_refused(client: TestClient, ids: dict[str, int]) -> None:
    login(client, "rev")
    url = f"/api/alerts/{ids['p-gender']}/decision"

    def chunks() -> Iterator[bytes]:
        yield b'{"action": "confirm", "note": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    assert client.post(url, content=chunks(), headers={"content-type": "application/json"}).status_code == 413
    form = client.post(url, data={"action": "confirm"})
    assert form.status_code == 415 and form.json()["error"]["code"] == "unsupported_media_type"


def test_bulk_and_queue_listing(client: TestClient, ids: dict[str, int]) -> None:
    login(client, "rev")
    listing = client.get("/api/alerts", params={"city": "苏州", "sort": "newest"}).json()
    assert listing["total"] == 3
    assert all(item["city"] == "苏州" for item in listing["items"])
    result = client.post(
        "/api/alerts/bulk",
        json={"ids": [ids["p-dup-a"], ids["p-dup-b"], 999999], "action": "dismiss", "reason": "false_positive"},
    ).json()
    assert sorted(result["done"]) == sorted([ids["p-dup-a"], ids["p-dup-b"]])
    assert result["failed"] == [{"id": 999999, "code": "alert_not_found", "message": "no alert 999999"}]
    case = listing["items"][0]["case"]
    assert client.get(f"/api/cases/{case['id']}").json()["count"] >= 2
    options = client.get("/api/options").json()
    assert "苏州" in options["cities"] and "discrimination.gender" in options["rules"]


def test_html_pages_answer_bad_input_with_4xx_pages(client: TestClient, ids: dict[str, int]) -> None:
    token = login(client, "rev")
    assert client.get("/alerts/999999").status_code == 404
    assert client.get("/alerts/abc").status_code == 422
    assert client.get("/queue?status=bogus").status_code == 422
    assert client.get("/queue?date_from=yesterday").status_code == 422
    assert client.get("/cases/999").status_code == 404
    bad = client.post(
        f"/alerts/{ids['p-gender']}/decide", data={"action": "escalate", "csrf_token": token}, follow_redirects=True
    )
    assert bad.status_code == 200 and "cannot escalate" in bad.text  # shown as a message on the alert page
    bulk = client.post("/queue/bulk", data={"action": "confirm", "ids": ["abc"], "csrf_token": token})
    assert bulk.status_code == 422


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(["action", "reason", "note", "partners", "version", "ids", "assignee", "body", "x"]),
                inner,
                max_size=5,
            )
        ),
        max_leaves=12,
    )
)
def test_no_json_body_makes_a_server_error(client: TestClient, ids: dict[str, int], body: object) -> None:
    if "X-CSRF-Token" not in client.headers:
        login(client, "sup")
    alert = ids["p-agency-1"]
    for path in (
        f"/api/alerts/{alert}/decision",
        "/api/alerts/bulk",
        f"/api/alerts/{alert}/assign",
        f"/api/alerts/{alert}/notes",
        f"/api/alerts/{alert}/unmask",
    ):
        answer = client.post(path, json=body)
        assert answer.status_code < 500, (path, body, answer.text[:300])
        # JSON's non-standard NaN/Infinity, which the test client will not encode itself.
        raw = client.post(path, content=b'{"action": NaN, "reason": Infinity}', headers={"Content-Type": "application/json"})
        assert raw.status_code < 500, (path, raw.text[:300])
