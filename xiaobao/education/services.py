"""Writes to financial education: activities, their evidence, plans and the reach limits.

Every service is atomic, checks access, validates with the same rules the import applies
(`activity_problems`), and writes an audit entry in the same transaction.
"""

import datetime as dt
import hashlib
import mimetypes
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.audit.services import audit_record
from xiaobao.education.models import (
    Activity,
    ActivityEvidence,
    Audience,
    Dimension,
    EvidenceKind,
    Mode,
    Plan,
    PlanTarget,
    ReachLimit,
)
from xiaobao.lib.uploads import sniff_upload
from xiaobao.org.models import Unit

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
# With no limit configured for a unit or any unit above it: about the population of China's largest
# prefecture-level cities. A single activity reaching more is a typo or a shifted column.
DEFAULT_REACH_LIMIT = 20_000_000
# Common spellings of the recurring campaigns, folded onto one name so statistics group them together.
CAMPAIGN_ALIASES = {
    "3.15": "3·15",
    "3．15": "3·15",
    "3•15": "3·15",
    "3・15": "3·15",
    "315": "3·15",
    "三一五": "3·15",
    "金融教育宣传周": "金融教育宣传周",
    "3·15金融消费者权益保护教育宣传周": "3·15",
    "守住钱袋子·护好幸福家": "守住钱袋子",
    "守住“钱袋子”": "守住钱袋子",
}
EDITABLE_FIELDS = ("date", "mode", "campaign", "title", "location", "audience", "reach", "cost")


def campaign_normalize(text: str | None) -> str:
    value = (text or "").strip()
    return CAMPAIGN_ALIASES.get(value.casefold(), value)


class ReachLimits:
    """The configured limits, read once: an import asks for thousands of rows and must not query per row."""

    def __init__(self) -> None:
        self.by_code = dict(ReachLimit.objects.values_list("unit__code", "population"))

    def for_path(self, path: str) -> tuple[int, str]:
        """(limit, code of the unit that set it, or "" for the default) for the unit with this path."""
        for code in reversed(path.strip("/").split("/")):
            if code in self.by_code:
                return self.by_code[code], code
        return DEFAULT_REACH_LIMIT, ""


def reach_limit_for(unit: Unit) -> int:
    return ReachLimits().for_path(unit.path)[0]


def activity_problems(
    *,
    unit: Unit | None,
    mode: str,
    reach: int | None,
    location: str = "",
    date: dt.date | None = None,
    cost: Decimal | None = None,
    limits: ReachLimits | None = None,
    today: dt.date | None = None,
) -> dict[str, str]:
    """The rules every activity obeys, whether typed into the form or imported: {field: reason}."""
    problems = {}
    if reach is not None and reach < 0:
        problems["reach"] = _("触达人数不能为负数: %(n)s") % {"n": reach}
    elif reach is not None and unit is not None:
        limit, source = (limits or ReachLimits()).for_path(unit.path)
        if reach > limit:
            problems["reach"] = _(
                "触达人数 %(n)s 超过 %(unit)s 辖区人口上限 %(limit)s (%(source)s), 请核实是否录入错误"
            ) % {
                "n": reach,
                "unit": unit.name,
                "limit": limit,
                "source": _("由机构 %(code)s 设置") % {"code": source} if source else _("系统默认"),
            }
    if mode == Mode.OFFLINE and not (location or "").strip():
        problems["location"] = _("线下活动必须填写地点")
    if date is not None and date > (today or timezone.localdate()):
        problems["date"] = _("活动日期不能晚于今天")
    if cost is not None and cost < 0:
        problems["cost"] = _("费用不能为负数")
    return problems


def _check_choices(mode: str, audience: str) -> dict[str, str]:
    errors = {}
    if mode not in Mode.values:
        errors["mode"] = _("未知的活动形式: %(v)s") % {"v": mode}
    if audience and audience not in Audience.values:
        errors["audience"] = _("未知的受众: %(v)s") % {"v": audience}
    return errors


def activity_next_no(date: dt.date) -> str:
    prefix = f"JY{date:%Y%m%d}-"
    last = Activity.objects.filter(activity_no__startswith=prefix).aggregate(m=Max("activity_no"))["m"]
    tail = last[len(prefix) :] if last else ""
    seq = int(tail) + 1 if tail.isdigit() else 1
    return f"{prefix}{seq:03d}"


def _require_unit(actor, unit: Unit) -> None:
    access.require_write(actor)
    if not access.unit_visible(actor, unit):
        raise PermissionDenied(_("不能为权限范围以外的机构登记金融教育活动"))


