"""Writes to cases. Every service is atomic, checks the transition table and the case's version,
writes a CaseEvent and an audit entry, and recomputes the clocks."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.accounts.models import Role
from xiaobao.audit.services import audit_record
from xiaobao.cases import clocks, hooks
from xiaobao.cases.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Channel,
    Contact,
    Extension,
    Notification,
    Pause,
    PlanStep,
    Rectification,
    RectificationStatus,
    RootCause,
    WorkOrderTarget,
    work_calendar,
)
from xiaobao.customers.services import customer_find_or_create

REVIEW_WINDOW_DAYS = 30  # 核查 must be requested within 30 days of the decision notice
# An extension moves the 15-day decision clock; 核查 has its own clock and is not extended.
EXTENDABLE_STATUSES = (CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.PAUSED)


class CaseConflict(ValidationError):
    """Somebody else changed the case since the form was opened."""


def _lock(case: Case, version: int | None) -> Case:
    """Re-read the case under a row lock and refuse a stale version (optimistic locking)."""
    fresh = Case.objects.select_for_update().get(pk=case.pk)
    if version is not None and fresh.version != int(version):
        raise CaseConflict(
            _("该工单已被他人修改 (版本 %(old)s → %(new)s), 请刷新页面后重试; 您的输入未保存。")
            % {
                "old": version,
                "new": fresh.version,
            }
        )
    return fresh


def case_actor_may_handle(actor, case: Case) -> bool:
    """During 核查 the upper-level unit decides; the unit under review may only read."""
    if case.status != CaseStatus.REVIEW or case.review_unit is None:
        return True
    return access.unit_visible(actor, case.review_unit)


def _event(
    case: Case, actor, action: str, *, from_status="", to_status="", reason="", at=None, **details
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        at=at or timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details={
            k: str(v) if isinstance(v, Decimal | dt.date | dt.datetime) else v for k, v in details.items()
        },
    )


def _target(kind: str, channel: str) -> tuple[int, int] | None:
    rows = {t.channel: t for t in WorkOrderTarget.objects.filter(kind=kind, channel__in=[channel, ""])}
    target = rows.get(channel) or rows.get("")
    return (target.response_workdays, target.resolution_workdays) if target else None


def clock_facts(case: Case, today: dt.date | None = None) -> clocks.ClockFacts:
    pauses = (
        [
            (
                timezone.localtime(p.started_at).date(),
                timezone.localtime(p.ended_at).date() if p.ended_at else None,
            )
            for p in case.pauses.all()
        ]
        if case.pk
        else []
    )
    return clocks.ClockFacts(
        kind=case.kind,
        channel=case.channel,
        urgent=case.urgent,
        received_at=case.received_at,
        extension_level=case.extension_level,
        pauses=pauses,
        regulator_complex=case.regulator_complex,
        target=None if case.kind == CaseKind.COMPLAINT else _target(case.kind, case.channel),
        today=today,
        review_requested_at=case.review_requested_at,
    )


def case_clock_refresh(case: Case, cal=None) -> None:
    """Recompute the clock fields from the case's facts (not saved)."""
    result = clocks.compute(clock_facts(case), cal or work_calendar())
    case.due_date = result.due_date
    case.deadline_rule = result.rule
    case.deadline_provisional = result.provisional
    case.response_due_date = result.response_due_date
    case.paused_days = result.paused_days
    case.on_time = clocks.met(case.decided_at, case.due_date)


def case_next_no(kind: str, received: dt.date) -> str:
    prefix = ("TS" if kind == CaseKind.COMPLAINT else "GD") + received.strftime("%Y%m%d")
    last = Case.objects.filter(case_no__startswith=prefix).aggregate(m=Max("case_no"))["m"]
    seq = int(last[len(prefix) + 1 :]) + 1 if last and last[len(prefix) + 1 :].isdigit() else 1
    return f"{prefix}-{seq:04d}"


