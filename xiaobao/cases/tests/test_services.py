import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from xiaobao.audit.models import AuditEntry
from xiaobao.cases.models import Case, CaseEvent, Notification, RectificationStatus, RootCause
from xiaobao.cases.services import (
    CaseConflict,
    case_assign,
    case_extend,
    case_root_cause_set,
    case_transition,
    contact_add,
    rectification_create,
    rectification_verify,
)
from xiaobao.cases.tests.conftest import at


def walk_to_decision(case, actor, **decision):
    case = case_transition(actor=actor, case=case, action="accept")
    case = case_transition(actor=actor, case=case, action="start")
    return case_transition(actor=actor, case=case, action="decide", decision="同意按现金价值退保", **decision)


def test_a_registered_complaint_has_the_15_day_clock_and_an_event(make_case, alice):
    case = make_case()
    assert case.status == "登记"
    assert case.due_date == dt.date(2024, 10, 8)
    assert case.deadline_rule == "15日, 末日逢节假日顺延"
    assert case.case_no == "TS20240920-0001"
    assert case.customer.name_masked == "张*三"
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.to_status, event.actor) == ("create", "登记", alice)
    assert AuditEntry.objects.filter(action="create", object_id=str(case.pk)).exists()


def test_a_complaint_needs_a_category_and_a_description(make_case):
    with pytest.raises(ValidationError) as info:
        make_case(category="", description="  ")
    assert set(info.value.message_dict) == {"category", "description"}
    assert Case.objects.count() == 0


def test_the_same_person_is_one_customer(make_case):
    first = make_case()
    second = make_case(description="再次来电催办")
    assert first.customer_id == second.customer_id


def test_an_invalid_phone_is_refused_and_nothing_is_written(make_case):
    with pytest.raises(ValidationError, match="电话号码"):
        make_case(customer_phone="12345")
    assert Case.objects.count() == 0


def test_an_auditor_cannot_register_and_outsiders_cannot_register_in_another_unit(tree, personas, make_case):
    from xiaobao.accounts.models import Role

    with pytest.raises(PermissionDenied):
        make_case(actor=personas[(Role.AUDITOR, "inside")])
    with pytest.raises(PermissionDenied):
        make_case(actor=personas[(Role.HANDLER, "outside")])


def test_the_full_path_records_decision_and_on_time(make_case, alice, clock):
    case = make_case()
    clock.move_to(at("2024-10-08 20:00"))
    case = walk_to_decision(case, alice, decision_amount="1200.50", remedy="退还保费")
    assert case.status == "已决定" and case.on_time is True
    assert case.decision_amount == 1200.50
    case = case_transition(actor=alice, case=case, action="notify")
    rc = RootCause.objects.get(code="sales")
    case = case_root_cause_set(actor=alice, case=case, root_cause=rc, agent_code="A001", product_code="P10")
    case = case_transition(actor=alice, case=case, action="close")
    assert case.status == "已办结"
    actions = list(case.events.values_list("action", flat=True))
    assert actions == ["create", "accept", "start", "decide", "notify", "root_cause", "close"]


def test_a_decision_after_the_deadline_is_late(make_case, alice, clock):
    case = make_case()
    clock.move_to(at("2024-10-09 00:00:01"))
    case = walk_to_decision(case, alice)
    assert case.on_time is False


def test_an_illegal_transition_is_refused_and_changes_nothing(make_case, alice):
    case = make_case()
    with pytest.raises(ValidationError, match="当前状态「登记」不能执行「作出决定」"):
        case_transition(actor=alice, case=case, action="decide", decision="x")
    case.refresh_from_db()
    assert case.status == "登记" and case.version == 1
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_stale_version_is_a_conflict_and_nothing_is_lost(make_case, alice, bob):
    case = make_case()
    seen_version = case.version
    case_transition(actor=alice, case=case, action="accept", version=seen_version)
    with pytest.raises(CaseConflict, match="已被他人修改"):
        case_transition(actor=bob, case=case, action="withdraw", version=seen_version, reason="客户撤诉")
    case.refresh_from_db()
    assert case.status == "受理" and case.version == 2


