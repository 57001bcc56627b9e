"""Writes of training: sessions and attendance. Keyword-only, atomic, audited."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.accounts.models import User
from xiaobao.audit.services import audit_record
from xiaobao.org.models import Unit
from xiaobao.training.models import Attendance, AttendanceSource, TrainingKind, TrainingMode, TrainingSession


def session_next_ref(year: int) -> str:
    prefix = f"PX{year}-"
    last = TrainingSession.objects.filter(ref__startswith=prefix).aggregate(m=Max("ref"))["m"]
    seq = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{seq:03d}"


@transaction.atomic
def session_create(
    *,
    actor,
    unit: Unit,
    topic: str,
    kind: str,
    trainer: str,
    held_on: dt.date,
    hours: Decimal | int | float = 2,
    mode: str = TrainingMode.ONSITE,
    audience: str = "",
    description: str = "",
    ref: str = "",
    request=None,
) -> TrainingSession:
    """Record a training session (培训); `ref` (培训编号) defaults to PX<year>-<seq>.

    1. Check the actor may write in the unit, the enums and the required fields.
    2. Refuse a duplicate ref; save and write the audit entry.
    """
    if actor is not None:
        access.require_write(actor)
        if not access.unit_visible(actor, unit):
            raise PermissionDenied(_("不能在权限范围以外的机构登记培训"))
    errors = {}
    if kind not in TrainingKind.values:
        errors["kind"] = _("未知的培训类型: %(v)s") % {"v": kind}
    if mode not in TrainingMode.values:
        errors["mode"] = _("未知的培训形式: %(v)s") % {"v": mode}
    if not (topic or "").strip():
        errors["topic"] = _("请填写培训主题")
    if not (trainer or "").strip():
        errors["trainer"] = _("请填写讲师")
    if held_on is None:
        errors["held_on"] = _("请填写培训日期")
    if hours is None or Decimal(str(hours)) <= 0 or Decimal(str(hours)) > 100:
        errors["hours"] = _("学时应大于 0 且不超过 100")
    ref = (ref or "").strip()
    if ref and TrainingSession.objects.filter(ref=ref).exists():
        errors["ref"] = _("培训编号 %(r)s 已存在") % {"r": ref}
    if errors:
        raise ValidationError(errors)
    session = TrainingSession(
        ref=ref or session_next_ref(held_on.year),
        unit=unit,
        topic=topic.strip(),
        kind=kind,
        mode=mode,
        trainer=trainer.strip(),
        held_on=held_on,
        hours=Decimal(str(hours)),
        audience=audience.strip(),
        description=description.strip(),
        created_by=actor,
    )
    session.full_clean(exclude=["created_by"])
    session.save()
    audit_record(actor=actor, action="create", obj=session, unit=unit, request=request)
    return session


@transaction.atomic
def attendance_set(*, actor, session: TrainingSession, users: Iterable[User], request=None) -> dict[str, int]:
    """签到 by form: the session's attendance becomes exactly `users` among the people the actor can
    see; attendance of people outside the actor's scope (imported by someone above) is kept.

    1. Check the actor may write in the session's unit and may see every person ticked.
    2. Refuse attendance recorded before the session took place.
    3. Add the new rows, remove the unticked ones, audit the change; return the counts.
    """
    access.require_write(actor)
    if not access.unit_visible(actor, session.unit):
        raise PermissionDenied(_("不能登记权限范围以外机构的培训签到"))
    users = list(users)
    hidden = [str(u) for u in users if u.unit is None or not access.unit_visible(actor, u.unit)]
    if hidden:
        raise ValidationError({"users": _("以下人员不在您的权限范围内: %(p)s") % {"p": "、".join(hidden)}})
    if session.held_on > timezone.localdate():
        raise ValidationError(_("培训尚未举行，不能登记签到"))
    wanted = {u.pk for u in users}
    mine = access.scope(Attendance.objects.filter(session=session), actor, unit_field="user__unit")
    present = set(mine.values_list("user_id", flat=True))
    added = wanted - present
    removed = present - wanted
    Attendance.objects.bulk_create(
        [
            Attendance(session=session, user_id=pk, source=AttendanceSource.FORM, recorded_by=actor)
            for pk in sorted(added)
        ],
        ignore_conflicts=True,
    )
    if removed:
        mine.filter(user_id__in=removed).delete()
    audit_record(
        actor=actor,
        action="update",
        obj=session,
        unit=session.unit,
        request=request,
        details={"attendance_added": len(added), "attendance_removed": len(removed)},
    )
    return {"added": len(added), "removed": len(removed), "total": session.attendance.count()}
