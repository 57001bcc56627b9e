"""Writes of governance: committee meetings, resolutions and action items (督办事项), 高管讲消保, plans
and their approval, the rules library, drills, business-quality issues and bulletins.

Every service is keyword-only and atomic, checks who may act (xiaobao.accounts.access and
xiaobao.governance.access), validates in Chinese, writes an audit entry in the same transaction and
schedules in-app notifications after commit. Status changes go through the transition tables next
to the models and leave an event row.
"""

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.accounts.models import Role, User
from xiaobao.audit.services import audit_record
from xiaobao.cases.models import Notification
from xiaobao.governance import access as gov_access
from xiaobao.governance.files import attachment_fill, upload_sha256
from xiaobao.governance.models import (
    ACTION_TRANSITIONS,
    CASE_SOURCES,
    PLAN_EDITABLE,
    PLAN_TRANSITIONS,
    QUALITY_TRANSITIONS,
    ActionEvent,
    ActionEvidence,
    ActionItem,
    Bulletin,
    BulletinReceipt,
    BulletinStatus,
    Drill,
    DrillScenario,
    DrillStatus,
    ExecutiveTalk,
    Meeting,
    MeetingStatus,
    Plan,
    PlanEvent,
    PlanFile,
    PlanKind,
    QualityCategory,
    QualityEvent,
    QualityIssue,
    QualitySource,
    Resolution,
    Rule,
    RuleCategory,
    RuleStatus,
    RuleVersion,
    Severity,
)
from xiaobao.org.models import Unit

NOTE_MAX = 300  # Notification.message max_length


# --- helpers ----------------------------------------------------------------------------------------


def _check_unit(actor, unit: Unit | None, what: str) -> None:
    access.require_write(actor)
    if unit is None:
        raise ValidationError({"unit": _("请选择机构")})
    if not access.unit_visible(actor, unit):
        raise PermissionDenied(_("不能在权限范围以外的机构%(what)s") % {"what": what})