def test_closing_a_complaint_needs_a_root_cause(make_case, alice):
    case = walk_to_decision(make_case(), alice)
    with pytest.raises(ValidationError, match="问题根因"):
        case_transition(actor=alice, case=case, action="close")


def test_pause_and_resume_move_the_deadline(make_case, alice, clock):
    case = case_transition(actor=alice, case=make_case(), action="accept")
    case = case_transition(actor=alice, case=case, action="start")
    clock.move_to(at("2024-09-23 10:00"))
    with pytest.raises(ValidationError):
        case_transition(actor=alice, case=case, action="pause", pause_reason="喝茶")
    case = case_transition(actor=alice, case=case, action="pause", pause_reason="外部鉴定", reason="伤残鉴定")
    clock.move_to(at("2024-09-28 10:00"))
    case = case_transition(actor=alice, case=case, action="resume")
    assert case.paused_days == 5
    assert case.due_date == dt.date(2024, 10, 10)
    assert "暂停5日不计入" in case.deadline_rule


def test_extensions_need_a_reason_and_the_right_approver(make_case, alice, head, personas):
    from xiaobao.accounts.models import Role

    case = case_transition(actor=alice, case=make_case(), action="accept")
    with pytest.raises(ValidationError):
        case_extend(actor=alice, case=case, reason="", approver=head)
    case = case_extend(actor=alice, case=case, reason="需调取双录资料核实", approver=head)
    assert case.extension_level == 1 and case.due_date == dt.date(2024, 10, 21)
    with pytest.raises(ValidationError, match="上级机构"):
        case_extend(actor=alice, case=case, reason="案情特别复杂", approver=head)
    branch_head = personas[(Role.ADMIN, "outside")]
    case = case_extend(actor=alice, case=case, reason="案情特别复杂, 需总公司协调", approver=branch_head)
    assert case.extension_level == 2 and case.due_date == dt.date(2024, 11, 19)
    with pytest.raises(ValidationError, match="60 日"):
        case_extend(actor=alice, case=case, reason="再延一次", approver=branch_head)
    assert list(case.extensions.values_list("level", flat=True)) == [1, 2]


def test_review_reopens_to_the_upper_unit_within_30_days(make_case, alice, clock, tree):
    case = walk_to_decision(make_case(), alice)
    case = case_transition(actor=alice, case=case, action="notify")
    case_root_cause_set(actor=alice, case=case, root_cause=RootCause.objects.get(code="sales"))
    case = case_transition(actor=alice, case=Case.objects.get(pk=case.pk), action="close")
    clock.move_to(at("2024-10-15 10:00"))
    case = case_transition(actor=alice, case=case, action="review", reason="对处理结果不满, 书面申请核查")
    assert case.status == "核查中" and case.review_unit == tree["BR"]
    assert case.decided_at is None


def test_review_after_30_days_is_refused(make_case, alice, clock):
    case = walk_to_decision(make_case(), alice)
    case = case_transition(actor=alice, case=case, action="notify")
    case_root_cause_set(actor=alice, case=case, root_cause=RootCause.objects.get(code="sales"))
    case = case_transition(actor=alice, case=Case.objects.get(pk=case.pk), action="close")
    clock.move_to(at("2024-11-30 10:00"))
    with pytest.raises(ValidationError, match="30 日"):
        case_transition(actor=alice, case=case, action="review")


def test_merge_as_duplicate_points_to_the_original(make_case, alice):
    original, duplicate = make_case(), make_case(description="同一诉求重复来电")
    duplicate = case_transition(
        actor=alice, case=duplicate, action="merge", merged_into=original, reason="重复件"
    )
    assert duplicate.status == "已合并" and duplicate.merged_into == original


