"""金融教育 pages: the activity list and form, evidence, plans, reach limits and the statistics."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.audit.services import audit_record
from xiaobao.education import services
from xiaobao.education.forms import (
    ActivityForm,
    EvidenceFileForm,
    EvidenceLinkForm,
    PlanForm,
    ReachLimitForm,
    TargetForm,
)
from xiaobao.education.models import (
    KNOWN_CAMPAIGNS,
    Activity,
    ActivityEvidence,
    Audience,
    Dimension,
    EvidenceKind,
    Mode,
    Plan,
)
from xiaobao.education.selectors import (
    ActivityFilter,
    activity_in_unit,
    activity_list,
    activity_scope,
    campaigns_in_use,
    plan_in_unit,
    plan_scope,
    reach_limits,
)
from xiaobao.education.stats import education_stats, plan_targets

PAGE_SIZE = 50


def _posted(request):
    """The POST data of a POST (even an empty one, which must be a bound, invalid form), else None."""
    return request.POST if request.method == "POST" else None


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _get(request, pk: int, *, write: bool = False) -> Activity:
    return access.get_for_user(
        request.user, Activity.objects.select_related("unit", "created_by"), pk=pk, write=write
    )


def _unit(units, code: str):
    return next((u for u in units if u.code == code), None)


def _in_scope(request, f: ActivityFilter):
    """The activities and plans the statistics cover: the user's scope, or one unit's subtree in it."""
    activities, plans = activity_scope(request.user), plan_scope(request.user)
    if f.unit:
        activities, plans = activity_in_unit(activities, f.unit), plan_in_unit(plans, f.unit)
    return activities, plans


@login_required
def activity_index(request):
    """活动台账: the year's activities in the user's scope, filtered, with the headline figures."""
    f = ActivityFilter.from_params(request.GET)
    activities = activity_list(user=request.user, f=f)
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    activities, plans = _in_scope(request, f)
    stats = education_stats(activities, year=f.year, plans=plans)
    return render(
        request,
        "education/index.html",
        {
            "f": f,
            "page": page,
            "stats": stats,
            "modes": Mode.choices,
            "audiences": Audience.choices,
            "campaigns": sorted(set(KNOWN_CAMPAIGNS) | set(campaigns_in_use(request.user))),
            "units": access.visible_units(request.user),
            "can_write": access.can_write(request.user),
        },
    )


@login_required
def activity_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    form = ActivityForm(_posted(request), units=units, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = services.activity_create(
                actor=request.user,
                unit=_unit(units, data["unit"]),
                date=data["date"],
                mode=data["mode"],
                campaign=data["campaign"],
                title=data["title"],
                location=data["location"],
                audience=data["audience"],
                reach=data["reach"],
                cost=data["cost"],
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已登记活动 %(no)s") % {"no": activity.activity_no})
            return redirect("education-detail", pk=activity.pk)
    return render(
        request,
        "education/form.html",
        {"form": form, "campaigns": KNOWN_CAMPAIGNS, "title": _("登记金融教育活动")},
        status=400 if form.errors else 200,
    )


@login_required
def activity_edit(request, pk: int):
    activity = _get(request, pk, write=True)
    units = list(access.visible_units(request.user))
    initial = {
        "unit": activity.unit.code,
        "date": activity.date,
        "mode": activity.mode,
        "campaign": activity.campaign,
        "title": activity.title,
        "location": activity.location,
        "audience": activity.audience,
        "reach": activity.reach,
        "cost": activity.cost,
    }
    form = ActivityForm(_posted(request), units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.activity_update(
                actor=request.user,
                activity=activity,
                unit=_unit(units, data["unit"]),
                request=request,
                **{name: data[name] for name in services.EDITABLE_FIELDS},
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("education-detail", pk=activity.pk)
    return render(
        request,
        "education/form.html",
        {
            "form": form,
            "campaigns": KNOWN_CAMPAIGNS,
            "activity": activity,
            "title": _("修改活动 %(no)s") % {"no": activity.activity_no},
        },
        status=400 if form.errors else 200,
    )


@login_required
def activity_detail(request, pk: int, file_form=None, link_form=None, status=200):
    activity = _get(request, pk)
    return render(
        request,
        "education/detail.html",
        {
            "activity": activity,
            "evidence": activity.evidence.select_related("uploaded_by"),
            "file_form": file_form or EvidenceFileForm(),
            "link_form": link_form or EvidenceLinkForm(),
            "can_write": access.can_write(request.user),
        },
        status=status,
    )


@login_required
@require_POST
def evidence_upload(request, pk: int):
    activity = _get(request, pk, write=True)
    form = EvidenceFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.evidence_add_file(
                actor=request.user, activity=activity, upload=form.cleaned_data["file"], request=request
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(request, _("已上传佐证材料"))
            return redirect("education-detail", pk=activity.pk)
    return activity_detail(request, pk, file_form=form, status=400)


@login_required
@require_POST
def evidence_link(request, pk: int):
    activity = _get(request, pk, write=True)
    form = EvidenceLinkForm(request.POST)
    if form.is_valid():
        try:
            services.evidence_add_link(
                actor=request.user,
                activity=activity,
                url=form.cleaned_data["url"],
                label=form.cleaned_data["label"],
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已添加链接"))
            return redirect("education-detail", pk=activity.pk)
    return activity_detail(request, pk, link_form=form, status=400)


@login_required
def evidence_download(request, pk: int, eid: int):
    activity = _get(request, pk)
    try:
        evidence = activity.evidence.get(pk=eid, kind=EvidenceKind.FILE)
    except ActivityEvidence.DoesNotExist:
        raise Http404 from None
    audit_record(actor=request.user, action="export", obj=evidence, unit=activity.unit, request=request)
    # Always an attachment with the sniffed type: an upload is never rendered as a page.
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def education_stats_page(request):
    """The same figures as `xiaobao education stats`, for the user's scope (or one unit in it)."""
    f = ActivityFilter.from_params(request.GET)
    activities, plans = _in_scope(request, f)
    stats = education_stats(activities, year=f.year, plans=plans)
    chart = {
        "labels": [m["key"][5:] + _("月") for m in stats["by_month"]],
        "count": [m["offline_reach"] for m in stats["by_month"]],
        "closed": [m["online_reach"] for m in stats["by_month"]],
    }
    mode_rows = [{"mode": value, "label": label, **stats["modes"][value]} for value, label in Mode.choices]
    return render(
        request,
        "education/stats.html",
        {
            "f": f,
            "stats": stats,
            "mode_rows": mode_rows,
            "units": access.visible_units(request.user),
            "chart": chart,
        },
    )