def _required(errors: dict, field: str, value, message: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[field] = message


def _notify(users: Iterable[User], message: str) -> None:
    """In-app notifications, created only when the change commits."""
    people = [u for u in users if u is not None and u.is_active]
    if people:
        rows = [Notification(user=u, message=message[:NOTE_MAX]) for u in people]
        transaction.on_commit(lambda: Notification.objects.bulk_create(rows))


def unit_leaders(unit: Unit, roles: tuple[str, ...]) -> list[User]:
    """Active users with one of `roles` in `unit`, or in the nearest unit above that has any."""
    codes = unit.path.strip("/").split("/")
    by_unit: dict[str, list[User]] = {}
    for user in (
        User.objects.filter(is_active=True, unit__code__in=codes).select_related("unit").order_by("pk")
    ):
        if user.has_role(*roles):
            by_unit.setdefault(user.unit.code, []).append(user)
    for code in reversed(codes):
        if by_unit.get(code):
            return by_unit[code]
    return []


def _event(model, *, actor, action, from_status="", to_status="", reason="", **link):
    return model.objects.create(
        at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        **link,
    )


def _check_people(actor, people: Iterable[User], field: str) -> list[User]:
    people = list(people)
    hidden = [str(p) for p in people if not access.unit_visible(actor, p.unit)]
    if hidden:
        raise ValidationError({field: _("以下人员不在您的权限范围内: %(p)s") % {"p": "、".join(hidden)}})
    return people


# --- committee meetings ----------------------------------------------------------------------------


@transaction.atomic
def meeting_create(
    *,
    actor,
    unit: Unit,
    title: str,
    held_on: dt.date,
    agenda: str,
    place: str = "",
    chair: User | None = None,
    attendees: Iterable[User] = (),
    other_attendees: str = "",
    minutes: str = "",
    request=None,
) -> Meeting:
    """Schedule a committee meeting, or record one already held when its minutes come with it.

    1. Check the actor may write in the unit, and the required fields.
    2. Minutes make the meeting 已召开; a meeting in the future cannot have minutes yet.
    3. Save with its attendees and write the audit entry.
    """
    _check_unit(actor, unit, _("召开委员会会议"))
    errors = {}
    _required(errors, "title", title, _("请填写会议名称"))
    _required(errors, "held_on", held_on, _("请填写会议日期"))
    _required(errors, "agenda", agenda, _("请填写会议议程"))
    if minutes.strip() and held_on and held_on > timezone.localdate():
        errors["minutes"] = _("会议尚未召开，不能登记会议纪要")
    if errors:
        raise ValidationError(errors)
    attendees = _check_people(actor, attendees, "attendees")
    meeting = Meeting(
        unit=unit,
        title=title.strip(),
        held_on=held_on,
        place=place.strip(),
        chair=chair,
        agenda=agenda.strip(),
        other_attendees=other_attendees.strip(),
        minutes=minutes.strip(),
        status=MeetingStatus.HELD if minutes.strip() else MeetingStatus.PLANNED,
        created_by=actor,
    )
    meeting.full_clean(exclude=["chair", "created_by"])
    meeting.save()
    meeting.attendees.set(attendees)
    audit_record(actor=actor, action="create", obj=meeting, unit=unit, request=request)
    return meeting


@transaction.atomic
def meeting_record_minutes(
    *,
    actor,
    meeting: Meeting,
    minutes: str,
    attendees: Iterable[User] | None = None,
    other_attendees: str | None = None,
    request=None,
) -> Meeting:
    """会议纪要: record (or correct) the minutes and who attended; the meeting is then 已召开."""
    _check_unit(actor, meeting.unit, _("登记会议纪要"))
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not minutes.strip():
        raise ValidationError({"minutes": _("请填写会议纪要")})
    if meeting.held_on > timezone.localdate():
        raise ValidationError({"minutes": _("会议尚未召开，不能登记会议纪要")})
    before = meeting.status
    meeting.minutes = minutes.strip()
    meeting.status = MeetingStatus.HELD
    if other_attendees is not None:
        meeting.other_attendees = other_attendees.strip()
    meeting.save(update_fields=["minutes", "status", "other_attendees", "updated_at"])
    if attendees is not None:
        meeting.attendees.set(_check_people(actor, attendees, "attendees"))
    audit_record(
        actor=actor,
        action="update",
        obj=meeting,
        unit=meeting.unit,
        request=request,
        details={"minutes": True, "from": before, "to": meeting.status},
    )
    return meeting


@transaction.atomic
def resolution_add(*, actor, meeting: Meeting, text: str, request=None) -> Resolution:
    """决议: numbered in the meeting's order; only a meeting that was held can resolve anything."""
    _check_unit(actor, meeting.unit, _("登记决议"))
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status != MeetingStatus.HELD:
        raise ValidationError(_("会议召开并登记纪要后才能登记决议"))
    if not (text or "").strip():
        raise ValidationError({"text": _("请填写决议内容")})
    number = (meeting.resolutions.aggregate(n=Max("number"))["n"] or 0) + 1
    resolution = Resolution.objects.create(
        meeting=meeting, number=number, text=text.strip(), created_by=actor
    )
    audit_record(actor=actor, action="create", obj=resolution, unit=meeting.unit, request=request)
    return resolution


# --- action items (督办事项) -----------------------------------------------------------------------


@transaction.atomic
def action_create(
    *,
    actor,
    title: str,
    owner: User | None,
    due_date: dt.date | None,
    resolution: Resolution | None = None,
    drill: Drill | None = None,
    request=None,
) -> ActionItem:
    """Give a resolution (or a drill's finding) an action item with an owner and a due date.

    1. Check the source: exactly one of resolution and drill, in a unit the actor can write in.
    2. Refuse an item without an owner or a due date, an owner the actor cannot see, and a due date
       before the meeting or drill.
    3. Save it in the owner's unit (which decides who sees it), write the event and audit rows,
       and tell the owner in the app.
    """
    if (resolution is None) == (drill is None):
        raise ValidationError(_("督办事项须来自一项决议或一次应急演练"))
    source_unit = resolution.meeting.unit if resolution is not None else drill.unit
    source_date = resolution.meeting.held_on if resolution is not None else drill.held_on
    _check_unit(actor, source_unit, _("布置督办事项"))
    if drill is not None and drill.status != DrillStatus.HELD:
        raise ValidationError(_("演练完成并登记评估后才能布置整改事项"))
    errors = {}
    _required(errors, "title", title, _("请填写督办事项"))
    if owner is None:
        errors["owner"] = _("督办事项必须指定责任人")
    elif not owner.is_active:
        errors["owner"] = _("责任人账号已停用")
    elif owner.unit is None or not access.unit_visible(actor, owner.unit):
        errors["owner"] = _("责任人不在您的权限范围内")
    if due_date is None:
        errors["due_date"] = _("督办事项必须设定完成期限")
    elif due_date < source_date:
        errors["due_date"] = _("完成期限不能早于会议或演练日期 (%(d)s)") % {"d": source_date}
    if errors:
        raise ValidationError(errors)
    item = ActionItem(
        resolution=resolution,
        drill=drill,
        title=title.strip(),
        unit=owner.unit,
        owner=owner,
        due_date=due_date,
        created_by=actor,
    )
    item.full_clean(exclude=["resolution", "drill", "created_by", "closed_by"])
    item.save()
    _event(ActionEvent, item=item, actor=actor, action="create", to_status=item.status, reason=item.title)
    audit_record(
        actor=actor,
        action="create",
        obj=item,
        unit=item.unit,
        request=request,
        details={"owner": owner.get_username(), "due_date": str(due_date)},
    )
    _notify(
        [owner],
        _("您有新的督办事项 #%(id)s: %(t)s, 完成期限 %(d)s")
        % {"id": item.pk, "t": item.title, "d": due_date},
    )
    return item


@transaction.atomic
def action_evidence_add(*, actor, item: ActionItem, upload, request=None) -> ActionEvidence:
    """佐证材料: sniffed, hashed, stored; only while the item is open."""
    access.require_write(actor)
    if not item.is_open:
        raise ValidationError(_("督办事项已%(s)s, 不能再上传佐证材料") % {"s": item.get_status_display()})
    evidence = ActionEvidence(item=item)
    attachment_fill(evidence, upload, actor=actor)
    evidence.save()
    _event(ActionEvent, item=item, actor=actor, action="evidence", reason=evidence.original_name)
    audit_record(
        actor=actor,
        action="create",
        obj=evidence,
        unit=item.unit,
        request=request,
        details={"sha256": evidence.sha256, "size": evidence.size},
    )
    return evidence


@transaction.atomic
def action_transition(*, actor, item: ActionItem, action: str, note: str = "", request=None) -> ActionItem:
    """Close (needs evidence), reopen or cancel (both need a reason), through ACTION_TRANSITIONS.

    1. Lock the row and check the action is allowed from the current status.
    2. Check what the action needs, apply it and write the event and audit rows.
    3. Tell the owner when somebody else reopened or cancelled the item.
    """
    access.require_write(actor)
    if action not in ACTION_TRANSITIONS:
        raise ValidationError(_("未知的操作: %(a)s") % {"a": action})
    # Lock the item row only (of=self): PostgreSQL refuses FOR UPDATE across nullable joins.
    item = ActionItem.objects.select_for_update(of=("self",)).select_related("owner", "unit").get(pk=item.pk)
    allowed, to_status, label = ACTION_TRANSITIONS[action]
    if item.status not in allowed:
        raise ValidationError(
            _("当前状态「%(s)s」不能执行「%(a)s」") % {"s": item.get_status_display(), "a": label}
        )
    note = (note or "").strip()
    if action == "close":
        if not item.evidence.exists():
            raise ValidationError(_("请先上传佐证材料再办结"))
        item.closing_note = note
        item.closed_at = timezone.now()
        item.closed_by = actor
    else:
        if not note:
            raise ValidationError({"note": _("请填写原因")})
        item.closed_at = timezone.now() if action == "cancel" else None
        item.closed_by = actor if action == "cancel" else None
    from_status = item.status
    item.status = to_status
    item.save(update_fields=["status", "closing_note", "closed_at", "closed_by"])
    _event(
        ActionEvent,
        item=item,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=note,
    )
    audit_record(
        actor=actor,
        action="transition",
        obj=item,
        unit=item.unit,
        request=request,
        details={"from": from_status, "to": to_status, "action": action, "note": note},
    )
    if action != "close" and item.owner_id != getattr(actor, "pk", None):
        _notify(
            [item.owner],
            _("督办事项 #%(id)s「%(t)s」已%(a)s: %(n)s")
            % {"id": item.pk, "t": item.title, "a": label, "n": note},
        )
    return item


# --- 高管讲消保 ----------------------------------------------------------------------------------------


@transaction.atomic
def talk_create(
    *,
    actor,
    unit: Unit,
    held_on: dt.date,
    topic: str,
    speaker_name: str,
    speaker: User | None = None,
    speaker_title: str = "",
    audience: str = "",
    participants: int = 0,
    summary: str = "",
    request=None,
) -> ExecutiveTalk:
    _check_unit(actor, unit, _("登记高管讲消保"))
    errors = {}
    _required(errors, "topic", topic, _("请填写主题"))
    _required(errors, "held_on", held_on, _("请填写日期"))
    if not (speaker_name or "").strip() and speaker is None:
        errors["speaker_name"] = _("请填写主讲人")
    if held_on and held_on > timezone.localdate():
        errors["held_on"] = _("只能登记已经开展的高管讲消保")
    if participants is not None and participants < 0:
        errors["participants"] = _("参加人数不能为负数")
    if errors:
        raise ValidationError(errors)
    talk = ExecutiveTalk(
        unit=unit,
        held_on=held_on,
        speaker=speaker,
        speaker_name=(speaker_name or "").strip() or str(speaker),
        speaker_title=speaker_title.strip(),
        topic=topic.strip(),
        audience=audience.strip(),
        participants=participants or 0,
        summary=summary.strip(),
        created_by=actor,
    )
    talk.full_clean(exclude=["speaker", "created_by"])
    talk.save()
    audit_record(actor=actor, action="create", obj=talk, unit=unit, request=request)
    return talk


# --- plans ------------------------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *, actor, unit: Unit, year: int, kind: str, title: str, content: str = "", request=None
) -> Plan:
    _check_unit(actor, unit, _("制定计划"))
    errors = {}
    if kind not in PlanKind.values:
        errors["kind"] = _("未知的计划类型: %(v)s") % {"v": kind}
    _required(errors, "title", title, _("请填写计划名称"))
    if not year or not 2000 <= int(year) <= timezone.localdate().year + 1:
        errors["year"] = _("年度应在 2000 年至明年之间")
    if errors:
        raise ValidationError(errors)
    plan = Plan(
        unit=unit, year=year, kind=kind, title=title.strip(), content=content.strip(), created_by=actor
    )
    plan.full_clean(exclude=["created_by", "decided_by"])
    plan.save()
    _event(PlanEvent, plan=plan, actor=actor, action="create", to_status=plan.status)
    audit_record(actor=actor, action="create", obj=plan, unit=unit, request=request)
    return plan