@transaction.atomic
def case_create(
    *,
    actor,
    unit,
    kind: str,
    channel: str,
    description: str,
    received_at: dt.datetime | None = None,
    customer_name: str = "",
    customer_phone: str = "",
    customer_id_no: str = "",
    customer_address: str = "",
    policy_no: str = "",
    category: str = "",
    urgent: bool = False,
    claims_related: bool = False,
    regulator_ref: str = "",
    regulator_complex: bool = False,
    handler=None,
    case_no: str = "",
    request=None,
) -> Case:
    """Register a case (登记).

    1. Check the actor may write in the unit, and the enums and required fields.
    2. Find or register the customer by ID-number or phone token (personal data encrypted).
    3. Compute the clocks, save, and write the 'create' event and the audit entry.
    """
    if actor is not None:
        access.require_write(actor)
        if not access.unit_visible(actor, unit):
            raise PermissionDenied(_("不能在权限范围以外的机构登记工单"))
    received_at = received_at or timezone.now()
    errors = {}
    if kind not in CaseKind.values:
        errors["kind"] = _("未知的工单类型: %(v)s") % {"v": kind}
    if channel not in Channel.values:
        errors["channel"] = _("未知的来源渠道: %(v)s") % {"v": channel}
    if kind == CaseKind.COMPLAINT and not category:
        errors["category"] = _("投诉必须选择投诉事由")
    if not (description or "").strip():
        errors["description"] = _("请填写诉求内容")
    if received_at > timezone.now() + dt.timedelta(minutes=5):
        errors["received_at"] = _("受理时间不能晚于现在")
    if errors:
        raise ValidationError(errors)
    customer = None
    if customer_name or customer_phone or customer_id_no:
        customer = customer_find_or_create(
            actor=actor,
            unit=unit,
            name=customer_name,
            phone=customer_phone,
            id_no=customer_id_no,
            address=customer_address,
        )
    case = Case(
        case_no=case_no or case_next_no(kind, timezone.localtime(received_at).date()),
        kind=kind,
        channel=channel,
        unit=unit,
        customer=customer,
        policy_no=policy_no.strip(),
        category=category,
        urgent=urgent,
        claims_related=claims_related,
        description=description.strip(),
        received_at=received_at,
        regulator_ref=regulator_ref,
        regulator_complex=regulator_complex,
        handler=handler,
    )
    case_clock_refresh(case)
    case.full_clean(exclude=["customer", "handler", "root_cause", "merged_into"])
    case.save()
    _event(
        case, actor, "create", to_status=case.status, at=received_at if received_at < timezone.now() else None
    )
    audit_record(actor=actor, action="create", obj=case, unit=unit, request=request)
    hooks.cases_created([case.pk])  # e.g. the watchlist check at intake (xiaobao.risk)
    if handler is not None:
        _notify(handler, case, _("新工单 %(no)s 已分配给您") % {"no": case.case_no})
    return case


def _notify(user, case: Case, message: str) -> None:
    transaction.on_commit(lambda: Notification.objects.create(user=user, case=case, message=message[:300]))


@transaction.atomic
def case_transition(
    *, actor, case: Case, action: str, reason: str = "", version: int | None = None, request=None, **data
) -> Case:
    """Move a case through the one transition table (TRANSITIONS).

    1. Lock the case and check its version (a concurrent edit is refused, nothing lost).
    2. Check the action is allowed from the current status; refuse with a clear message otherwise.
    3. Apply the action's facts (pause rows, decision, 核查 unit, merge target…), recompute the
       clocks, bump the version, and write the event and audit rows.
    """
    access.require_write(actor)
    if action not in TRANSITIONS:
        raise ValidationError(_("未知的操作: %(a)s") % {"a": action})
    case = _lock(case, version)
    if not case_actor_may_handle(actor, case):
        raise PermissionDenied(
            _("该工单正由上级机构 %(u)s 核查, 只有该机构人员可以办理") % {"u": case.review_unit.name}
        )
    allowed_from, to_status, label = TRANSITIONS[action]
    if case.status not in allowed_from:
        raise ValidationError(
            _("当前状态「%(s)s」不能执行「%(a)s」") % {"s": case.get_status_display(), "a": label}
        )
    now = data.pop("at", None) or timezone.now()
    from_status = case.status
    details = {}
    if action == "pause":
        if data.get("pause_reason") not in ("外部鉴定", "待补充材料"):
            raise ValidationError({"pause_reason": _("请选择暂停原因: 外部鉴定 或 待补充材料")})
        Pause.objects.create(case=case, reason_kind=data["pause_reason"], note=reason, started_at=now)
        details["pause_reason"] = data["pause_reason"]
    elif action == "resume":
        case.pauses.filter(ended_at=None).update(ended_at=now)
    elif action == "decide":
        decision = (data.get("decision") or "").strip()
        if not decision:
            raise ValidationError({"decision": _("请填写处理决定")})
        amount = data.get("decision_amount")
        if amount not in (None, ""):
            try:
                amount = Decimal(str(amount))
            except ArithmeticError:
                raise ValidationError({"decision_amount": _("金额格式不正确")}) from None
            if amount < 0:
                raise ValidationError({"decision_amount": _("金额不能为负数")})
        else:
            amount = None
        case.decision, case.decision_amount, case.remedy = (
            decision,
            amount,
            (data.get("remedy") or "").strip(),
        )
        case.decided_at = now
        if case.responded_at is None:
            case.responded_at = now
        details.update(decision_amount=amount, remedy=case.remedy)
    elif action == "notify":
        case.notified_at = now
    elif action == "close":
        if case.kind == CaseKind.COMPLAINT and case.root_cause_id is None:
            raise ValidationError(_("投诉办结前必须登记问题根因 (溯源整改)"))
        case.closed_at = now
        case.outcome = (data.get("outcome") or case.outcome or "").strip()
    elif action == "review":
        reference = case.notified_at or case.closed_at
        if reference and now - reference > dt.timedelta(days=REVIEW_WINDOW_DAYS):
            raise ValidationError(_("核查申请已超过告知后 30 日的期限"))
        if case.unit.parent_id is None:
            raise ValidationError(_("该机构没有上级机构, 无法提交核查"))
        case.review_unit = case.unit.parent
        case.review_requested_at = now
        details["first_decision_on_time"] = case.on_time
        case.decided_at = case.notified_at = case.closed_at = None
        details["review_unit"] = case.review_unit.code
    elif action == "withdraw":
        case.closed_at = now
    elif action == "merge":
        target = data.get("merged_into")
        if target is None or target.pk == case.pk:
            raise ValidationError({"merged_into": _("请指定要合并到的另一张工单")})
        case.merged_into = target
        case.closed_at = now
        details["merged_into"] = target.case_no
    if action in ("accept", "start") and case.responded_at is None:
        case.responded_at = now
    case.status = to_status
    case_clock_refresh(case)
    case.version += 1
    case.save()
    _event(
        case, actor, action, from_status=from_status, to_status=to_status, reason=reason, at=now, **details
    )
    audit_record(
        actor=actor,
        action="transition",
        obj=case,
        unit=case.unit,
        request=request,
        details={
            "from": from_status,
            "to": to_status,
            "action": action,
            "reason": reason,
            **{k: str(v) for k, v in details.items()},
        },
    )
    if action == "close" and case.kind == CaseKind.COMPLAINT:
        rectification_check_recurrence(case=case)
    return case


