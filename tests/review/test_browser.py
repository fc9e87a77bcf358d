"""The review UI in headless Chromium (Debian's, driven by Playwright): what a reviewer and a supervisor do."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from review.events import MemoryPublisher
from review.queue import ReviewQueue
from review.web import ReviewServer, WebConfig, create_app
from tests import conftest as shared
from tests.review import samples
from tests.review.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000  # generous: a busy 2-core machine; every wait is on a condition
DISPLAY_NAMES = {"rev": "审核员甲", "sup": "主管"}
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for the session; its driver process is registered as a session child for the leak check."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium")
    before = shared.child_processes()
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS)
    except Exception:
        playwright.stop()
        raise
    ours = shared.child_processes() - before
    shared._SESSION_CHILDREN.update(ours)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()
        shared._SESSION_CHILDREN.difference_update(ours)


@pytest.fixture
def site(web_queue: ReviewQueue) -> Iterator[str]:
    app = create_app(web_queue, WebConfig(secret_key="browser-test"), MemoryPublisher())
    with ReviewServer(app, "127.0.0.1", 0) as server:
        yield server.url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Page, site: str, username: str) -> None:
    page.goto(f"{site}/queue")
    expect(page).to_have_url(f"{site}/login?next=/queue")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{site}/queue")
    expect(page.locator("#whoami")).to_contain_text(DISPLAY_NAMES[username])


def test_reviewer_filters_opens_an_alert_sees_the_evidence_confirms_and_sees_the_history(
    page: Page, site: str, web_queue: ReviewQueue
) -> None:
    ids = samples.alert_ids(web_queue)
    log_in(page, site, "rev")
    expect(page.locator("#total")).to_have_text("6")

    page.locator("select[name=city]").select_option("苏州")
    page.locator("select[name=rule]").select_option("fake_recruitment.fee_demand")
    page.locator("#apply-filters").click()
    expect(page).to_have_url(
        f"{site}/queue?status=&category=&rule=fake_recruitment.fee_demand&severity=&city=%E8%8B%8F%E5%B7%9E&source=&agency=&date_from=&date_to=&assignee=&sort=severity"
    )
    rows = page.locator("#queue tbody tr[data-alert-id]")
    expect(rows).to_have_count(3)
    page.locator("select[name=source]").select_option("BOSS直聘")
    page.locator("#apply-filters").click()
    expect(rows).to_have_count(1)
    row = page.locator(f'tr[data-alert-id="{ids["p-dup-b"]}"]')
    expect(row).to_contain_text("相似招聘 2 条")  # grouped with its copy from another source

    row.locator("a.title").click()
    expect(page).to_have_url(f"{site}/alerts/{ids['p-dup-b']}")
    description = page.locator('.text[data-field="description"]')
    marks = description.locator("mark.ev")
    expect(marks).to_have_count(3)
    expect(marks.nth(0)).to_contain_text("只招男性")
    expect(marks.nth(1)).to_contain_text("需缴纳")
    expect(marks.nth(2)).to_contain_text("服装费")
    # Highlighted in place: the marks sit inside the posting text, in order, around the right words.
    text = description.inner_text()
    assert text.index("只招男性") < text.index("需缴纳") < text.index("服装费")
    expect(page.locator("#findings")).to_contain_text("就业促进法")

    page.locator("#action-confirm").click()
    expect(page.locator("#alert-status")).to_have_attribute("data-status", "confirmed")
    expect(page.locator(".flash.ok")).to_contain_text("确认违规")
    confirm_row = page.locator('#history tr[data-action="confirm"]')
    expect(confirm_row).to_contain_text("rev")
    expect(confirm_row).to_contain_text("待处理 → 已确认")
    expect(page.locator('#history tr[data-action="view"]').first).to_contain_text("rev")
    expect(page.locator("#action-confirm")).to_have_count(0)
    expect(page.locator("#action-escalate")).to_be_visible()


def test_a_reviewer_cannot_unmask_or_reach_admin_pages(page: Page, site: str, web_queue: ReviewQueue) -> None:
    ids = samples.alert_ids(web_queue)
    log_in(page, site, "rev")
    expect(page.get_by_role("link", name="用户管理")).to_have_count(0)
    expect(page.get_by_role("link", name="审计日志")).to_have_count(0)

    page.goto(f"{site}/alerts/{ids['p-idcard']}")
    expect(page.locator("#masked-note")).to_be_visible()
    expect(page.locator("#unmask")).to_have_count(0)
    marks = page.locator('.text[data-field="description"] mark.ev')
    expect(marks).to_have_count(2)
    expect(marks.nth(0)).to_contain_text("110105********1232")
    assert samples.ID_A not in page.content() and samples.PHONE not in page.content()

    # Posting the unmask form by hand (with a valid CSRF token) is refused too.
    status = page.evaluate(
        """async (url) => {
            const token = document.querySelector('input[name=csrf_token]').value;
            const body = new URLSearchParams({csrf_token: token, reason: "想看"});
            const answer = await fetch(url, {method: "POST", body});
            return answer.status;
        }""",
        f"/alerts/{ids['p-idcard']}/unmask",
    )
    assert status == 403
    for admin in ("/admin/users", "/admin/audit"):
        answer = page.goto(f"{site}{admin}")
        assert answer is not None and answer.status == 403
        expect(page.locator("#error")).to_contain_text("无权访问")


def test_a_supervisor_unmasks_with_a_reason_and_the_audit_trail_shows_it(
    page: Page, site: str, web_queue: ReviewQueue
) -> None:
    ids = samples.alert_ids(web_queue)
    log_in(page, site, "sup")
    page.goto(f"{site}/alerts/{ids['p-idcard']}")
    page.locator("#unmask input[name=reason]").fill("移送公安机关核查")
    page.locator("#unmask-button").click()
    expect(page.locator("#unmasked-banner")).to_be_visible()
    expect(page.locator('.text[data-field="description"] mark.ev').nth(0)).to_contain_text(samples.ID_A)
    page.get_by_role("link", name="审计日志").click()
    unmask = page.locator('#audit tr[data-action="unmask"]')
    expect(unmask).to_have_count(1)
    expect(unmask).to_contain_text("移送公安机关核查")
    expect(unmask).to_contain_text(f"预警 #{ids['p-idcard']}")