@transaction.atomic
def plan_update(*, actor, plan: Plan, title: str, content: str, request=None) -> Plan:
    """Edit a draft or a returned plan; a submitted or approved plan is fixed."""
    _check_unit(actor, plan.unit, _("修改计划"))
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in PLAN_EDITABLE:
        raise ValidationError(_("「%(s)s」的计划不能修改") % {"s": plan.get_status_display()})
    if not (title or "").strip():
        raise ValidationError({"title": _("请填写计划名称")})
    plan.title, plan.content = title.strip(), (content or "").strip()
    plan.save(update_fields=["title", "content"])
    audit_record(actor=actor, action="update", obj=plan, unit=plan.unit, request=request)
    return plan


@transaction.atomic
def plan_file_add(*, actor, plan: Plan, upload, request=None) -> PlanFile:
    _check_unit(actor, plan.unit, _("上传计划文件"))
    if plan.status not in PLAN_EDITABLE:
        raise ValidationError(_("「%(s)s」的计划不能再上传文件") % {"s": plan.get_status_display()})
    attachment = PlanFile(plan=plan)
    attachment_fill(attachment, upload, actor=actor)
    attachment.save()
    _event(PlanEvent, plan=plan, actor=actor, action="file", reason=attachment.original_name)
    audit_record(
        actor=actor,
        action="create",
        obj=attachment,
        unit=plan.unit,
        request=request,
        details={"sha256": attachment.sha256, "size": attachment.size},
    )
    return attachment