@transaction.atomic
def case_extend(
    *, actor, case: Case, reason: str, approver, version: int | None = None, request=None
) -> Case:
    """延期: to 30 days (approved by a unit head or officer of the case's unit or above), then by 30
    more (approved by the upper-level unit or a head-office manager). The reason is required."""
    access.require_write(actor)
    case = _lock(case, version)
    if case.kind != CaseKind.COMPLAINT:
        raise ValidationError(_("只有投诉适用延期规则"))
    if case.status not in EXTENDABLE_STATUSES:
        raise ValidationError(_("当前状态「%(s)s」不能延期") % {"s": case.get_status_display()})
    if case.extension_level >= 2:
        raise ValidationError(_("已延期两次, 办理期限最长 60 日, 不能再延期"))
    if len((reason or "").strip()) < 4:
        raise ValidationError({"reason": _("请填写延期原因 (至少 4 个字)")})
    level = case.extension_level + 1
    if not approver.has_role(Role.UNIT_HEAD, Role.OFFICER, Role.ADMIN) and not approver.is_superuser:
        raise ValidationError({"approver": _("审批人须为机构负责人或消保管理岗")})
    if not access.unit_visible(approver, case.unit):
        raise ValidationError({"approver": _("审批人须属于本机构或上级机构")})
    if level == 2 and not access.is_admin(approver) and approver.unit_id == case.unit_id:
        raise ValidationError({"approver": _("第二次延期须由上级机构或总公司高级管理人员审批")})
    Extension.objects.create(
        case=case, level=level, reason=reason.strip(), approver=approver, approved_at=timezone.now()
    )
    case.extension_level = level
    old_due = case.due_date
    case_clock_refresh(case)
    case.version += 1
    case.save()
    _event(
        case,
        actor,
        "extend",
        reason=f"{reason} (期限 {old_due} → {case.due_date})",
        level=level,
        approver=str(approver),
        old_due=old_due,
        new_due=case.due_date,
    )
    audit_record(
        actor=actor,
        action="update",
        obj=case,
        unit=case.unit,
        request=request,
        details={
            "extension": level,
            "approver": approver.get_username(),
            "reason": reason,
            "due": str(case.due_date),
        },
    )
    return case


