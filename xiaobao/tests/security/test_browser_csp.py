"""The Content-Security-Policy as chromium enforces it: every page of the product (the permission
matrix's rows, on unit A's records), read by the administrator, reports no CSP violation, no console
error and no uncaught exception; the htmx swaps (the desk's search, the reveal form) run under the
policy too. The world's records carry XSS payloads (world.py): a dialog opened by any of them fails
the test as well. The flows of each app are clicked through in their own browser tests; this one
visits every page once."""

import importlib
import re

import pytest
from django.apps import apps
from django.test import Client
from playwright.sync_api import expect

from xiaobao.accounts.models import Role
from xiaobao.accounts.tests.test_permission_matrix import MATRIX
from xiaobao.tests import test_browser as shared
from xiaobao.tests.browser_support import CHROMIUM, PageWatch
from xiaobao.tests.security import world as w
from xiaobao.tests.security.crawl import is_html, matrix_urls
from xiaobao.tests.test_browser import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed: apt-get install chromium"
    ),
]

# The fixtures of the first browser tests: chromium, a live-server page in a zh-CN browser, the page
# watch, and the audit-table cleanup that SQLite's flush needs.
browser, audit_log_flushable, page, watch = (
    shared.browser,
    shared.audit_log_flushable,
    shared.page,
    shared.watch,
)


# What migrations load, and a transactional test's flush empties: root causes, the review checklists,
# the service-quality indicators. Their seeds are idempotent.
SEEDS = [
    "xiaobao.cases.migrations.0002_defaults_and_search:seed",
    "xiaobao.reviews.migrations.0002_default_checklist:seed",
    "xiaobao.kpi.migrations.0002_default_indicators:add",
]


@pytest.fixture
def seeded():
    """The world, committed for the live server."""
    for seed in SEEDS:
        module, function = seed.split(":")
        getattr(importlib.import_module(module), function)(apps, None)
    tree = w.build_tree()
    people = w.build_people(tree)
    return {"people": people, "A": w.build_side("A", tree, people), "B": w.build_side("B", tree, people)}


def main_pages(seeded) -> list[tuple[str, str, int]]:
    """(name, url, status) of the main pages of every app: its lists, dashboards and statistics (the
    matrix's rows without an object, but forms) and the page of each kind of record ("-detail")."""
    client = Client()
    client.force_login(seeded["people"][(Role.ADMIN, "A")])
    pages = []
    for name, url, _method in matrix_urls(seeded["A"], "get"):
        kwargs = MATRIX[name][0](seeded["A"])
        if (kwargs or "new" in name or "password" in name) and not name.endswith("-detail"):
            continue
        response = client.get(url)
        if is_html(response) and b'<main class="page">' in response.content:
            pages.append((name, url, response.status_code))
    return pages


def test_every_page_satisfies_the_csp_in_chromium(page, watch, seeded):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    pages = main_pages(seeded)
    assert len(pages) >= 40
    for _name, url, status in pages:
        if status != 200:  # e.g. the snapshot comparison without snapshots chosen answers 400
            watch.expect_console_error(rf"status of {status} .*{re.escape(url)}\)$")
    log_in(page, watch, seeded["people"][(Role.ADMIN, "A")].username)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    for name, url, _status in pages:
        page.goto(url, wait_until="load")
        expect(page.locator("main.page")).to_be_visible()
        try:
            watch.check()
        except AssertionError as exc:
            raise AssertionError(f"{name} {url}: {exc}") from None
    assert dialogs == []


def test_htmx_swaps_run_under_the_csp(page, watch, seeded):
    """The desk's search (hx-get into the table) and the reveal form (hx-get, then hx-post with the
    page's CSRF header) work in chromium and leave no violation behind."""
    a = seeded["A"]
    log_in(page, watch, seeded["people"][(Role.OFFICER, "A")].username)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")

    page.goto("/cases/")
    search = page.locator("form.filters input[name=q]")
    search.fill(w.MARKS["A"])
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"q={w.MARKS['A']}"))
    expect(page.locator("#case-table")).to_contain_text(a["case"].case_no)
    watch.check()

    page.goto(f"/customers/{a['customer'].pk}/")
    page.get_by_test_id("reveal-phone").click()
    page.get_by_test_id("reveal-reason").fill("客户来电核实预留手机号")
    page.get_by_test_id("reveal-submit").click()
    expect(page.get_by_test_id("revealed-phone")).to_have_text("13812345678")
    watch.check()
    assert isinstance(watch, PageWatch)