@transaction.atomic
def plan_transition(*, actor, plan: Plan, action: str, opinion: str = "", request=None) -> Plan:
    """Submit a plan to the unit head, or approve or return it (the head's decision is the record).

    1. Lock the plan and check the action against PLAN_TRANSITIONS.
    2. Submitting needs content or a file and a writer in scope; approving and returning need a
       unit head of the plan's unit or above; returning needs an opinion.
    3. Record who decided, when and the opinion on the plan and as a PlanEvent; audit it; tell the
       unit heads of a submission and the author of a decision.
    """
    if action not in PLAN_TRANSITIONS:
        raise ValidationError(_("未知的操作: %(a)s") % {"a": action})
    if action == "submit":
        _check_unit(actor, plan.unit, _("提交计划"))
    else:
        gov_access.require_plan_approver(actor, plan)
    # Lock the plan row only (of=self): created_by is a nullable join, which FOR UPDATE cannot cover.
    plan = Plan.objects.select_for_update(of=("self",)).select_related("unit", "created_by").get(pk=plan.pk)
    allowed, to_status, label = PLAN_TRANSITIONS[action]
    if plan.status not in allowed:
        raise ValidationError(
            _("当前状态「%(s)s」不能执行「%(a)s」") % {"s": plan.get_status_display(), "a": label}
        )
    opinion = (opinion or "").strip()
    now = timezone.now()
    if action == "submit":
        if not plan.content.strip() and not plan.files.exists():
            raise ValidationError(_("请先填写计划内容或上传计划文件"))
        plan.submitted_at = now
        plan.decided_by, plan.decided_at, plan.opinion = None, None, ""
    else:
        if action == "return" and not opinion:
            raise ValidationError({"opinion": _("退回时请填写审批意见")})
        plan.decided_by, plan.decided_at, plan.opinion = actor, now, opinion
    from_status = plan.status
    plan.status = to_status
    plan.save(update_fields=["status", "submitted_at", "decided_by", "decided_at", "opinion"])
    _event(
        PlanEvent,
        plan=plan,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=opinion,
    )
    audit_record(
        actor=actor,
        action="transition",
        obj=plan,
        unit=plan.unit,
        request=request,
        details={"from": from_status, "to": to_status, "action": action, "opinion": opinion},
    )
    if action == "submit":
        _notify(
            unit_leaders(plan.unit, (Role.UNIT_HEAD,)),
            _("计划「%(t)s」已提交，请审批") % {"t": plan.title},
        )
    elif plan.created_by is not None:
        _notify(
            [plan.created_by],
            _("计划「%(t)s」%(a)s: %(o)s") % {"t": plan.title, "a": label, "o": opinion or _("无意见")},
        )
    return plan


