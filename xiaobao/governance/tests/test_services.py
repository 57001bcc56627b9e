"""Governance services against a real database: who may act, what is refused, and which rows each
change leaves (event, audit, notification)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.cases.models import Notification
from xiaobao.cases.tests.conftest import at
from xiaobao.governance import services
from xiaobao.governance.models import (
    ActionItem,
    ActionStatus,
    BulletinStatus,
    MeetingStatus,
    PlanEvent,
    PlanStatus,
    QualityStatus,
    RuleStatus,
)
from xiaobao.governance.selectors import rule_list, rule_versions, year_figures
from xiaobao.governance.tests.conftest import MEETING_DAY, pdf

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and its on_commit callbacks (notifications), as a committed request would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


# --- committee --------------------------------------------------------------------------------------


def test_a_meeting_with_minutes_is_held_and_without_is_planned(alice, tree, clock):
    held = services.meeting_create(
        actor=alice, unit=tree["C1"], title="第8次", held_on=MEETING_DAY, agenda="议程", minutes="纪要"
    )
    planned = services.meeting_create(
        actor=alice, unit=tree["C1"], title="第10次", held_on=dt.date(2024, 10, 24), agenda="议程"
    )
    assert (held.status, planned.status) == (MeetingStatus.HELD, MeetingStatus.PLANNED)
    with pytest.raises(ValidationError) as refused:
        services.meeting_create(
            actor=alice,
            unit=tree["C1"],
            title="第11次",
            held_on=dt.date(2024, 11, 20),
            agenda="议程",
            minutes="纪要",
        )
    assert "尚未召开" in str(refused.value)
    with pytest.raises(ValidationError, match="会议召开"):
        services.resolution_add(actor=alice, meeting=planned, text="决议")


def test_resolutions_are_numbered_per_meeting(alice, meeting):
    first = services.resolution_add(actor=alice, meeting=meeting, text="决议一")
    second = services.resolution_add(actor=alice, meeting=meeting, text="决议二")
    assert (first.number, second.number) == (1, 2)
    with pytest.raises(ValidationError):
        services.resolution_add(actor=alice, meeting=meeting, text="  ")


def test_outsiders_and_auditors_cannot_hold_the_units_meetings(personas, tree, clock):
    for role, where in [(Role.OFFICER, "outside"), (Role.AUDITOR, "inside")]:
        with pytest.raises(PermissionDenied):
            services.meeting_create(
                actor=personas[(role, where)], unit=tree["C1"], title="x", held_on=MEETING_DAY, agenda="x"
            )


# --- action items -----------------------------------------------------------------------------------


def test_an_action_item_without_an_owner_or_a_due_date_is_refused(alice, resolution):
    with pytest.raises(ValidationError) as refused:
        services.action_create(
            actor=alice, resolution=resolution, title="修订制度", owner=None, due_date=None
        )
    assert refused.value.message_dict == {
        "owner": ["督办事项必须指定责任人"],
        "due_date": ["督办事项必须设定完成期限"],
    }
    assert ActionItem.objects.count() == 0


def test_the_owner_must_be_visible_and_the_due_date_not_before_the_meeting(alice, personas, resolution):
    with pytest.raises(ValidationError) as refused:
        services.action_create(
            actor=alice,
            resolution=resolution,
            title="修订制度",
            owner=personas[(Role.HANDLER, "outside")],
            due_date=MEETING_DAY - dt.timedelta(days=1),
        )
    assert set(refused.value.message_dict) == {"owner", "due_date"}


def test_an_action_item_is_given_to_its_owner_with_an_event_an_audit_entry_and_a_notification(
    committed, alice, bob, make_action
):
    item = committed(make_action)
    assert (item.status, item.unit.code, item.owner) == (ActionStatus.OPEN, "C1", bob)
    assert list(item.events.values_list("action", "to_status")) == [("create", "进行中")]
    assert AuditEntry.objects.filter(object_type="governance.actionitem", object_id=str(item.pk)).exists()
    note = Notification.objects.get(user=bob)
    assert f"#{item.pk}" in note.message and "2024-09-30" in note.message


def test_closing_needs_evidence_then_records_who_and_when(bob, make_action, clock):
    item = make_action()
    with pytest.raises(ValidationError, match="佐证材料"):
        services.action_transition(actor=bob, item=item, action="close")
    evidence = services.action_evidence_add(actor=bob, item=item, upload=pdf("排班表.pdf"))
    assert evidence.content_type == "application/pdf" and len(evidence.sha256) == 64
    clock.move_to(at("2024-09-25 16:00"))
    item = services.action_transition(actor=bob, item=item, action="close", note="已调整排班")
    assert (item.status, item.closed_by, item.closing_note) == (ActionStatus.DONE, bob, "已调整排班")
    assert item.closed_at == at("2024-09-25 16:00")
    assert list(item.events.values_list("action", flat=True)) == ["create", "evidence", "close"]
    with pytest.raises(ValidationError, match="不能再上传"):
        services.action_evidence_add(actor=bob, item=item, upload=pdf("补充.pdf"))
    with pytest.raises(ValidationError, match="不能执行"):
        services.action_transition(actor=bob, item=item, action="close")


def test_reopening_and_cancelling_need_a_reason_and_tell_the_owner(committed, alice, bob, make_action):
    item = make_action()
    services.action_evidence_add(actor=bob, item=item, upload=pdf())
    services.action_transition(actor=bob, item=item, action="close")
    with pytest.raises(ValidationError) as refused:
        services.action_transition(actor=alice, item=item, action="reopen")
    assert "note" in refused.value.message_dict
    Notification.objects.all().delete()
    item = committed(services.action_transition, actor=alice, item=item, action="reopen", note="佐证不完整")
    assert (item.status, item.closed_at) == (ActionStatus.OPEN, None)
    assert "佐证不完整" in Notification.objects.get(user=bob).message
    item = services.action_transition(actor=alice, item=item, action="cancel", note="决议已调整")
    assert item.status == ActionStatus.CANCELLED and item.closed_by == alice


def test_an_unknown_action_and_a_read_only_user_are_refused(personas, make_action):
    item = make_action()
    with pytest.raises(ValidationError, match="未知"):
        services.action_transition(actor=personas[(Role.OFFICER, "inside")], item=item, action="delete")
    with pytest.raises(PermissionDenied):
        services.action_transition(
            actor=personas[(Role.AUDITOR, "inside")], item=item, action="cancel", note="x"
        )


def test_an_action_needs_exactly_one_source(alice, bob):
    with pytest.raises(ValidationError, match="决议或一次应急演练"):
        services.action_create(actor=alice, title="x", owner=bob, due_date=MEETING_DAY)


# --- plans ------------------------------------------------------------------------------------------


@pytest.fixture
def plan(alice, tree, clock):
    return services.plan_create(
        actor=alice,
        unit=tree["C1"],
        year=2024,
        kind="年度消保工作计划",
        title="2024年消保工作计划",
        content="目标与分工",
    )


def test_the_unit_head_approves_a_submitted_plan_and_the_approval_is_recorded(
    committed, alice, head, plan, clock
):
    plan = committed(services.plan_transition, actor=alice, plan=plan, action="submit")
    assert plan.status == PlanStatus.SUBMITTED
    assert Notification.objects.filter(user=head, message__contains="请审批").exists()
    clock.move_to(at("2024-09-23 17:30"))
    plan = committed(services.plan_transition, actor=head, plan=plan, action="approve", opinion="同意")
    assert (plan.status, plan.decided_by, plan.decided_at, plan.opinion) == (
        PlanStatus.APPROVED,
        head,
        at("2024-09-23 17:30"),
        "同意",
    )
    approval = PlanEvent.objects.get(plan=plan, action="approve")
    assert (approval.actor, approval.reason, approval.from_status, approval.to_status) == (
        head,
        "同意",
        "待审批",
        "已批准",
    )
    assert Notification.objects.filter(user=alice, message__contains="批准").exists()
    with pytest.raises(ValidationError, match="不能修改"):
        services.plan_update(actor=alice, plan=plan, title="改", content="改")


def test_only_a_unit_head_of_the_unit_or_above_decides(alice, personas, plan):
    plan = services.plan_transition(actor=alice, plan=plan, action="submit")
    for role, where in [(Role.OFFICER, "inside"), (Role.ADMIN, "inside"), (Role.UNIT_HEAD, "outside")]:
        with pytest.raises(PermissionDenied):
            services.plan_transition(actor=personas[(role, where)], plan=plan, action="approve")


def test_returning_needs_an_opinion_and_a_returned_plan_can_be_edited_and_submitted_again(alice, head, plan):
    plan = services.plan_transition(actor=alice, plan=plan, action="submit")
    with pytest.raises(ValidationError) as refused:
        services.plan_transition(actor=head, plan=plan, action="return")
    assert "opinion" in refused.value.message_dict
    plan = services.plan_transition(actor=head, plan=plan, action="return", opinion="请补充培训安排")
    assert plan.status == PlanStatus.RETURNED
    plan = services.plan_update(actor=alice, plan=plan, title=plan.title, content="目标与分工；培训安排")
    plan = services.plan_transition(actor=alice, plan=plan, action="submit")
    assert (plan.status, plan.decided_by, plan.opinion) == (PlanStatus.SUBMITTED, None, "")
    assert list(plan.events.values_list("action", flat=True)) == ["create", "submit", "return", "submit"]


def test_an_empty_plan_cannot_be_submitted(alice, tree, clock):
    plan = services.plan_create(actor=alice, unit=tree["C1"], year=2024, kind="应急预案", title="应急预案")
    with pytest.raises(ValidationError, match="计划内容或上传计划文件"):
        services.plan_transition(actor=alice, plan=plan, action="submit")
    services.plan_file_add(actor=alice, plan=plan, upload=pdf("预案.pdf"))
    assert services.plan_transition(actor=alice, plan=plan, action="submit").status == PlanStatus.SUBMITTED


# --- rules ------------------------------------------------------------------------------------------


def test_a_revision_supersedes_the_version_in_force_from_its_date_and_the_old_one_is_kept(alice, tree, clock):
    rule = services.rule_create(
        actor=alice,
        unit=tree["C1"],
        title="投诉处理管理细则",
        category="投诉处理",
        upload=pdf("细则v1.pdf"),
        effective_on=dt.date(2023, 5, 10),
    )
    services.rule_version_add(
        actor=alice,
        rule=rule,
        upload=pdf("细则v2.pdf"),
        effective_on=dt.date(2024, 9, 1),
        note="增加核查程序",
    )
    services.rule_version_add(
        actor=alice, rule=rule, upload=pdf("细则v3.pdf"), effective_on=dt.date(2024, 12, 1), note="按新规修订"
    )
    rows = rule_versions(rule, today=dt.date(2024, 9, 20))
    assert [(r.version.number, r.state, r.superseded_on) for r in rows] == [
        (3, "pending", None),
        (2, "current", None),
        (1, "superseded", dt.date(2024, 9, 1)),
    ]
    listed = rule_list(user=alice, today=dt.date(2024, 9, 20)).get()
    assert (listed.current_number, listed.version_count, listed.pending) == (2, 3, True)
    assert rule_list(user=alice, today=dt.date(2024, 12, 1)).get().current_number == 3


def test_a_revision_must_differ_say_why_and_not_predate_the_latest(alice, tree, clock):
    rule = services.rule_create(
        actor=alice,
        unit=tree["C1"],
        title="制度",
        category="其他",
        upload=pdf("a.pdf"),
        effective_on=dt.date(2024, 1, 1),
    )
    with pytest.raises(ValidationError) as refused:
        services.rule_version_add(
            actor=alice, rule=rule, upload=pdf("a.pdf"), effective_on=dt.date(2023, 1, 1), note=""
        )
    assert set(refused.value.message_dict) == {"file", "effective_on", "note"}
    assert rule.versions.count() == 1


def test_an_upload_that_could_render_as_a_page_is_refused(alice, tree, clock):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationError) as refused:
        services.rule_create(
            actor=alice,
            unit=tree["C1"],
            title="制度",
            category="其他",
            upload=SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script>"),
            effective_on=dt.date(2024, 1, 1),
        )
    assert "file" in refused.value.message_dict


def test_a_repealed_rule_keeps_its_versions_and_cannot_be_revised(alice, tree, clock):
    rule = services.rule_create(
        actor=alice,
        unit=tree["C1"],
        title="暂行规定",
        category="投诉处理",
        upload=pdf(),
        effective_on=dt.date(2019, 6, 1),
    )
    rule = services.rule_repeal(actor=alice, rule=rule, repealed_on=dt.date(2024, 9, 1), reason="由细则替代")
    assert (rule.status, rule.versions.count()) == (RuleStatus.REPEALED, 1)
    with pytest.raises(ValidationError, match="已废止"):
        services.rule_version_add(
            actor=alice, rule=rule, upload=pdf("b.pdf"), effective_on=dt.date(2024, 9, 2), note="x"
        )


# --- drills, quality issues, bulletins ---------------------------------------------------------------


def test_a_drill_gets_follow_up_actions_once_it_was_held(alice, bob, tree, clock):
    drill = services.drill_create(
        actor=alice,
        unit=tree["C1"],
        title="群体性投诉应急演练",
        scenario_kind="群体性投诉",
        scenario="20 名客户集中要求退保",
        held_on=dt.date(2024, 9, 30),
    )
    with pytest.raises(ValidationError, match="演练完成"):
        services.action_create(
            actor=alice, drill=drill, title="完善流程", owner=bob, due_date=dt.date(2024, 10, 30)
        )
    clock.move_to(at("2024-10-08 09:00"))
    drill = services.drill_record_findings(
        actor=alice, drill=drill, findings="舆情监测滞后", participants=[bob]
    )
    item = services.action_create(
        actor=alice, drill=drill, title="完善流程", owner=bob, due_date=dt.date(2024, 10, 30)
    )
    assert (item.drill, item.resolution) == (drill, None)


def test_an_issue_from_the_complaint_ledger_must_name_a_visible_case(alice, bob, personas, tree, make_case):
    from xiaobao.cases.services import case_create

    kwargs = dict(
        actor=alice,
        unit=tree["C1"],
        source="投诉台账",
        category="销售行为",
        title="银保渠道误导",
        description="双录显示存在误导",
        found_on=dt.date(2024, 9, 19),
        owner=bob,
        due_date=dt.date(2024, 10, 19),
    )
    with pytest.raises(ValidationError) as refused:
        services.issue_create(**kwargs)
    assert "case" in refused.value.message_dict
    elsewhere = case_create(
        actor=personas[(Role.OFFICER, "outside")],
        unit=tree["C2"],
        kind="投诉",
        channel="柜面",
        category="销售纠纷",
        description="x",
    )
    with pytest.raises(ValidationError, match="权限范围"):
        services.issue_create(case=elsewhere, **kwargs)
    case = make_case()
    issue = services.issue_create(case=case, **kwargs)
    assert (issue.ref, issue.source_ref, issue.case) == ("PZ2024-001", case.case_no, case)
    second = services.issue_create(source="内部检查", **{k: v for k, v in kwargs.items() if k != "source"})
    assert second.ref == "PZ2024-002"


def test_an_issue_is_closed_with_its_measures_and_reopened_with_a_reason(alice, bob, tree, clock):
    issue = services.issue_create(
        actor=alice,
        unit=tree["C1"],
        source="内部检查",
        category="回访质量",
        title="回访录音缺失",
        description="3 件",
        found_on=dt.date(2024, 9, 19),
        owner=bob,
        due_date=dt.date(2024, 10, 19),
    )
    with pytest.raises(ValidationError):
        services.issue_transition(actor=bob, issue=issue, action="close")
    issue = services.issue_transition(actor=bob, issue=issue, action="close", note="补录并培训")
    assert (issue.status, issue.measures) == (QualityStatus.CLOSED, "补录并培训")
    issue = services.issue_transition(actor=alice, issue=issue, action="reopen", note="抽查仍有缺失")
    assert issue.status == QualityStatus.OPEN and issue.closed_at is None
    assert list(issue.events.values_list("action", flat=True)) == ["create", "close", "reopen"]


def test_a_bulletin_reaches_its_recipient_units_who_see_and_acknowledge_it(
    committed, alice, personas, tree, clock
):
    from xiaobao.governance.access import bulletin_scope

    outsider = personas[(Role.OFFICER, "outside")]
    branch_officer = personas[(Role.OFFICER, "inside")]
    bulletin = services.bulletin_create(
        actor=alice,
        unit=tree["C1"],
        title="业务品质通报",
        body="通报如下",
        recipients=[tree["C1"], tree["C2"]],
    )
    assert not bulletin_scope(outsider).filter(pk=bulletin.pk).exists()  # a draft stays with its issuer
    bulletin = committed(services.bulletin_publish, actor=alice, bulletin=bulletin)
    assert (bulletin.status, bulletin.issued_on) == (BulletinStatus.ISSUED, dt.date(2024, 9, 20))
    assert bulletin_scope(outsider).filter(pk=bulletin.pk).exists()
    assert Notification.objects.filter(user=outsider, message__contains="业务品质通报").exists()
    with pytest.raises(PermissionDenied):
        services.bulletin_acknowledge(actor=outsider, bulletin=bulletin, unit=tree["C1"])
    receipt = services.bulletin_acknowledge(actor=outsider, bulletin=bulletin, unit=tree["C2"])
    assert receipt.acknowledged_by == outsider
    with pytest.raises(ValidationError, match="已于"):
        services.bulletin_acknowledge(actor=outsider, bulletin=bulletin, unit=tree["C2"])
    with pytest.raises(ValidationError, match="已印发"):
        services.bulletin_publish(actor=branch_officer, bulletin=bulletin)


def test_a_bulletin_without_recipients_is_not_issued(alice, tree, clock):
    bulletin = services.bulletin_create(actor=alice, unit=tree["C1"], title="通报", body="内容")
    with pytest.raises(ValidationError, match="主送机构"):
        services.bulletin_publish(actor=alice, bulletin=bulletin)


# --- the year's figures -----------------------------------------------------------------------------


def test_the_years_figures_count_what_the_branch_did(alice, bob, head, tree, make_action, clock):
    on_time = make_action(due_date=dt.date(2024, 9, 30))
    late = make_action(due_date=dt.date(2024, 9, 15))
    make_action(due_date=dt.date(2024, 9, 18))  # open past its due date
    for item in (on_time, late):
        services.action_evidence_add(actor=bob, item=item, upload=pdf(f"{item.pk}.pdf"))
        services.action_transition(actor=bob, item=item, action="close")
    services.talk_create(
        actor=alice,
        unit=tree["C1"],
        held_on=dt.date(2024, 9, 1),
        topic="高管讲消保",
        speaker_name="张总",
        participants=80,
    )
    plan = services.plan_create(
        actor=alice, unit=tree["C1"], year=2024, kind="培训计划", title="培训计划", content="x"
    )
    services.plan_transition(actor=alice, plan=plan, action="submit")
    services.plan_transition(actor=head, plan=plan, action="approve")
    figures = year_figures(year=2024, unit=tree["BR"])
    assert figures["meetings_held"] == 1 and figures["meeting_months"] == 1 and figures["resolutions"] == 1
    assert (
        figures["actions"],
        figures["actions_done"],
        figures["actions_done_on_time"],
        figures["actions_overdue"],
    ) == (
        3,
        2,
        1,
        1,
    )
    assert (figures["talks"], figures["plans"], figures["plans_approved"]) == (1, 1, 1)
    assert year_figures(year=2024, unit=tree["C2"])["meetings_held"] == 0
    assert year_figures(year=2023, unit=tree["BR"])["actions"] == 0
