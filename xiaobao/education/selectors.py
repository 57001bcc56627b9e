"""Reads of financial education: the activities and plans a user may see, and the list's filters."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.education.models import Activity, Audience, Mode, Plan, ReachLimit


def activity_scope(user) -> QuerySet[Activity]:
    return access.scope(Activity.objects.all(), user)


def plan_scope(user) -> QuerySet[Plan]:
    return access.scope(Plan.objects.all(), user)


def activity_in_unit(activities: QuerySet[Activity], code: str) -> QuerySet[Activity]:
    """The activities of one unit and every unit below it."""
    return activities.filter(unit__path__contains=f"/{code}/")


def plan_in_unit(plans: QuerySet[Plan], code: str) -> QuerySet[Plan]:
    return plans.filter(unit__path__contains=f"/{code}/")


def _year(value: str | None, default: int) -> tuple[int, str | None]:
    if not value:
        return default, None
    if value.isascii() and value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value), None
    return default, _("年度无效: %(v)s") % {"v": value[:20]}


@dataclass
class ActivityFilter:
    year: int = 0
    mode: str = ""
    campaign: str = ""
    audience: str = ""
    unit: str = ""
    q: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params) -> "ActivityFilter":
        f = cls()
        f.year, error = _year(params.get("year"), timezone.localdate().year)
        if error:
            f.errors.append(error)
        f.mode = params.get("mode") if params.get("mode") in Mode.values else ""
        f.audience = params.get("audience") if params.get("audience") in Audience.values else ""
        f.campaign = (params.get("campaign") or "").strip()[:50]
        f.unit = (params.get("unit") or "").strip()[:32]
        f.q = (params.get("q") or "").strip()[:100]
        return f


def activity_list(*, user, f: ActivityFilter) -> QuerySet[Activity]:
    activities = activity_scope(user).filter(
        date__gte=dt.date(f.year, 1, 1), date__lte=dt.date(f.year, 12, 31)
    )
    if f.mode:
        activities = activities.filter(mode=f.mode)
    if f.audience:
        activities = activities.filter(audience=f.audience)
    if f.campaign:
        activities = activities.filter(campaign=f.campaign)
    if f.unit:
        activities = activity_in_unit(activities, f.unit)
    if f.q:
        activities = activities.filter(title__icontains=f.q)
    # An aggregate drops Meta.ordering (GROUP BY), so the order is spelled out for the pager.
    return (
        activities.select_related("unit").annotate(evidence_count=Count("evidence")).order_by("-date", "-pk")
    )


def campaigns_in_use(user) -> list[str]:
    return sorted(
        set(activity_scope(user).exclude(campaign="").values_list("campaign", flat=True).distinct()[:200])
    )


def reach_limits() -> QuerySet[ReachLimit]:
    return ReachLimit.objects.select_related("unit", "updated_by")