# --- rules library (制度) ----------------------------------------------------------------------------


@transaction.atomic
def rule_create(
    *,
    actor,
    unit: Unit,
    title: str,
    category: str,
    upload,
    effective_on: dt.date,
    code: str = "",
    department: str = "",
    note: str = "",
    request=None,
) -> Rule:
    """A new 制度 with its first version (the file and the date it takes effect)."""
    _check_unit(actor, unit, _("发布制度"))
    errors = {}
    _required(errors, "title", title, _("请填写制度名称"))
    if category not in RuleCategory.values:
        errors["category"] = _("未知的制度类别: %(v)s") % {"v": category}
    if effective_on is None:
        errors["effective_on"] = _("请填写生效日期")
    if upload is None:
        errors["file"] = _("请上传制度文件")
    if errors:
        raise ValidationError(errors)
    rule = Rule(
        unit=unit,
        code=code.strip(),
        title=title.strip(),
        category=category,
        department=department.strip(),
        created_by=actor,
    )
    rule.full_clean(exclude=["created_by"])
    rule.save()
    audit_record(actor=actor, action="create", obj=rule, unit=unit, request=request)
    _version_save(actor=actor, rule=rule, number=1, upload=upload, effective_on=effective_on, note=note)
    return rule


def _version_save(*, actor, rule: Rule, number: int, upload, effective_on, note: str) -> RuleVersion:
    version = RuleVersion(rule=rule, number=number, effective_on=effective_on, note=note.strip())
    try:
        attachment_fill(version, upload, actor=actor)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    version.save()
    audit_record(
        actor=actor,
        action="create",
        obj=version,
        unit=rule.unit,
        details={"sha256": version.sha256, "effective_on": str(effective_on)},
    )
    return version