def test_assignment_goes_to_a_handler_who_can_see_the_unit(
    make_case, alice, bob, personas, django_capture_on_commit_callbacks
):
    from xiaobao.accounts.models import Role

    case = make_case()
    with pytest.raises(ValidationError, match="无权查看"):
        case_assign(actor=alice, case=case, handler=personas[(Role.HANDLER, "outside")])
    with django_capture_on_commit_callbacks(execute=True):
        case = case_assign(actor=alice, case=case, handler=bob)
    assert case.handler == bob
    assert Notification.objects.filter(user=bob, case=case).exists()


def test_the_first_contact_is_the_first_response(make_case, alice, clock):
    case = make_case(kind="咨询", category="")
    assert case.responded_at is None
    clock.move_to(at("2024-09-20 11:00"))
    contact_add(actor=alice, case=case, method="电话", outcome="已电话解释保单现金价值")
    case.refresh_from_db()
    assert case.responded_at == at("2024-09-20 11:00")
    with pytest.raises(ValidationError):
        contact_add(actor=alice, case=case, method="飞鸽", outcome="")


def test_a_recurring_complaint_marks_the_verified_rectification_ineffective(
    make_case, alice, tree, clock, django_capture_on_commit_callbacks
):
    rc = RootCause.objects.get(code="sales")
    first = walk_to_decision(make_case(), alice)
    rect = rectification_create(
        actor=alice,
        title="规范 P10 产品销售话术",
        root_cause=rc,
        unit=tree["C1"],
        owner=alice,
        due_date=dt.date(2024, 10, 31),
        cases=[first],
        product_code="P10",
    )
    rect.status = RectificationStatus.SUBMITTED
    rect.save()
    rectification_verify(actor=alice, rect=rect, accepted=True, note="话术已更新并完成培训")
    clock.move_to(at("2024-12-01 10:00"))
    later = walk_to_decision(make_case(description="又一位客户称被承诺保本"), alice)
    case_transition(actor=alice, case=later, action="notify")
    case_root_cause_set(actor=alice, case=Case.objects.get(pk=later.pk), root_cause=rc, product_code="P10")
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(actor=alice, case=Case.objects.get(pk=later.pk), action="close")
    rect.refresh_from_db()
    assert rect.status == RectificationStatus.INEFFECTIVE
    assert rect.recurred_case_id == later.pk
    assert Notification.objects.filter(user=alice, message__contains="整改无效").exists()


def test_review_runs_its_own_30_day_clock_and_only_the_upper_unit_decides(make_case, alice, clock, tree):
    from xiaobao.accounts.models import Role
    from xiaobao.conftest import make_user

    case = walk_to_decision(make_case(), alice)
    clock.move_to(at("2024-10-07 10:00"))
    case = case_transition(actor=alice, case=case, action="notify")
    case_root_cause_set(actor=alice, case=case, root_cause=RootCause.objects.get(code="sales"))
    case = case_transition(actor=alice, case=Case.objects.get(pk=case.pk), action="close")
    clock.move_to(at("2024-10-25 10:00"))  # after the original deadline, within 30 days of the notice
    case = case_transition(actor=alice, case=case, action="review", reason="书面申请核查")
    assert case.due_date == dt.date(2024, 11, 25)  # Nov 24 is a Sunday
    assert case.deadline_rule.startswith("核查30日")
    with pytest.raises(PermissionDenied, match="核查"):
        case_transition(actor=alice, case=case, action="decide", decision="维持原决定")
    branch_officer = make_user("branch_officer", tree["BR"], [Role.OFFICER])
    case = case_transition(actor=branch_officer, case=case, action="decide", decision="核查后维持原处理决定")
    assert case.status == "已决定" and case.on_time is True
    review_event = case.events.get(action="review")
    assert review_event.details["first_decision_on_time"] is True
