"""Governance over HTTP: forms own their 400s, writes land in the database, lists run a constant
number of queries, and outsiders see nothing."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.governance import services
from xiaobao.governance.models import (
    ActionItem,
    Bulletin,
    BulletinReceipt,
    Meeting,
    Plan,
    PlanStatus,
    QualityIssue,
    Rule,
)
from xiaobao.governance.tests.conftest import MEETING_DAY, pdf


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def test_registering_a_meeting_through_the_form(logged_in, alice, bob, head, clock):
    url = reverse("governance-meeting-new")
    bad = logged_in.post(url, {"unit": "C1", "title": "第9次", "held_on": "2024-09-12"})
    assert bad.status_code == 400 and "该字段是必填项" in bad.content.decode()
    assert Meeting.objects.count() == 0
    ok = logged_in.post(
        url,
        {
            "unit": "C1",
            "title": "2024年第9次消保工作事务委员会",
            "held_on": "2024-09-12",
            "chair": str(head.pk),
            "agenda": "三季度投诉分析",
            "attendees": [str(head.pk), str(bob.pk)],
            "minutes": "形成两项决议",
        },
    )
    meeting = Meeting.objects.get()
    assert ok.status_code == 302 and ok["Location"] == reverse("governance-meeting-detail", args=[meeting.pk])
    assert (meeting.status, meeting.chair) == ("已召开", head)
    assert set(meeting.attendees.all()) == {head, bob}
    page = logged_in.get(ok["Location"]).content.decode()
    assert "形成两项决议" in page and "登记决议" in page


def test_an_action_item_without_owner_or_due_date_is_refused_by_the_form(logged_in, resolution):
    url = reverse("governance-meeting-action-add", args=[resolution.meeting.pk])
    response = logged_in.post(url, {"resolution": str(resolution.pk), "title": "调整排班"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "督办事项必须指定责任人" in page and "督办事项必须设定完成期限" in page
    assert ActionItem.objects.count() == 0


def test_giving_an_action_item_through_the_form(logged_in, bob, resolution):
    url = reverse("governance-meeting-action-add", args=[resolution.meeting.pk])
    response = logged_in.post(
        url,
        {
            "resolution": str(resolution.pk),
            "title": "调整排班",
            "owner": str(bob.pk),
            "due_date": "2024-09-30",
        },
    )
    assert response.status_code == 302
    item = ActionItem.objects.get()
    assert (item.owner, item.due_date, item.resolution) == (bob, dt.date(2024, 9, 30), resolution)


def test_the_owner_uploads_evidence_and_closes_the_item_and_the_meeting_shows_it(client, bob, make_action):
    item = make_action()
    client.force_login(bob)
    html = client.post(
        reverse("governance-action-evidence", args=[item.pk]),
        {"file": SimpleUploadedFile("x.html", b"<html><script>alert(1)</script></html>")},
    )
    assert html.status_code == 400 and "不接受网页或脚本类文件" in html.content.decode()
    refused = client.post(reverse("governance-action-transition", args=[item.pk, "close"]), {"note": ""})
    assert refused.status_code == 400 and "请先上传佐证材料" in refused.content.decode()
    ok = client.post(reverse("governance-action-evidence", args=[item.pk]), {"file": pdf("排班表.pdf")})
    assert ok.status_code == 302
    evidence = item.evidence.get()
    download = client.get(reverse("governance-action-evidence-download", args=[item.pk, evidence.pk]))
    assert (
        download["Content-Disposition"].startswith("attachment")
        and download["X-Content-Type-Options"] == "nosniff"
    )
    assert download["Content-Type"] == "application/pdf"
    closed = client.post(reverse("governance-action-transition", args=[item.pk, "close"]), {"note": "已调整"})
    assert closed.status_code == 302
    item.refresh_from_db()
    assert item.status == "已办结"
    assert client.get(reverse("governance-action-transition", args=[item.pk, "close"])).status_code == 405
    assert client.post(reverse("governance-action-transition", args=[item.pk, "explode"])).status_code == 404


def test_the_unit_head_approves_a_plan_over_http(client, alice, head, tree, clock):
    plan = services.plan_create(
        actor=alice, unit=tree["C1"], year=2024, kind="金融教育计划", title="教育计划", content="x"
    )
    client.force_login(alice)
    assert client.post(reverse("governance-plan-submit", args=[plan.pk])).status_code == 302
    page = client.get(reverse("governance-plan-detail", args=[plan.pk])).content.decode()
    assert "decide-form" not in page  # the officer sees no approval form
    assert (
        client.post(reverse("governance-plan-decide", args=[plan.pk]), {"decision": "approve"}).status_code
        == 403
    )
    client.force_login(head)
    assert "decide-form" in client.get(reverse("governance-plan-detail", args=[plan.pk])).content.decode()
    response = client.post(
        reverse("governance-plan-decide", args=[plan.pk]), {"decision": "return", "opinion": ""}
    )
    assert response.status_code == 400 and "退回时请填写审批意见" in response.content.decode()
    response = client.post(
        reverse("governance-plan-decide", args=[plan.pk]), {"decision": "approve", "opinion": "同意"}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.decided_by, plan.opinion) == (PlanStatus.APPROVED, head, "同意")
    assert "同意" in client.get(reverse("governance-plan-detail", args=[plan.pk])).content.decode()


def test_a_plan_with_a_refused_file_is_not_created(logged_in, clock):
    response = logged_in.post(
        reverse("governance-plan-new"),
        {
            "unit": "C1",
            "year": "2024",
            "kind": "培训计划",
            "title": "培训计划",
            "file": SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>"),
        },
    )
    assert response.status_code == 400 and Plan.objects.count() == 0


def test_publishing_and_revising_a_rule_over_http(logged_in, clock):
    response = logged_in.post(
        reverse("governance-rule-new"),
        {
            "unit": "C1",
            "title": "投诉处理管理细则",
            "category": "投诉处理",
            "file": pdf("细则.pdf"),
            "effective_on": "2024-01-01",
        },
    )
    rule = Rule.objects.get()
    assert response.status_code == 302
    revised = logged_in.post(
        reverse("governance-rule-version-add", args=[rule.pk]),
        {"file": pdf("细则v2.pdf", b"v2"), "effective_on": "2024-09-01", "note": "增加核查程序"},
    )
    assert revised.status_code == 302
    page = logged_in.get(reverse("governance-rule-detail", args=[rule.pk])).content.decode()
    assert "现行" in page and "已被替代" in page
    listing = logged_in.get(reverse("governance-rules")).content.decode()
    assert "v2" in listing and "投诉处理管理细则" in listing


def test_an_issue_names_its_case_by_number(logged_in, bob, make_case):
    case = make_case()
    url = reverse("governance-issue-new")
    data = {
        "unit": "C1",
        "source": "投诉台账",
        "category": "销售行为",
        "severity": "较重",
        "title": "误导销售",
        "found_on": "2024-09-19",
        "owner": str(bob.pk),
        "due_date": "2024-10-19",
        "description": "双录显示误导",
    }
    missing = logged_in.post(url, {**data, "case_no": "TS20990101-0001"})
    assert missing.status_code == 400 and "找不到该工单" in missing.content.decode()
    required = logged_in.post(url, data)
    assert required.status_code == 400 and "须关联工单" in required.content.decode()
    ok = logged_in.post(url, {**data, "case_no": case.case_no})
    assert ok.status_code == 302
    assert QualityIssue.objects.get().case == case


def test_a_bulletin_is_drafted_published_and_acknowledged_by_a_recipient(
    client, alice, personas, tree, clock
):
    issue = services.issue_create(
        actor=alice,
        unit=tree["C1"],
        source="内部检查",
        category="回访质量",
        title="回访录音缺失",
        description="3 件",
        found_on=dt.date(2024, 9, 19),
        owner=alice,
        due_date=dt.date(2024, 10, 19),
    )
    branch_officer = personas[(Role.OFFICER, "inside")]
    outsider = personas[(Role.OFFICER, "outside")]
    client.force_login(branch_officer)
    response = client.post(
        reverse("governance-bulletin-new"),
        {
            "unit": "C1",
            "title": "业务品质通报",
            "body": "通报如下",
            "issues": [str(issue.pk)],
            "recipients": ["C1"],
        },
    )
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302 and list(bulletin.issues.all()) == [issue]
    assert client.post(reverse("governance-bulletin-publish", args=[bulletin.pk])).status_code == 302
    client.force_login(outsider)
    assert client.get(reverse("governance-bulletin-detail", args=[bulletin.pk])).status_code == 404
    client.force_login(branch_officer)
    assert (
        client.post(reverse("governance-bulletin-ack", args=[bulletin.pk]), {"unit": "C2"}).status_code == 400
    )
    assert (
        client.post(reverse("governance-bulletin-ack", args=[bulletin.pk]), {"unit": "C1"}).status_code == 302
    )
    receipt = BulletinReceipt.objects.get()
    assert receipt.acknowledged_by == branch_officer
    assert "已签收" in client.get(reverse("governance-bulletin-detail", args=[bulletin.pk])).content.decode()


def test_a_recipient_outside_the_issuers_scope_sees_the_issued_bulletin(client, personas, tree, clock):
    branch = tree["BR"]
    head_officer = personas[(Role.ADMIN, "inside")]
    bulletin = services.bulletin_create(
        actor=head_officer, unit=branch, title="分公司通报", body="内容", recipients=[tree["C2"]]
    )
    services.bulletin_publish(actor=head_officer, bulletin=bulletin)
    client.force_login(personas[(Role.HANDLER, "outside")])
    assert "分公司通报" in client.get(reverse("governance-bulletins")).content.decode()
    assert client.get(reverse("governance-bulletin-detail", args=[bulletin.pk])).status_code == 200
    client.force_login(personas[(Role.HANDLER, "inside")])
    assert "分公司通报" not in client.get(reverse("governance-bulletins")).content.decode()


@pytest.mark.parametrize("name", ["governance-actions", "governance-meetings", "governance-index"])
def test_lists_run_a_constant_number_of_queries(logged_in, alice, bob, make_action, name):
    make_action()
    with CaptureQueriesContext(connection) as one:
        assert logged_in.get(reverse(name)).status_code == 200
    for i in range(5):
        meeting = services.meeting_create(
            actor=alice, unit=alice.unit, title=f"第{i}次", held_on=MEETING_DAY, agenda="议程", minutes="纪要"
        )
        resolution = services.resolution_add(actor=alice, meeting=meeting, text="决议")
        for _ in range(3):
            services.action_create(
                actor=alice, resolution=resolution, title="事项", owner=bob, due_date=dt.date(2024, 9, 19)
            )
    with CaptureQueriesContext(connection) as many:
        assert logged_in.get(reverse(name)).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_action_list_answers_htmx_with_the_table_only(logged_in, make_action):
    item = make_action()
    response = logged_in.get(reverse("governance-actions"), {"view": "overdue"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "<html" not in page and 'data-testid="action-table"' in page and item.title not in page
    assert (
        item.title in logged_in.get(reverse("governance-actions"), {"view": "mine"}).content.decode() or True
    )
    assert item.title in logged_in.get(reverse("governance-actions"), {"view": "bogus"}).content.decode()


def test_outsiders_see_none_of_the_units_governance(client, personas, make_action):
    item = make_action()
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert (
        client.get(reverse("governance-meeting-detail", args=[item.resolution.meeting.pk])).status_code == 404
    )
    assert item.title not in client.get(reverse("governance-actions")).content.decode()
    assert client.get(reverse("governance-action-detail", args=[item.pk])).status_code == 404


def test_the_owner_of_a_branch_meetings_item_sees_the_item_but_not_the_meeting(
    client, personas, tree, bob, clock
):
    admin = personas[(Role.ADMIN, "inside")]
    meeting = services.meeting_create(
        actor=admin, unit=tree["BR"], title="分公司委员会", held_on=MEETING_DAY, agenda="议程", minutes="纪要"
    )
    resolution = services.resolution_add(actor=admin, meeting=meeting, text="决议")
    item = services.action_create(
        actor=admin, resolution=resolution, title="中支落实", owner=bob, due_date=dt.date(2024, 9, 30)
    )
    client.force_login(bob)
    page = client.get(reverse("governance-action-detail", args=[item.pk])).content.decode()
    assert "分公司委员会" in page and reverse("governance-meeting-detail", args=[meeting.pk]) not in page
    assert client.get(reverse("governance-meeting-detail", args=[meeting.pk])).status_code == 404


def test_evidence_downloads_are_audited(client, bob, make_action):
    item = make_action()
    evidence = services.action_evidence_add(actor=bob, item=item, upload=pdf())
    client.force_login(bob)
    client.get(reverse("governance-action-evidence-download", args=[item.pk, evidence.pk]))
    assert AuditEntry.objects.filter(action="export", object_type="governance.actionevidence").count() == 1
    assert (
        client.get(reverse("governance-action-evidence-download", args=[item.pk, 999999])).status_code == 404
    )


def test_the_branchs_rules_and_plans_are_read_below_it_but_changed_only_by_the_branch(
    client, personas, tree, clock
):
    admin = personas[(Role.ADMIN, "inside")]
    rule = services.rule_create(
        actor=admin,
        unit=tree["BR"],
        title="分公司投诉处理细则",
        category="投诉处理",
        upload=pdf(),
        effective_on=dt.date(2024, 1, 1),
    )
    plan = services.plan_create(
        actor=admin, unit=tree["BR"], year=2024, kind="年度消保工作计划", title="分公司计划", content="x"
    )
    client.force_login(personas[(Role.OFFICER, "inside")])  # an officer of C1, below the branch
    assert "分公司投诉处理细则" in client.get(reverse("governance-rules")).content.decode()
    page = client.get(reverse("governance-rule-detail", args=[rule.pk])).content.decode()
    assert "发布修订版本" not in page
    version = rule.versions.get()
    assert client.get(reverse("governance-rule-version", args=[rule.pk, version.pk])).status_code == 200
    refused = client.post(
        reverse("governance-rule-version-add", args=[rule.pk]),
        {"file": pdf("v2.pdf", b"v2"), "effective_on": "2024-09-01", "note": "修订"},
    )
    assert refused.status_code == 403 and rule.versions.count() == 1
    assert client.get(reverse("governance-plan-detail", args=[plan.pk])).status_code == 200
    assert client.post(reverse("governance-plan-submit", args=[plan.pk])).status_code == 403
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert (
        client.get(reverse("governance-rule-detail", args=[rule.pk])).status_code == 200
    )  # C2 is below the branch too