@transaction.atomic
def rule_version_add(
    *, actor, rule: Rule, upload, effective_on: dt.date, note: str, request=None
) -> RuleVersion:
    """修订: a new version; it supersedes the one in force from its effective date, which is kept.

    A revision takes effect no earlier than the latest version, must say what changed, and must be
    a different file.
    """
    _check_unit(actor, rule.unit, _("修订制度"))
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if rule.status != RuleStatus.ACTIVE:
        raise ValidationError(_("已废止的制度不能修订"))
    latest = rule.versions.order_by("-number").first()
    errors = {}
    if upload is None:
        errors["file"] = _("请上传修订后的制度文件")
    if effective_on is None:
        errors["effective_on"] = _("请填写生效日期")
    elif latest is not None and effective_on < latest.effective_on:
        errors["effective_on"] = _("生效日期不能早于上一版本的生效日期 (%(d)s)") % {"d": latest.effective_on}
    if not (note or "").strip():
        errors["note"] = _("请填写修订说明")
    if upload is not None and latest is not None and upload_sha256(upload) == latest.sha256:
        errors["file"] = _("上传的文件与上一版本完全相同")
    if errors:
        raise ValidationError(errors)
    return _version_save(
        actor=actor,
        rule=rule,
        number=(latest.number if latest else 0) + 1,
        upload=upload,
        effective_on=effective_on,
        note=note,
    )


@transaction.atomic
def rule_repeal(*, actor, rule: Rule, repealed_on: dt.date, reason: str, request=None) -> Rule:
    _check_unit(actor, rule.unit, _("废止制度"))
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if rule.status != RuleStatus.ACTIVE:
        raise ValidationError(_("该制度已废止"))
    errors = {}
    if repealed_on is None:
        errors["repealed_on"] = _("请填写废止日期")
    _required(errors, "reason", reason, _("请填写废止原因"))
    if errors:
        raise ValidationError(errors)
    rule.status, rule.repealed_on, rule.repeal_reason = RuleStatus.REPEALED, repealed_on, reason.strip()
    rule.save(update_fields=["status", "repealed_on", "repeal_reason"])
    audit_record(
        actor=actor,
        action="transition",
        obj=rule,
        unit=rule.unit,
        request=request,
        details={"to": rule.status, "repealed_on": str(repealed_on), "reason": rule.repeal_reason},
    )
    return rule


# --- drills (应急演练) --------------------------------------------------------------------------------


@transaction.atomic
def drill_create(
    *,
    actor,
    unit: Unit,
    title: str,
    scenario_kind: str,
    scenario: str,
    held_on: dt.date,
    participants: Iterable[User] = (),
    other_participants: str = "",
    findings: str = "",
    request=None,
) -> Drill:
    """Schedule a drill, or record one already held when its findings come with it."""
    _check_unit(actor, unit, _("组织应急演练"))
    errors = {}
    _required(errors, "title", title, _("请填写演练名称"))
    _required(errors, "scenario", scenario, _("请描述演练场景"))
    _required(errors, "held_on", held_on, _("请填写演练日期"))
    if scenario_kind not in DrillScenario.values:
        errors["scenario_kind"] = _("未知的场景类型: %(v)s") % {"v": scenario_kind}
    if findings.strip() and held_on and held_on > timezone.localdate():
        errors["findings"] = _("演练尚未开展，不能登记评估")
    if errors:
        raise ValidationError(errors)
    participants = _check_people(actor, participants, "participants")
    drill = Drill(
        unit=unit,
        title=title.strip(),
        scenario_kind=scenario_kind,
        scenario=scenario.strip(),
        held_on=held_on,
        other_participants=other_participants.strip(),
        findings=findings.strip(),
        status=DrillStatus.HELD if findings.strip() else DrillStatus.PLANNED,
        created_by=actor,
    )
    drill.full_clean(exclude=["created_by"])
    drill.save()
    drill.participants.set(participants)
    audit_record(actor=actor, action="create", obj=drill, unit=unit, request=request)
    return drill


@transaction.atomic
def drill_record_findings(
    *, actor, drill: Drill, findings: str, participants: Iterable[User] | None = None, request=None
) -> Drill:
    _check_unit(actor, drill.unit, _("登记演练评估"))
    drill = Drill.objects.select_for_update().get(pk=drill.pk)
    if not (findings or "").strip():
        raise ValidationError({"findings": _("请填写发现的问题与评估")})
    if drill.held_on > timezone.localdate():
        raise ValidationError({"findings": _("演练尚未开展，不能登记评估")})
    drill.findings, drill.status = findings.strip(), DrillStatus.HELD
    drill.save(update_fields=["findings", "status"])
    if participants is not None:
        drill.participants.set(_check_people(actor, participants, "participants"))
    audit_record(actor=actor, action="update", obj=drill, unit=drill.unit, request=request)
    return drill