@transaction.atomic
def case_assign(*, actor, case: Case, handler, version: int | None = None, request=None) -> Case:
    """专人跟进: give the case to a named handler who can see its unit."""
    access.require_write(actor)
    case = _lock(case, version)
    if not case_actor_may_handle(actor, case):
        raise PermissionDenied(_("该工单正由上级机构核查, 只有该机构人员可以分配"))
    if not handler.is_active or not handler.has_role(Role.HANDLER, Role.OFFICER):
        raise ValidationError({"handler": _("只能分配给在职的处理人或消保管理岗")})
    if not access.unit_visible(handler, case.unit):
        raise ValidationError({"handler": _("%(u)s 无权查看该机构的工单") % {"u": handler}})
    old = case.handler
    case.handler = handler
    case.version += 1
    case.save(update_fields=["handler", "version", "updated_at"])
    _event(case, actor, "assign", reason=str(handler), handler=str(handler), previous=str(old) if old else "")
    audit_record(
        actor=actor,
        action="update",
        obj=case,
        unit=case.unit,
        request=request,
        details={"handler": handler.get_username()},
    )
    _notify(handler, case, _("工单 %(no)s 已分配给您") % {"no": case.case_no})
    return case


@transaction.atomic
def plan_step_add(*, actor, case: Case, due_date: dt.date, action: str, owner=None) -> PlanStep:
    access.require_write(actor)
    if not (action or "").strip():
        raise ValidationError({"action": _("请填写措施")})
    step = PlanStep.objects.create(case=case, due_date=due_date, action=action.strip(), owner=owner)
    _event(case, actor, "plan", reason=action, due_date=due_date)
    return step


@transaction.atomic
def plan_step_done(*, actor, step: PlanStep) -> PlanStep:
    access.require_write(actor)
    step.done_at = timezone.now()
    step.save(update_fields=["done_at"])
    _event(step.case, actor, "plan_done", reason=step.action)
    return step


@transaction.atomic
def contact_add(
    *,
    actor,
    case: Case,
    method: str,
    outcome: str,
    note: str = "",
    at: dt.datetime | None = None,
    request=None,
) -> Contact:
    """联系记录. The first contact also counts as the case's first response."""
    access.require_write(actor)
    from xiaobao.cases.models import ContactMethod

    errors = {}
    if method not in ContactMethod.values:
        errors["method"] = _("未知的联系方式: %(v)s") % {"v": method}
    if not (outcome or "").strip():
        errors["outcome"] = _("请填写联系结果")
    at = at or timezone.now()
    if at > timezone.now() + dt.timedelta(minutes=5):
        errors["at"] = _("联系时间不能晚于现在")
    if errors:
        raise ValidationError(errors)
    contact = Contact.objects.create(
        case=case, at=at, method=method, outcome=outcome.strip(), note=note.strip(), actor=actor
    )
    if case.responded_at is None:
        Case.objects.filter(pk=case.pk, responded_at=None).update(responded_at=at)
        case.responded_at = at
    _event(case, actor, "contact", reason=outcome, method=method)
    audit_record(actor=actor, action="create", obj=contact, unit=case.unit, request=request)
    return contact


@transaction.atomic
def case_root_cause_set(
    *, actor, case: Case, root_cause: RootCause, root_unit=None, agent_code="", product_code="", version=None
) -> Case:
    """溯源: record why the complaint happened, who was responsible and which product."""
    access.require_write(actor)
    case = _lock(case, version)
    case.root_cause = root_cause
    case.root_unit = root_unit or case.unit
    case.root_agent_code = agent_code.strip()
    case.root_product_code = product_code.strip()
    case.version += 1
    case.save()
    _event(
        case,
        actor,
        "root_cause",
        reason=root_cause.name,
        agent=case.root_agent_code,
        product=case.root_product_code,
    )
    return case


@transaction.atomic
def case_satisfaction_record(*, actor, case: Case, result: str, note: str = "") -> Case:
    """满意度回访 after the case is decided."""
    access.require_write(actor)
    if result not in ("满意", "基本满意", "不满意"):
        raise ValidationError({"satisfaction": _("回访结果应为 满意 / 基本满意 / 不满意")})
    if case.decided_at is None:
        raise ValidationError(_("工单作出决定后才能回访"))
    Case.objects.filter(pk=case.pk).update(satisfaction=result)
    case.satisfaction = result
    _event(case, actor, "callback", reason=note, result=result)
    return case