@transaction.atomic
def activity_create(
    *,
    actor,
    unit: Unit,
    date: dt.date,
    mode: str,
    title: str,
    reach: int,
    activity_no: str = "",
    campaign: str = "",
    location: str = "",
    audience: str = "",
    cost: Decimal | None = None,
    request=None,
) -> Activity:
    """Record one activity (登记活动).

    1. Check the actor may write in the unit.
    2. Check the choices and the shared rules (reach ≥ 0 and within the region's population,
       location for offline events, no future date).
    3. Number it (JY<date>-NNN) unless a number is given, save, and audit.
    """
    _require_unit(actor, unit)
    errors = _check_choices(mode, audience)
    errors.update(
        activity_problems(unit=unit, mode=mode, reach=reach, location=location, date=date, cost=cost)
    )
    if not (title or "").strip():
        errors["title"] = _("请填写主题")
    if errors:
        raise ValidationError(errors)
    activity = Activity(
        activity_no=(activity_no or "").strip() or activity_next_no(date),
        unit=unit,
        date=date,
        mode=mode,
        campaign=campaign_normalize(campaign),
        title=title.strip(),
        location=(location or "").strip(),
        audience=audience or "",
        reach=reach,
        cost=cost,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    activity.full_clean(exclude=["source_batch", "created_by"])
    activity.save()
    audit_record(
        actor=actor,
        action="create",
        obj=activity,
        unit=unit,
        request=request,
        details={"mode": mode, "reach": reach, "date": date},
    )
    return activity


@transaction.atomic
def activity_update(
    *, actor, activity: Activity, request=None, unit: Unit | None = None, **changes
) -> Activity:
    """Change an activity's facts. The same rules as on creation; the audit entry holds old → new."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"activity_update: unknown fields {sorted(unknown)}")
    _require_unit(actor, activity.unit)
    activity = Activity.objects.select_for_update().select_related("unit").get(pk=activity.pk)
    if unit is not None and unit != activity.unit:
        _require_unit(actor, unit)
        changes["unit"] = unit
    if "campaign" in changes:
        changes["campaign"] = campaign_normalize(changes["campaign"])
    merged = {name: getattr(activity, name) for name in (*EDITABLE_FIELDS, "unit")} | changes
    errors = _check_choices(merged["mode"], merged["audience"] or "")
    errors.update(
        activity_problems(
            unit=merged["unit"],
            mode=merged["mode"],
            reach=merged["reach"],
            location=merged["location"],
            date=merged["date"],
            cost=merged["cost"],
        )
    )
    if errors:
        raise ValidationError(errors)
    diff = {}
    for name, value in changes.items():
        old = getattr(activity, name)
        if old != value:
            diff[name] = [str(old), str(value)]
            setattr(activity, name, value)
    if diff:
        activity.full_clean(exclude=["source_batch", "created_by"])
        activity.save()
        audit_record(
            actor=actor, action="update", obj=activity, unit=activity.unit, request=request, details=diff
        )
    return activity


@transaction.atomic
def evidence_add_file(*, actor, activity: Activity, upload, request=None) -> ActivityEvidence:
    """A photo or file: the type is sniffed from the bytes, the size limited, the hash recorded."""
    _require_unit(actor, activity.unit)
    content_type = sniff_upload(upload, max_bytes=MAX_EVIDENCE_BYTES)
    data = upload.read()
    digest = hashlib.sha256(data).hexdigest()
    evidence = ActivityEvidence(
        activity=activity,
        kind=EvidenceKind.FILE,
        original_name=(upload.name or digest)[:255],
        sha256=digest,
        content_type=content_type,
        size=len(data),
        uploaded_by=actor,
    )
    ext = mimetypes.guess_extension(content_type) or ".bin"
    evidence.file.save(f"{digest}{ext}", ContentFile(data), save=False)
    evidence.save()
    audit_record(
        actor=actor,
        action="create",
        obj=evidence,
        unit=activity.unit,
        request=request,
        details={"activity": activity.activity_no, "sha256": digest, "size": len(data)},
    )
    return evidence


@transaction.atomic
def evidence_add_link(
    *, actor, activity: Activity, url: str, label: str = "", request=None
) -> ActivityEvidence:
    """A link to the published article, video or report. Only http(s) links: never javascript: or data:."""
    _require_unit(actor, activity.unit)
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        raise ValidationError({"url": _("链接应以 http:// 或 https:// 开头")})
    evidence = ActivityEvidence(
        activity=activity,
        kind=EvidenceKind.LINK,
        url=url,
        original_name=((label or "").strip() or url)[:255],
        uploaded_by=actor,
    )
    evidence.full_clean(exclude=["file", "uploaded_by"])
    evidence.save()
    audit_record(
        actor=actor,
        action="create",
        obj=evidence,
        unit=activity.unit,
        request=request,
        details={"activity": activity.activity_no, "url": url},
    )
    return evidence


@transaction.atomic
def plan_save(*, actor, unit: Unit, year: int, title: str, notes: str = "", request=None) -> Plan:
    """Create the unit's plan for the year, or rename it: one plan per unit and year."""
    _require_unit(actor, unit)
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("年度无效")})
    if not (title or "").strip():
        raise ValidationError({"title": _("请填写计划名称")})
    plan, created = Plan.objects.update_or_create(
        unit=unit,
        year=year,
        defaults={"title": title.strip(), "notes": notes or ""},
        create_defaults={"title": title.strip(), "notes": notes or "", "created_by": actor},
    )
    audit_record(
        actor=actor,
        action="create" if created else "update",
        obj=plan,
        unit=unit,
        request=request,
        details={"year": year, "title": plan.title},
    )
    return plan