# --- business quality (业务品质) ---------------------------------------------------------------------


def quality_next_ref(year: int) -> str:
    prefix = f"PZ{year}-"
    last = QualityIssue.objects.filter(ref__startswith=prefix).aggregate(m=Max("ref"))["m"]
    seq = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{seq:03d}"


@transaction.atomic
def issue_create(
    *,
    actor,
    unit: Unit,
    source: str,
    category: str,
    title: str,
    description: str,
    found_on: dt.date,
    owner: User | None,
    due_date: dt.date | None,
    severity: str = Severity.MINOR,
    case=None,
    source_ref: str = "",
    request=None,
) -> QualityIssue:
    """业务品质问题: found in a work order, the complaint ledger, a review or an inspection.

    1. Check the unit, the enums and the required fields; an issue from the hotline or the
       complaint ledger must name its case, which the actor must be able to see.
    2. Number it PZ<year>-<seq>, save, write the event and audit rows, tell the owner.
    """
    _check_unit(actor, unit, _("登记业务品质问题"))
    errors = {}
    if source not in QualitySource.values:
        errors["source"] = _("未知的发现来源: %(v)s") % {"v": source}
    if category not in QualityCategory.values:
        errors["category"] = _("未知的问题类型: %(v)s") % {"v": category}
    if severity not in Severity.values:
        errors["severity"] = _("未知的严重程度: %(v)s") % {"v": severity}
    _required(errors, "title", title, _("请填写问题"))
    _required(errors, "description", description, _("请描述问题"))
    _required(errors, "found_on", found_on, _("请填写发现日期"))
    if owner is None:
        errors["owner"] = _("请指定责任人")
    elif owner.unit is None or not access.unit_visible(actor, owner.unit):
        errors["owner"] = _("责任人不在您的权限范围内")
    if due_date is None:
        errors["due_date"] = _("请设定整改期限")
    elif found_on and due_date < found_on:
        errors["due_date"] = _("整改期限不能早于发现日期")
    if found_on and found_on > timezone.localdate():
        errors["found_on"] = _("发现日期不能晚于今天")
    if source in CASE_SOURCES and case is None:
        errors["case"] = _("来源为热线工单或投诉台账时，须关联工单")
    if case is not None and not access.unit_visible(actor, case.unit):
        errors["case"] = _("关联工单不在您的权限范围内")
    if errors:
        raise ValidationError(errors)
    issue = QualityIssue(
        ref=quality_next_ref(found_on.year),
        unit=unit,
        source=source,
        case=case,
        source_ref=source_ref.strip() or (case.case_no if case is not None else ""),
        category=category,
        severity=severity,
        title=title.strip(),
        description=description.strip(),
        found_on=found_on,
        owner=owner,
        due_date=due_date,
        created_by=actor,
    )
    issue.full_clean(exclude=["case", "created_by"])
    issue.save()
    _event(QualityEvent, issue=issue, actor=actor, action="create", to_status=issue.status)
    audit_record(actor=actor, action="create", obj=issue, unit=unit, request=request)
    _notify(
        [owner],
        _("业务品质问题 %(r)s 需要您整改: %(t)s, 期限 %(d)s")
        % {"r": issue.ref, "t": issue.title, "d": due_date},
    )
    return issue


@transaction.atomic
def issue_transition(
    *, actor, issue: QualityIssue, action: str, note: str = "", request=None
) -> QualityIssue:
    """Close an issue with the measures taken and their result, or reopen it with a reason."""
    access.require_write(actor)
    if action not in QUALITY_TRANSITIONS:
        raise ValidationError(_("未知的操作: %(a)s") % {"a": action})
    issue = QualityIssue.objects.select_for_update().get(pk=issue.pk)
    allowed, to_status, label = QUALITY_TRANSITIONS[action]
    if issue.status not in allowed:
        raise ValidationError(
            _("当前状态「%(s)s」不能执行「%(a)s」") % {"s": issue.get_status_display(), "a": label}
        )
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": _("请填写整改措施与结果") if action == "close" else _("请填写重新打开的原因")}
        )
    from_status = issue.status
    if action == "close":
        issue.measures, issue.closed_at = note, timezone.now()
    else:
        issue.closed_at = None
    issue.status = to_status
    issue.save(update_fields=["status", "measures", "closed_at"])
    _event(
        QualityEvent,
        issue=issue,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=note,
    )
    audit_record(
        actor=actor,
        action="transition",
        obj=issue,
        unit=issue.unit,
        request=request,
        details={"from": from_status, "to": to_status, "action": action},
    )
    return issue


