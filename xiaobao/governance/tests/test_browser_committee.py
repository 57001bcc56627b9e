"""Browser test: a committee resolution becomes an action item, the worker reminds its owner, and the
owner closes it with evidence, which the meeting page then shows."""

import datetime as dt
import json
from io import StringIO

from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from xiaobao.accounts.models import Role
from xiaobao.cases.models import Notification
from xiaobao.governance.models import ActionItem, ActionReminder, Meeting
from xiaobao.tests import test_browser as base

pytestmark = base.pytestmark
browser = base.browser
audit_log_flushable = base.audit_log_flushable
page = base.page
watch = base.watch
shot = base.shot

EVIDENCE = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def log_out(page):
    page.get_by_role("button", name="退出", exact=True).click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()


def test_a_resolution_becomes_an_action_item_that_is_reminded_and_closed(page, watch, shot, personas):
    officer = personas[(Role.OFFICER, "inside")]
    owner = personas[(Role.HANDLER, "inside")]
    head = personas[(Role.UNIT_HEAD, "inside")]
    today = timezone.localdate()
    held_on, due = today - dt.timedelta(days=10), today - dt.timedelta(days=1)

    # 1. The officer records the month's committee meeting with its minutes.
    base.log_in(page, watch, officer.username)
    page.get_by_role("link", name="消保治理", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("消保治理")
    shot("overview")
    page.get_by_test_id("governance-tabs").get_by_role("link", name="委员会会议").click()
    page.get_by_test_id("meeting-new").click()
    form = page.get_by_test_id("new-form")
    form.get_by_label("会议名称", exact=True).fill("第10次消保工作事务委员会")
    form.get_by_label("会议日期", exact=True).fill(held_on.isoformat())
    form.get_by_label("主持人", exact=True).select_option(label=f"{head.username} · 甲中心支公司")
    form.get_by_label("会议议程", exact=True).fill("1. 三季度投诉分析\n2. 热线排队时长")
    form.get_by_label(f"{head.username} · 甲中心支公司").check()
    form.get_by_label(f"{owner.username} · 甲中心支公司").check()
    form.get_by_label("会议纪要", exact=True).fill("会议听取了三季度投诉分析，决定增加热线高峰时段坐席。")
    shot("meeting-form")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("meeting-status")).to_have_text("已召开")
    shot("meeting-held")

    # 2. A resolution.
    page.locator("summary", has_text="登记决议").click()
    page.get_by_test_id("resolution-form").get_by_label("决议内容", exact=True).fill(
        "热线高峰时段增加坐席，降低排队时长"
    )
    page.get_by_test_id("resolution-form").get_by_role("button", name="登记决议").click()
    expect(page.get_by_test_id("resolution-1")).to_contain_text("尚未布置督办事项")
    shot("resolution")

    # 3. An action item without an owner or a due date is refused, then given properly.
    page.locator("summary", has_text="布置督办事项").click()
    action = page.get_by_test_id("action-form")
    action.get_by_label("督办事项", exact=True).fill("调整热线高峰时段排班")
    # The browser's own required-field check would stop the form first; the server must refuse too.
    action.evaluate("form => form.noValidate = true")
    meeting = Meeting.objects.get()
    watch.expect_console_error(rf"status of 400 .*/governance/meetings/{meeting.pk}/actions/\)$")
    action.get_by_role("button", name="布置").click()
    action = page.get_by_test_id("action-form")
    expect(action).to_contain_text("督办事项必须指定责任人")
    expect(action).to_contain_text("督办事项必须设定完成期限")
    assert ActionItem.objects.count() == 0
    shot("action-refused")
    action.get_by_label("责任人", exact=True).select_option(label=f"{owner.username} · 甲中心支公司")
    action.get_by_label("完成期限", exact=True).fill(due.isoformat())
    action.get_by_role("button", name="布置").click()
    item = ActionItem.objects.get()
    row = page.get_by_test_id("resolution-1")
    expect(row).to_contain_text("调整热线高峰时段排班")
    expect(row).to_contain_text("已超期")
    shot("action-given")

    # 4. The worker reminds the owner of the overdue item, once.
    Notification.objects.all().delete()
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["sent"] >= 1
    assert ActionReminder.objects.get(item=item, threshold="overdue").status == "sent"
    log_out(page)

    # 5. The owner sees the notification, uploads evidence and closes the item.
    base.log_in(page, watch, owner.username)
    expect(page.get_by_test_id("unread-count")).to_have_text("1")
    page.get_by_test_id("notifications-link").click()
    notes = page.get_by_test_id("notifications")
    expect(notes).to_contain_text(f"督办事项 #{item.pk}")
    expect(notes).to_contain_text("已超期 1 天")
    shot("notification")
    page.get_by_role("link", name="消保治理", exact=True).click()
    expect(page.get_by_test_id("my-actions")).to_contain_text("调整热线高峰时段排班")
    page.get_by_test_id("my-actions").get_by_role("link", name="调整热线高峰时段排班").click()
    expect(page.get_by_test_id("action-status")).to_have_text("进行中")
    page.get_by_label("佐证材料", exact=True).set_input_files(
        {"name": "排班调整表.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE}
    )
    page.get_by_test_id("evidence-form").get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("action-evidence")).to_contain_text("排班调整表.pdf")
    shot("evidence")
    close = page.get_by_test_id("close-form")
    close.get_by_label("说明", exact=True).fill("已增加 2 名高峰时段坐席，排队时长降至 30 秒以内")
    close.get_by_role("button", name="办结", exact=True).click()
    expect(page.get_by_test_id("action-status")).to_have_text("已办结")
    expect(page.get_by_test_id("action-timeline")).to_contain_text("办结")
    shot("closed")

    # 6. The meeting page shows the item closed.
    page.get_by_role("link", name="第10次消保工作事务委员会").click()
    row = page.get_by_test_id("resolution-1")
    expect(row).to_contain_text("已办结")
    expect(row).not_to_contain_text("已超期")
    shot("meeting-closed")

    item.refresh_from_db()
    assert (item.status, item.closed_by, item.owner) == ("已办结", owner, owner)
    assert item.evidence.get().original_name == "排班调整表.pdf"
    assert list(item.events.values_list("action", flat=True)) == ["create", "evidence", "close"]
    assert Meeting.objects.get().attendees.count() == 2
    # A second worker round sends nothing: the item is closed and each threshold is reminded once.
    call_command("worker", "--once", stdout=StringIO())
    assert Notification.objects.filter(user=owner, message__contains=f"#{item.pk}").count() == 1
