"""Browser tests: the main flows clicked through in Debian's chromium, driven by Playwright's sync API.

Every page visited is checked for console errors and Content-Security-Policy violations, every step
leaves a full-page screenshot in test-artifacts/screenshots/, and each test ends by checking what the
database holds. Run only these with `pytest -m browser`.
"""

import importlib
import re

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import translation
from playwright.sync_api import expect, sync_playwright

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.conftest import PASSWORD
from xiaobao.tests.browser_support import CHROMIUM, CHROMIUM_ARGS, PageWatch, Steps

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed: apt-get install chromium"
    ),
]

PHONE, PHONE_MASKED = "13812345678", "138****5678"


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an asyncio loop running in this thread, and Django refuses ORM calls
    # from a thread with a running loop. The tests are plain sync code, so lift the guard for this module only.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        expect.set_options(timeout=30_000)  # a loaded CI machine on PostgreSQL is slower than a laptop
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def audit_log_flushable(transactional_db):
    """The audit table refuses DELETE through a trigger. On PostgreSQL the flush after a transactional
    test uses TRUNCATE, which row triggers do not see; SQLite's flush deletes row by row and would abort.
    So on SQLite, empty the table with the trigger lifted, then put the migration's trigger back."""
    yield
    if connection.vendor != "sqlite":
        return
    append_only = importlib.import_module("xiaobao.audit.migrations.0002_append_only")
    with connection.schema_editor() as editor:
        append_only.backwards(None, editor)
        editor.execute(f"DELETE FROM {AuditEntry._meta.db_table}")
        append_only.forwards(None, editor)


@pytest.fixture
def page(browser, live_server, audit_log_flushable):
    # A Chinese browser, as the users have: with chromium's default en-US the locale middleware would pick English.
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def watch(page):
    return PageWatch(page)


@pytest.fixture
def shot(page, watch, request):
    """shot("step"): check the page for console errors and CSP violations, and save a screenshot."""
    return Steps(page, watch, request.node.name)


def log_in(page, watch, username, password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    watch.check()
    page.get_by_role("button", name="登录", exact=True).click()


def test_the_officer_logs_in_with_the_form_and_lands_on_the_desk(page, watch, shot, personas):
    officer = personas[(Role.OFFICER, "inside")]
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    shot("login-form")

    log_in(page, watch, officer.username)

    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(page.get_by_test_id("current-user")).to_contain_text(f"{officer.username} · 甲中心支公司")
    expect(page.locator(".mainnav a[aria-current=page]")).to_have_text("工作台")
    shot("desk")
    assert list(AuditEntry.objects.values_list("action", "actor__username", "unit_code")) == [
        ("login", officer.username, "C1")
    ]
    assert Session.objects.count() == 1


def test_a_wrong_password_is_refused_in_chinese(page, watch, shot, personas):
    officer = personas[(Role.OFFICER, "inside")]
    log_in(page, watch, officer.username, "wrong-password")

    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_label("用户名", exact=True)).to_have_value(officer.username)
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    shot("wrong-password")
    entry = AuditEntry.objects.get()
    assert entry.action == "login_failed" and entry.actor_name == officer.username
    assert "wrong-password" not in str(entry.details)
    assert not Session.objects.exists()


def english(*sources: str) -> dict[str, str]:
    """What the en catalog makes of each Chinese source string (the source itself while untranslated)."""
    with translation.override("en"):
        return {source: translation.gettext(source) for source in sources}


def test_the_language_switch_turns_the_interface_english_and_back(page, watch, shot, personas):
    officer = personas[(Role.OFFICER, "inside")]
    log_in(page, watch, officer.username)
    html, nav = page.locator("html"), page.locator("nav.mainnav")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(nav.get_by_role("link", name="工作台")).to_be_visible()

    page.get_by_test_id("lang-en").click()

    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("lang-zh-hans")).to_have_text("中文")
    # Only strings the en catalog already translates can be asserted; while it is being filled in,
    # an untranslated label still shows in Chinese.
    for source, label in english("工作台", "客户", "投诉与工单").items():
        if label != source:
            expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
            expect(nav).not_to_contain_text(source)
    shot("english")
    assert {c["name"]: c["value"] for c in page.context.cookies()}["django_language"] == "en"

    page.get_by_test_id("lang-zh-hans").click()

    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(nav.get_by_role("link", name="工作台")).to_be_visible()
    expect(page.get_by_test_id("lang-en")).to_have_text("English")
    shot("chinese-again")
    assert {c["name"]: c["value"] for c in page.context.cookies()}["django_language"] == "zh-hans"