@transaction.atomic
def bulletin_create(
    *,
    actor,
    unit: Unit,
    title: str,
    body: str,
    code: str = "",
    issues: Iterable[QualityIssue] = (),
    recipients: Iterable[Unit] = (),
    request=None,
) -> Bulletin:
    """A draft bulletin: the issues it reports and the units it goes to."""
    _check_unit(actor, unit, _("起草通报"))
    errors = {}
    _required(errors, "title", title, _("请填写标题"))
    _required(errors, "body", body, _("请填写通报内容"))
    issues, recipients = list(issues), list(recipients)
    hidden = [i.ref for i in issues if not access.unit_visible(actor, i.unit)]
    if hidden:
        errors["issues"] = _("以下问题不在您的权限范围内: %(r)s") % {"r": "、".join(hidden)}
    if errors:
        raise ValidationError(errors)
    bulletin = Bulletin(
        unit=unit, code=code.strip(), title=title.strip(), body=body.strip(), created_by=actor
    )
    bulletin.full_clean(exclude=["created_by", "issued_by"])
    bulletin.save()
    bulletin.issues.set(issues)
    BulletinReceipt.objects.bulk_create([BulletinReceipt(bulletin=bulletin, unit=u) for u in set(recipients)])
    audit_record(actor=actor, action="create", obj=bulletin, unit=unit, request=request)
    return bulletin


@transaction.atomic
def bulletin_publish(*, actor, bulletin: Bulletin, request=None) -> Bulletin:
    """印发: the bulletin goes to its recipient units; their officers and heads are told in the app."""
    _check_unit(actor, bulletin.unit, _("印发通报"))
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.status != BulletinStatus.DRAFT:
        raise ValidationError(_("该通报已印发"))
    receipts = list(bulletin.receipts.select_related("unit"))
    if not receipts:
        raise ValidationError(_("请至少选择一个主送机构"))
    bulletin.status, bulletin.issued_on, bulletin.issued_by = (
        BulletinStatus.ISSUED,
        timezone.localdate(),
        actor,
    )
    bulletin.save(update_fields=["status", "issued_on", "issued_by"])
    audit_record(
        actor=actor,
        action="transition",
        obj=bulletin,
        unit=bulletin.unit,
        request=request,
        details={"to": bulletin.status, "recipients": [r.unit.code for r in receipts]},
    )
    told = {}
    for receipt in receipts:
        for user in unit_leaders(receipt.unit, (Role.OFFICER, Role.UNIT_HEAD)):
            told[user.pk] = user
    _notify(told.values(), _("收到通报「%(t)s」，请查阅并签收") % {"t": bulletin.title})
    return bulletin


@transaction.atomic
def bulletin_acknowledge(*, actor, bulletin: Bulletin, unit: Unit, request=None) -> BulletinReceipt:
    """签收: a writer of a recipient unit (or a unit above it) acknowledges for that unit."""
    access.require_write(actor)
    if bulletin.status != BulletinStatus.ISSUED:
        raise ValidationError(_("通报尚未印发"))
    if not access.unit_visible(actor, unit):
        raise PermissionDenied(_("只能为本机构或下级机构签收"))
    try:
        receipt = BulletinReceipt.objects.select_for_update().get(bulletin=bulletin, unit=unit)
    except BulletinReceipt.DoesNotExist:
        raise ValidationError({"unit": _("%(u)s 不是该通报的主送机构") % {"u": unit.name}}) from None
    if receipt.acknowledged_at is not None:
        when = timezone.localtime(receipt.acknowledged_at).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(_("%(u)s 已于 %(t)s 签收") % {"u": unit.name, "t": when})
    receipt.acknowledged_at, receipt.acknowledged_by = timezone.now(), actor
    receipt.save(update_fields=["acknowledged_at", "acknowledged_by"])
    audit_record(
        actor=actor,
        action="update",
        obj=bulletin,
        unit=unit,
        request=request,
        details={"acknowledged": unit.code},
    )
    return receipt