@login_required
def plan_index(request):
    """年度计划: the plans in scope; writers create one per unit and year."""
    units = list(access.visible_units(request.user))
    form = PlanForm(
        _posted(request),
        units=units,
        initial={
            "year": timezone.localdate().year,
            "title": _("%(y)s年度金融教育计划") % {"y": timezone.localdate().year},
        },
    )
    if request.method == "POST":
        access.require_write(request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = services.plan_save(
                    actor=request.user,
                    unit=_unit(units, data["unit"]),
                    year=data["year"],
                    title=data["title"],
                    notes=data["notes"],
                    request=request,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("已保存计划"))
                return redirect("education-plan-detail", pk=plan.pk)
    plans = plan_scope(request.user).select_related("unit").prefetch_related("targets")
    return render(
        request,
        "education/plans.html",
        {"plans": plans, "form": form, "can_write": access.can_write(request.user)},
        status=400 if form.errors else 200,
    )


def _get_plan(request, pk: int, *, write: bool = False) -> Plan:
    return access.get_for_user(request.user, Plan.objects.select_related("unit"), pk=pk, write=write)


@login_required
def plan_detail(request, pk: int, form=None, status=200):
    plan = _get_plan(request, pk)
    activities = activity_in_unit(activity_scope(request.user), plan.unit.code)
    stats = education_stats(activities, year=plan.year, plans=Plan.objects.filter(pk=plan.pk))
    targets = plan.targets.all()
    own = plan_targets([plan])
    rows = []
    lookups = {"mode": stats["modes"], "campaign": {}, "audience": {}}
    for row in stats["by_campaign"]:
        lookups["campaign"][row["key"]] = row
    for row in stats["by_audience"]:
        lookups["audience"][row["key"]] = row
    order = {value: index for index, value in enumerate(Dimension.values)}  # 形式，所属活动，受众
    for target in sorted(targets, key=lambda t: (order[t.dimension], t.key)):
        actual = lookups[target.dimension].get(target.key, {"count": 0, "reach": 0})
        rows.append({"target": target, "count": actual["count"], "reach": actual["reach"]})
    return render(
        request,
        "education/plan_detail.html",
        {
            "plan": plan,
            "rows": rows,
            "stats": stats,
            "has_targets": bool(own),
            "form": form or TargetForm(),
            "keys": [*Mode.values, *KNOWN_CAMPAIGNS, *Audience.values],
            "can_write": access.can_write(request.user) and access.unit_visible(request.user, plan.unit),
        },
        status=status,
    )


@login_required
@require_POST
def plan_target(request, pk: int):
    plan = _get_plan(request, pk, write=True)
    form = TargetForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_target_set(
                actor=request.user,
                plan=plan,
                dimension=data["dimension"],
                key=data["key"],
                count=data["count"],
                reach=data["reach"],
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已保存目标"))
            return redirect("education-plan-detail", pk=plan.pk)
    return plan_detail(request, pk, form=form, status=400)


@login_required
@require_POST
def plan_target_delete(request, pk: int, tid: int):
    plan = _get_plan(request, pk, write=True)
    if not services.plan_target_delete(actor=request.user, plan=plan, target_id=tid, request=request):
        raise Http404(_("该计划没有这个目标"))
    messages.success(request, _("已删除目标"))
    return redirect("education-plan-detail", pk=plan.pk)


@login_required
def reach_limit_index(request):
    """触达人数上限: the administrator records each region's population; everyone sees the limits in force."""
    units = list(access.visible_units(request.user))
    form = ReachLimitForm(units=units)
    if request.method == "POST":
        access.require_admin(request.user)
        value = request.POST.get("delete", "")
        if value:
            if value.isascii() and value.isdigit():
                services.reach_limit_delete(actor=request.user, limit_id=int(value), request=request)
            return redirect("education-limits")
        form = ReachLimitForm(request.POST, units=units)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.reach_limit_set(
                    actor=request.user,
                    unit=_unit(units, data["unit"]),
                    population=data["population"],
                    note=data["note"],
                    request=request,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("已保存触达人数上限"))
                return redirect("education-limits")
    return render(
        request,
        "education/limits.html",
        {
            "limits": reach_limits(),
            "form": form,
            "default_limit": services.DEFAULT_REACH_LIMIT,
            "can_edit": access.is_admin(request.user),
        },
        status=400 if form.is_bound and form.errors else 200,
    )
