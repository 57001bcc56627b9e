import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaobao.accounts import access
from xiaobao.audit.services import audit_record
from xiaobao.cases.forms import CalendarDayForm
from xiaobao.cases.models import CalendarDay, CalendarYear
from xiaobao.cases.selectors import case_scope
from xiaobao.cases.services import clocks_recompute_open
from xiaobao.cases.stats import GROUPINGS, case_period, case_stats
from xiaobao.lib.workdays import WorkCalendar
from xiaobao.org.models import Unit

BY_LABELS = {  # lazy: read in the language of each request, not the one at import
    "unit": gettext_lazy("按机构"),
    "channel": gettext_lazy("按渠道"),
    "category": gettext_lazy("按事由"),
    "kind": gettext_lazy("按类型"),
    "month": gettext_lazy("按月份"),
}


def _date(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _posted_id(request, name: str) -> int | None:
    """The row number posted as `name`, None for anything else: a word would be a ValueError in the
    query, and more digits than an id column holds an overflow."""
    value = request.POST.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


@login_required
def case_stats_page(request):
    """The same figures as `xiaobao cases stats`, for the user's scope."""
    today = timezone.localdate()
    by = request.GET.get("by") if request.GET.get("by") in GROUPINGS else "month"
    start = _date(request.GET.get("from")) or today.replace(month=1, day=1)
    end = _date(request.GET.get("to")) or today
    errors = []
    if start > end:
        errors.append(_("起始日期不能晚于截止日期"))
        start, end = end, start
    result = case_stats(case_period(case_scope(request.user), start, end), by=by)
    # Units by name (the statistics' key is the code, as the command prints it): one query.
    names = (
        dict(Unit.objects.filter(code__in=[g["key"] for g in result["groups"]]).values_list("code", "name"))
        if by == "unit"
        else {}
    )
    for group in result["groups"]:
        key = group["key"]
        group["label"] = f"{names[key]} ({key})" if key in names else key
    result["total"]["label"] = _("合计")  # the command's key stays 合计 in every language
    chart = {
        "labels": [g["label"] for g in result["groups"]],
        "count": [g["count"] for g in result["groups"]],
        "closed": [g["closed"] for g in result["groups"]],
    }
    return render(
        request,
        "cases/stats.html",
        {
            "result": result,
            "by": by,
            "by_labels": BY_LABELS,
            "start": start,
            "end": end,
            "errors": errors,
            "chart_json": chart,
        },
    )


@login_required
def calendar_index(request):
    """节假日维护: the administrator corrects the official calendar and confirms a year's schedule."""
    can_edit = access.is_admin(request.user)
    form = CalendarDayForm(request.POST or None)
    if request.method == "POST":
        access.require_admin(request.user)
        if request.POST.get("confirm_year"):
            year = (
                int(request.POST["confirm_year"])
                if request.POST["confirm_year"].isascii() and request.POST["confirm_year"].isdigit()
                else 0
            )
            if 2000 <= year <= 2100:
                CalendarYear.objects.get_or_create(year=year, defaults={"confirmed_by": request.user})
                clocks_recompute_open()
                audit_record(
                    actor=request.user,
                    action="update",
                    details={"calendar_year_confirmed": year},
                    request=request,
                )
                messages.success(
                    request, _("已确认 %(y)s 年节假日安排; 该年的期限不再标记为暂定") % {"y": year}
                )
                return redirect("cases-calendar")
            messages.error(request, _("年份无效"))
        elif request.POST.get("delete"):
            deleted, _rows = CalendarDay.objects.filter(pk=_posted_id(request, "delete")).delete()
            if deleted:
                clocks_recompute_open()
                audit_record(
                    actor=request.user,
                    action="delete",
                    details={"calendar_day": request.POST["delete"]},
                    request=request,
                )
            return redirect("cases-calendar")
        elif form.is_valid():
            day, _created = CalendarDay.objects.update_or_create(
                date=form.cleaned_data["date"],
                defaults={
                    "is_workday": form.cleaned_data["is_workday"] == "1",
                    "note": form.cleaned_data["note"],
                },
            )
            audit_record(
                actor=request.user,
                action="update",
                obj=day,
                request=request,
                details={"date": str(day.date), "is_workday": day.is_workday, "note": day.note},
            )
            moved = clocks_recompute_open(since=day.date)
            messages.success(
                request, _("已保存 %(d)s; %(n)s 张未结工单的期限已重新计算") % {"d": day.date, "n": moved}
            )
            return redirect("cases-calendar")
    today = timezone.localdate()
    cal = WorkCalendar()
    years = [
        (y, cal.known(dt.date(y, 6, 1)), CalendarYear.objects.filter(year=y).exists())
        for y in range(today.year - 1, today.year + 3)
    ]
    return render(
        request,
        "cases/calendar.html",
        {
            "form": form,
            "days": CalendarDay.objects.order_by("-date")[:200],
            "years": years,
            "can_edit": can_edit,
        },
    )


@login_required
def case_settings(request):
    """工单设置: work-order targets per kind and channel, and the root-cause taxonomy."""
    from xiaobao.cases.forms import RootCauseAdminForm, TargetForm
    from xiaobao.cases.models import RootCause, WorkOrderTarget
    from xiaobao.cases.services import clocks_recompute_open

    can_edit = access.is_admin(request.user)
    target_form = TargetForm(request.POST if request.POST.get("form") == "target" else None)
    root_form = RootCauseAdminForm(request.POST if request.POST.get("form") == "root" else None)
    if request.method == "POST":
        access.require_admin(request.user)
        if target_form.is_bound and target_form.is_valid():
            data = target_form.cleaned_data
            target, _created = WorkOrderTarget.objects.update_or_create(
                kind=data["kind"],
                channel=data["channel"],
                defaults={
                    "response_workdays": data["response_workdays"],
                    "resolution_workdays": data["resolution_workdays"],
                },
            )
            audit_record(
                actor=request.user,
                action="update",
                obj=target,
                request=request,
                details={
                    "kind": target.kind,
                    "channel": target.channel,
                    "response": target.response_workdays,
                    "resolution": target.resolution_workdays,
                },
            )
            moved = clocks_recompute_open()
            messages.success(request, _("已保存时限; %(n)s 张未结工单的期限已重新计算") % {"n": moved})
            return redirect("cases-settings")
        if root_form.is_bound and root_form.is_valid():
            data = root_form.cleaned_data
            cause, _created = RootCause.objects.update_or_create(
                code=data["code"], defaults={"name": data["name"], "active": data["active"]}
            )
            audit_record(actor=request.user, action="update", obj=cause, request=request, details=data)
            messages.success(request, _("已保存问题根因「%(n)s」") % {"n": cause.name})
            return redirect("cases-settings")
        if request.POST.get("delete_target"):
            if WorkOrderTarget.objects.filter(pk=_posted_id(request, "delete_target")).delete()[0]:
                clocks_recompute_open()
            return redirect("cases-settings")
    status = (
        400
        if (target_form.is_bound and target_form.errors) or (root_form.is_bound and root_form.errors)
        else 200
    )
    return render(
        request,
        "cases/settings.html",
        {
            "targets": WorkOrderTarget.objects.order_by("kind", "channel"),
            "roots": RootCause.objects.all(),
            "target_form": target_form,
            "root_form": root_form,
            "can_edit": can_edit,
        },
        status=status,
    )