def test_the_officer_reveals_a_phone_number_with_a_reason_and_the_audit_log_shows_it(
    page, watch, shot, personas, customer
):
    officer = personas[(Role.OFFICER, "inside")]
    log_in(page, watch, officer.username)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    page.goto(f"/customers/{customer.pk}/")
    phone = page.locator("#pd-phone")
    expect(page.get_by_test_id("masked-phone")).to_have_text(PHONE_MASKED)
    expect(page.locator("body")).not_to_contain_text(PHONE)
    shot("masked")

    page.get_by_test_id("reveal-phone").filter(has_text="查看完整信息").click()
    reason = page.get_by_test_id("reveal-reason")
    expect(reason).to_be_visible()
    expect(reason).to_have_attribute("placeholder", re.compile("查看原因"))
    shot("reason-form")

    page.get_by_test_id("reveal-submit").click()
    expect(phone.get_by_role("alert")).to_have_text("请填写查看原因")
    reason.fill("看看")
    page.get_by_test_id("reveal-submit").click()
    expect(phone.get_by_role("alert")).to_have_text("查看原因至少 4 个字")
    expect(page.get_by_test_id("revealed-phone")).to_have_count(0)
    shot("reason-too-short")
    assert not AuditEntry.objects.filter(action="reveal").exists()

    why = "客户来电要求核实预留手机号"
    reason.fill(why)
    page.get_by_test_id("reveal-submit").click()
    expect(page.get_by_test_id("revealed-phone")).to_have_text(PHONE)
    expect(phone).to_contain_text("已记录本次查看")
    expect(page.get_by_test_id("masked-name")).to_have_text("张*三")  # the other fields stay masked
    shot("revealed")
    entry = AuditEntry.objects.get(action="reveal")
    assert (entry.actor, entry.object_id, entry.unit_code) == (officer, str(customer.pk), "C1")
    assert entry.details == {"field": "phone", "reason": why}
    assert PHONE not in str(entry.details)

    page.goto("/audit/")
    rows = page.get_by_test_id("audit-table").locator("tbody tr").filter(has_text="查看个人信息")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(why)
    expect(rows).to_contain_text(officer.username)
    expect(rows).not_to_contain_text(PHONE)
    shot("audit-log")


def test_a_handler_of_another_unit_gets_the_not_found_page(page, watch, shot, personas, customer):
    stranger = personas[(Role.HANDLER, "outside")]
    log_in(page, watch, stranger.username)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    # Chromium reports the 404 of the document itself on the console; that one is the point of the test.
    watch.expect_console_error(rf"status of 404 .*/customers/{customer.pk}/\)$")

    response = page.goto(f"/customers/{customer.pk}/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    expect(page.locator("body")).not_to_contain_text(PHONE_MASKED)
    content = page.content()
    assert PHONE_MASKED not in content and customer.name_masked not in content and "5678" not in content
    shot("not-found")
    assert page.request.get(f"/customers/{customer.pk}/reveal/phone/").status == 404
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_an_auditor_sees_the_customer_but_no_reveal_button(page, watch, shot, personas, customer):
    auditor = personas[(Role.AUDITOR, "inside")]
    log_in(page, watch, auditor.username)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")

    page.goto(f"/customers/{customer.pk}/")

    expect(page.get_by_role("heading", level=1)).to_have_text(f"客户 #{customer.pk}")
    expect(page.get_by_test_id("masked-phone")).to_have_text(PHONE_MASKED)
    expect(page.get_by_text("查看完整信息")).to_have_count(0)
    expect(page.get_by_test_id("reveal-phone")).to_have_count(0)
    shot("no-reveal-button")
    assert not AuditEntry.objects.filter(action="reveal").exists()
