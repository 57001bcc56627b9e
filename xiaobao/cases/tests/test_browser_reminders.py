"""Browser test: an overdue complaint reaches its handler through the worker's reminder."""

import datetime as dt
import json
from io import StringIO

from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from xiaobao.accounts.models import Role
from xiaobao.cases.models import Notification, Reminder
from xiaobao.cases.services import case_assign, case_create, case_transition
from xiaobao.tests import test_browser as base

pytestmark = base.pytestmark
browser = base.browser
audit_log_flushable = base.audit_log_flushable
page = base.page
watch = base.watch
shot = base.shot


def test_an_overdue_complaint_reminds_its_handler_in_the_app(page, watch, shot, personas, tree):
    officer, handler = personas[(Role.OFFICER, "inside")], personas[(Role.HANDLER, "inside")]
    case = case_create(
        actor=officer,
        unit=tree["C1"],
        kind="投诉",
        channel="4008热线",
        category="理赔纠纷",
        description="客户反映重疾理赔资料已提交二十多天仍未结案",
        received_at=timezone.now() - dt.timedelta(days=25),
    )
    case = case_transition(actor=officer, case=case, action="accept")
    case_assign(actor=officer, case=case, handler=handler)
    Notification.objects.all().delete()  # only the reminder's notification should be left to find

    out = StringIO()
    call_command("worker", "--once", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["queued"] >= 1 and summary["sent"] >= 1
    assert Reminder.objects.get(case=case, threshold="overdue").status == "sent"

    base.log_in(page, watch, handler.username)
    expect(page.get_by_test_id("unread-count")).to_have_text("1")
    shot("desk-with-unread")
    page.get_by_test_id("notifications-link").click()
    table = page.get_by_test_id("notifications")
    expect(table).to_contain_text(case.case_no)
    expect(table).to_contain_text("已超期")
    shot("notifications")
    table.get_by_role("link", name=case.case_no).click()
    expect(page.get_by_test_id("case-clock")).to_contain_text("已超期")
    shot("overdue-case")
    page.goto("/cases/?view=overdue")
    expect(page.get_by_test_id("case-table")).to_contain_text(case.case_no)
    shot("overdue-tab")
    # A second worker run sends nothing new: one reminder per threshold.
    call_command("worker", "--once", stdout=StringIO())
    assert Notification.objects.filter(user=handler, case=case).count() == 1
    assert case.due_date < timezone.localdate()