@transaction.atomic
def plan_target_set(
    *,
    actor,
    plan: Plan,
    dimension: str,
    key: str,
    count: int | None,
    reach: int | None,
    request=None,
) -> PlanTarget:
    """Set (or replace) one target of a plan. A mode or audience target must name a known value."""
    _require_unit(actor, plan.unit)
    key = campaign_normalize(key) if dimension == Dimension.CAMPAIGN else (key or "").strip()
    errors = {}
    if dimension not in Dimension.values:
        errors["dimension"] = _("未知的维度: %(v)s") % {"v": dimension}
    elif dimension == Dimension.MODE and key not in Mode.values:
        errors["key"] = _("形式应为: %(v)s") % {"v": "、".join(Mode.values)}
    elif dimension == Dimension.AUDIENCE and key not in Audience.values:
        errors["key"] = _("受众应为: %(v)s") % {"v": "、".join(Audience.values)}
    elif not key:
        errors["key"] = _("请填写项目")
    if count is None and reach is None:
        errors["count"] = _("请至少填写目标次数或目标触达人数")
    for name, value in (("count", count), ("reach", reach)):
        if value is not None and value < 0:
            errors[name] = _("目标不能为负数")
    if errors:
        raise ValidationError(errors)
    target, _created = PlanTarget.objects.update_or_create(
        plan=plan, dimension=dimension, key=key, defaults={"count": count, "reach": reach}
    )
    audit_record(
        actor=actor,
        action="update",
        obj=plan,
        unit=plan.unit,
        request=request,
        details={"target": f"{dimension}:{key}", "count": count, "reach": reach},
    )
    return target


@transaction.atomic
def plan_target_delete(*, actor, plan: Plan, target_id: int, request=None) -> bool:
    """Delete one target of `plan`; False when the plan has no such target (another plan's, or gone)."""
    _require_unit(actor, plan.unit)
    deleted, _rows = PlanTarget.objects.filter(plan=plan, pk=target_id).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="delete",
            obj=plan,
            unit=plan.unit,
            request=request,
            details={"target": target_id},
        )
    return bool(deleted)


@transaction.atomic
def reach_limit_set(*, actor, unit: Unit, population: int, note: str = "", request=None) -> ReachLimit:
    """The administrator sets a unit's region population, the ceiling of any single activity's reach."""
    access.require_admin(actor)
    if population is None or population < 1:
        raise ValidationError({"population": _("辖区人口应为正整数")})
    limit, _created = ReachLimit.objects.update_or_create(
        unit=unit, defaults={"population": population, "note": note or "", "updated_by": actor}
    )
    audit_record(
        actor=actor,
        action="update",
        obj=limit,
        unit=unit,
        request=request,
        details={"population": population, "note": note},
    )
    return limit


@transaction.atomic
def reach_limit_delete(*, actor, limit_id: int, request=None) -> None:
    access.require_admin(actor)
    limit = ReachLimit.objects.select_related("unit").filter(pk=limit_id).first()
    if limit is None:
        return
    audit_record(
        actor=actor,
        action="delete",
        obj=limit,
        unit=limit.unit,
        request=request,
        details={"population": limit.population},
    )
    limit.delete()
