"""Pre-fill sources for the complaints and work orders of xiaobao.cases (which predates the hook).

Each figure is one aggregate over the unit's subtree and the year, computed in the database; the
link opens the desk filtered to the cases behind it.
"""

import datetime as dt
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaobao.assessment.sources import Figure, Source
from xiaobao.cases.models import Case, CaseKind, CaseStatus, Channel, Rectification, RectificationStatus

EXCLUDED = [CaseStatus.WITHDRAWN, CaseStatus.MERGED]  # metrics.md: withdrawn and merged are not complaints


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    return start, timezone.make_aware(dt.datetime(year + 1, 1, 1))


def _cases(unit, year: int):
    start, end = year_bounds(year)
    return Case.objects.filter(
        unit__path__startswith=unit.path, received_at__gte=start, received_at__lt=end
    ).exclude(status__in=EXCLUDED)


def _desk(unit, year: int, **params) -> str:
    query = {"unit": unit.code, "from": f"{year}-01-01", "to": f"{year}-12-31", **params}
    return reverse("cases-desk") + "?" + urlencode(query)


def _rate(part: int, whole: int) -> tuple[float | None, str]:
    if not whole:
        return None, "—"
    return round(part / whole * 100, 2), f"{part / whole:.1%}"


def complaints(unit, year: int) -> Figure:
    count = _cases(unit, year).filter(kind=CaseKind.COMPLAINT).count()
    return Figure(
        value=count, display=_("%(n)s 件") % {"n": count}, link=_desk(unit, year, kind=CaseKind.COMPLAINT)
    )


def complaint_on_time_rate(unit, year: int) -> Figure:
    row = (
        _cases(unit, year)
        .filter(kind=CaseKind.COMPLAINT)
        .aggregate(
            decided=Count("pk", filter=Q(on_time__isnull=False)), on_time=Count("pk", filter=Q(on_time=True))
        )
    )
    value, display = _rate(row["on_time"], row["decided"])
    return Figure(
        value=value,
        display=display,
        detail=_("%(a)s / %(b)s 件") % {"a": row["on_time"], "b": row["decided"]},
        link=_desk(unit, year, kind=CaseKind.COMPLAINT),
    )


def regulator_forwarded(unit, year: int) -> Figure:
    count = _cases(unit, year).filter(kind=CaseKind.COMPLAINT, channel=Channel.REGULATOR).count()
    return Figure(
        value=count,
        display=_("%(n)s 件") % {"n": count} + (_(" (零转办)") if count == 0 else ""),
        link=_desk(unit, year, kind=CaseKind.COMPLAINT, channel=Channel.REGULATOR),
    )


def work_order_on_time_rate(unit, year: int) -> Figure:
    row = (
        _cases(unit, year)
        .exclude(kind=CaseKind.COMPLAINT)
        .aggregate(
            decided=Count("pk", filter=Q(on_time__isnull=False)), on_time=Count("pk", filter=Q(on_time=True))
        )
    )
    value, display = _rate(row["on_time"], row["decided"])
    return Figure(
        value=value,
        display=display,
        detail=_("%(a)s / %(b)s 件") % {"a": row["on_time"], "b": row["decided"]},
        link=_desk(unit, year),
    )


def rectification_verified_rate(unit, year: int) -> Figure:
    start, end = year_bounds(year)
    row = Rectification.objects.filter(
        unit__path__startswith=unit.path, created_at__gte=start, created_at__lt=end
    ).aggregate(
        total=Count("pk"),
        verified=Count("pk", filter=Q(status=RectificationStatus.VERIFIED)),
    )
    value, display = _rate(row["verified"], row["total"])
    return Figure(
        value=value,
        display=display,
        detail=_("%(a)s / %(b)s 项") % {"a": row["verified"], "b": row["total"]},
        link=reverse("cases-rectifications"),
    )


SOURCES = [
    Source(
        key="cases.complaints",
        label=gettext_lazy("投诉件数"),
        definition=gettext_lazy("年度内受理的投诉 (工单类型为投诉，不含已撤诉和合并件), 含下级机构"),
        unit=gettext_lazy("件"),
        compute=complaints,
    ),
    Source(
        key="cases.complaint_on_time_rate",
        label=gettext_lazy("投诉按时办理率"),
        definition=gettext_lazy(
            "年度内受理且已作出决定的投诉中，在期限内 (15日，延期后 30/60 日) 作出决定的比例"
        ),
        unit="%",
        compute=complaint_on_time_rate,
    ),
    Source(
        key="cases.regulator_forwarded",
        label=gettext_lazy("监管转办投诉件数"),
        definition=gettext_lazy("年度内受理的来源渠道为监管转办 (12378 或监管信函) 的投诉；目标为零转办"),
        unit=gettext_lazy("件"),
        compute=regulator_forwarded,
    ),
    Source(
        key="cases.work_order_on_time_rate",
        label=gettext_lazy("工单按时办结率"),
        definition=gettext_lazy(
            "年度内受理且已办结的非投诉工单 (咨询、求助、建议、表扬) 中，在公司时限内办结的比例"
        ),
        unit="%",
        compute=work_order_on_time_rate,
    ),
    Source(
        key="cases.rectification_verified_rate",
        label=gettext_lazy("溯源整改验证率"),
        definition=gettext_lazy("年度内建立的溯源整改事项中，已由消保管理岗验证整改有效的比例"),
        unit="%",
        compute=rectification_verified_rate,
    ),
]
