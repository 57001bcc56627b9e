"""Browser test: a scan's ring alert is assigned, investigated with a note and evidence, confirmed with
the proxy's phone put on the watchlist, and a new complaint from that phone shows the flag."""

import datetime as dt

from django.urls import reverse
from playwright.sync_api import expect

from xiaobao.accounts.models import Role
from xiaobao.cases.models import Case
from xiaobao.risk.models import Alert, AlertKind, AlertStatus, WatchEntry
from xiaobao.risk.services import scan_run
from xiaobao.risk.tests.factories import RING_PHONE, planted_book
from xiaobao.tests import test_browser as base

pytestmark = base.pytestmark
browser = base.browser
audit_log_flushable = base.audit_log_flushable
page = base.page
watch = base.watch
shot = base.shot

EVIDENCE = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DAY = dt.date(2025, 6, 20)


def log_out(page):
    page.get_by_role("button", name="退出", exact=True).click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()


def test_alert_investigation_confirm_watchlist_and_a_flagged_new_case(page, watch, shot, personas, tree):
    officer = personas[(Role.OFFICER, "inside")]
    handler = personas[(Role.HANDLER, "inside")]
    planted_book(DAY, actor=officer, unit=tree["C1"])
    scan_run(as_of=DAY)
    alert = Alert.objects.get(kind=AlertKind.CLUSTER)

    # 1. The officer finds the ring in the alert queue and assigns the handler.
    base.log_in(page, watch, officer.username)
    page.locator("nav.mainnav").get_by_role("link", name="退保风险").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("风险预警")
    table = page.get_by_test_id("alert-table")
    expect(table).to_contain_text("疑似退保黑产团伙: 12 位投保人")
    shot("queue")
    table.get_by_role("link", name="疑似退保黑产团伙: 12 位投保人").click()
    reasons = page.get_by_test_id("alert-reasons")
    expect(reasons).to_contain_text("12 位投保人的退保由同一代办人电话 137****1234 委托办理")
    expect(reasons).to_contain_text("12 件投诉文本高度雷同")
    expect(page.get_by_test_id("alert-surrenders")).to_contain_text("137****1234")
    expect(page.locator("body")).not_to_contain_text(RING_PHONE)
    shot("alert")
    page.get_by_test_id("assign-form").get_by_label("调查人", exact=True).select_option(
        label=handler.username
    )
    page.get_by_test_id("assign-form").get_by_role("button", name="分派").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("调查中")
    expect(page.get_by_test_id("alert-assignee")).to_have_text(handler.username)
    log_out(page)

    # 2. The handler records a note and uploads evidence, then confirms with the proxy's phone.
    base.log_in(page, watch, handler.username)
    page.goto(f"/risk/alerts/{alert.pk}/")
    note = page.get_by_test_id("note-form")
    note.get_by_label("调查记录", exact=True).fill("回访 3 位投保人, 均称由赵某代办并支付了 20% 费用")
    note.get_by_role("button", name="记录").click()
    expect(page.get_by_test_id("alert-timeline")).to_contain_text("均称由赵某代办")
    page.get_by_test_id("evidence-form").get_by_label("证据材料", exact=True).set_input_files(
        {"name": "回访录音摘要.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE}
    )
    page.get_by_test_id("evidence-form").get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("alert-evidence")).to_contain_text("回访录音摘要.pdf")
    decide = page.get_by_test_id("decide-form")
    decide.get_by_label("理由", exact=True).fill("代办人赵某以一部电话为 12 位投保人批量代理全额退保")
    decide.get_by_label("电话 137****1234 (12 位投保人)").check()
    shot("confirm")
    decide.get_by_role("button", name="确认为疑似退保黑产").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("已确认")

    # 3. The watchlist holds the phone, masked.
    page.get_by_test_id("risk-tabs").get_by_role("link", name="疑似退保黑产信息库").click()
    expect(page.get_by_test_id("watchlist")).to_contain_text("137****1234")
    shot("watchlist")

    # 4. A new complaint from that phone: the hotline handler sees the flag on the case.
    page.locator("nav.mainnav").get_by_role("link", name="投诉与工单").click()
    page.get_by_test_id("case-new").click()
    page.get_by_label("工单类型", exact=True).select_option("投诉")
    page.get_by_label("来源渠道", exact=True).select_option("4008热线")
    page.get_by_label("责任机构", exact=True).select_option(label="甲中心支公司 (C1)")
    page.get_by_label("投诉事由", exact=True).select_option("退保纠纷")
    page.get_by_label("客户姓名", exact=True).fill("钱某")
    page.get_by_label("客户电话", exact=True).fill(RING_PHONE)
    page.get_by_label("诉求内容", exact=True).fill("客户要求全额退保, 称已委托维权机构办理")
    page.get_by_test_id("case-save").click()
    flag = page.get_by_test_id("risk-flag")
    expect(flag).to_contain_text("疑似退保黑产")
    expect(flag).to_contain_text("137****1234")
    shot("flagged-case")

    # 5. The flag is stored: the desk marks the row 黑产库, and the risk pages list the intake hit.
    case_no = Case.objects.latest("pk").case_no
    page.goto(reverse("cases-desk"))
    row = page.get_by_test_id("case-table").locator("tr", has=page.get_by_role("link", name=case_no))
    expect(row.get_by_test_id("risk-badge")).to_have_text("黑产库")
    shot("desk-badge")
    page.goto(reverse("risk-hits"))
    expect(page.get_by_test_id("case-hits")).to_contain_text(case_no)

    alert.refresh_from_db()
    assert alert.status == AlertStatus.CONFIRMED and alert.assignee == handler
    assert [e.action for e in alert.events.all()] == ["assign", "note", "evidence", "confirm"]
    assert list(WatchEntry.objects.values_list("kind", "masked", "confirmed_by")) == [
        ("phone", "137****1234", handler.pk)
    ]