@transaction.atomic
def rectification_create(
    *,
    actor,
    title: str,
    root_cause: RootCause,
    unit,
    owner,
    due_date: dt.date,
    cases=(),
    product_code="",
    agent_code="",
    measures="",
    watch_days: int = 180,
) -> Rectification:
    access.require_write(actor)
    rect = Rectification(
        title=title.strip(),
        root_cause=root_cause,
        unit=unit,
        owner=owner,
        due_date=due_date,
        product_code=product_code.strip(),
        agent_code=agent_code.strip(),
        measures=measures,
        watch_days=watch_days,
    )
    rect.full_clean()
    rect.save()
    rect.cases.set(cases)
    audit_record(actor=actor, action="create", obj=rect, unit=unit)
    _notify_user(owner, _("您有新的整改事项: %(t)s, 期限 %(d)s") % {"t": rect.title, "d": due_date})
    return rect


def _notify_user(user, message: str, case=None) -> None:
    transaction.on_commit(lambda: Notification.objects.create(user=user, case=case, message=message[:300]))


@transaction.atomic
def rectification_submit(*, actor, rect: Rectification, measures: str) -> Rectification:
    access.require_write(actor)
    if rect.status not in (RectificationStatus.OPEN, RectificationStatus.INEFFECTIVE):
        raise ValidationError(_("当前状态不能提交整改"))
    if not rect.evidence.exists():
        raise ValidationError(_("请先上传整改佐证材料"))
    rect.measures = measures.strip() or rect.measures
    rect.status = RectificationStatus.SUBMITTED
    rect.save(update_fields=["measures", "status"])
    audit_record(actor=actor, action="transition", obj=rect, unit=rect.unit, details={"to": rect.status})
    return rect


@transaction.atomic
def rectification_verify(*, actor, rect: Rectification, accepted: bool, note: str) -> Rectification:
    """The officer verifies (or sends back) a submitted rectification."""
    if not (actor.has_role(Role.OFFICER, Role.ADMIN) or actor.is_superuser):
        raise PermissionDenied(_("只有消保管理岗可以验证整改"))
    if rect.status != RectificationStatus.SUBMITTED:
        raise ValidationError(_("只有待验证的整改可以验证"))
    if not note.strip():
        raise ValidationError({"note": _("请填写验证意见")})
    rect.status = RectificationStatus.VERIFIED if accepted else RectificationStatus.OPEN
    rect.verified_by = actor if accepted else None
    rect.verified_at = timezone.now() if accepted else None
    rect.verification_note = note.strip()
    rect.save()
    audit_record(
        actor=actor, action="transition", obj=rect, unit=rect.unit, details={"to": rect.status, "note": note}
    )
    return rect


def rectification_check_recurrence(*, case: Case) -> list[Rectification]:
    """A later complaint with the same root cause and the same product or agent, inside the watch
    window after verification, shows the rectification did not work: mark it and tell its owner."""
    if case.root_cause_id is None:
        return []
    from django.db.models import Q

    match = Q()
    if case.root_product_code:
        match |= Q(product_code=case.root_product_code)
    if case.root_agent_code:
        match |= Q(agent_code=case.root_agent_code)
    if not match:
        return []
    hits = []
    for rect in Rectification.objects.filter(
        match,
        status=RectificationStatus.VERIFIED,
        root_cause=case.root_cause,
        verified_at__lt=case.received_at,
    ).exclude(cases=case):
        if case.received_at - rect.verified_at > dt.timedelta(days=rect.watch_days):
            continue
        rect.status = RectificationStatus.INEFFECTIVE
        rect.recurred_case = case
        rect.save(update_fields=["status", "recurred_case"])
        audit_record(
            action="transition", obj=rect, unit=rect.unit, details={"to": rect.status, "case": case.case_no}
        )
        _notify_user(
            rect.owner,
            _("整改「%(t)s」验证后再次出现同类投诉 %(no)s, 已标记为整改无效")
            % {"t": rect.title, "no": case.case_no},
            case=case,
        )
        hits.append(rect)
    return hits


def clocks_recompute_open(*, since: dt.date | None = None) -> int:
    """After the holiday table changes, recompute the clocks of every open case (whose deadline
    could move). Decided cases keep the deadline that was in force when they were decided."""
    cal = work_calendar()
    cases = Case.objects.filter(status__in=[*OPEN_STATUSES]).prefetch_related("pauses")
    if since is not None:
        cases = cases.filter(due_date__gte=since - dt.timedelta(days=70))
    changed = []
    for case in cases.iterator(chunk_size=2000):
        before = (case.due_date, case.deadline_rule, case.deadline_provisional, case.response_due_date)
        case_clock_refresh(case, cal)
        if before != (case.due_date, case.deadline_rule, case.deadline_provisional, case.response_due_date):
            changed.append(case)
    Case.objects.bulk_update(
        changed, ["due_date", "deadline_rule", "deadline_provisional", "response_due_date"], batch_size=1000
    )
    return len(changed)
