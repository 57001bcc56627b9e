"""KPI pages: the figures with their definitions and drill-downs, snapshots (freeze, recompute,
compare), the quality index settings and the hand-entered values. The unit's dashboard is the home
page (xiaobao.home.views.index renders kpi/_dashboard.html)."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiaobao.accounts import access
from xiaobao.kpi import drill, engine, selectors, services
from xiaobao.kpi.access import can_manage_kpi, require_manage_kpi
from xiaobao.kpi.forms import (
    BY_LABELS,
    FreezeForm,
    KpiQueryForm,
    KpiSettingsForm,
    QualityValueForm,
    indicator_forms,
)
from xiaobao.kpi.models import KpiSettings, QualityIndicator, QualityValue
from xiaobao.kpi.periods import PeriodError, parse_period
from xiaobao.kpi.registry import REGISTRY, definition, format_value
from xiaobao.kpi.sources import MissingVersion


def _query(request, form_class=KpiQueryForm, data=None):
    form = form_class(data if data is not None else request.GET)
    if not form.is_valid():
        return form, None, None, None
    period = form.cleaned_data["period"] or parse_period(str(timezone.localdate().year))
    unit = selectors.unit_for(request.user, form.cleaned_data["unit"])
    return form, period, unit, form.cleaned_data["by"]


@login_required
@require_GET
def index(request):
    form, period, unit, by = _query(request)
    if period is None:
        return render(
            request,
            "kpi/index.html",
            {"form": form, "by_labels": BY_LABELS, "period_text": request.GET.get("period", "")},
            status=400,
        )
    run = selectors.kpi_run(unit=unit, period=period, by=by)
    return render(
        request,
        "kpi/index.html",
        {
            "form": form,
            "by_labels": BY_LABELS,
            "run": run,
            "period": period,
            "period_text": period.code,
            "unit": unit,
            "by": by or "",
            "sections": selectors.kpi_sections(run),
            "can_manage": can_manage_kpi(request.user),
        },
    )


@login_required
@require_POST
def freeze(request):
    require_manage_kpi(request.user)
    form, period, unit, by = _query(request, FreezeForm, request.POST)
    if period is None:
        return render(request, "kpi/index.html", {"form": form, "by_labels": BY_LABELS}, status=400)
    snapshot = services.snapshot_freeze(actor=request.user, period=period, unit=unit, by=by)
    messages.success(request, _("已冻结 %(p)s 的指标 (快照 #%(n)s)") % {"p": period.code, "n": snapshot.pk})
    return redirect("kpi-snapshot-detail", pk=snapshot.pk)


@login_required
@require_GET
def snapshots(request):
    rows = selectors.snapshots_for_user(request.user)[:200]
    return render(
        request, "kpi/snapshots.html", {"snapshots": rows, "can_manage": can_manage_kpi(request.user)}
    )


@login_required
@require_GET
def snapshot_detail(request, pk):
    snapshot = selectors.snapshot_for_user(request.user, pk)
    rows = [
        {"id": k, "label": REGISTRY[k].label(), "entry": v, "display": format_value(k, v.get("value"))}
        for k, v in snapshot.results.items()
        if k in REGISTRY
    ]
    return render(
        request,
        "kpi/snapshot_detail.html",
        {"snapshot": snapshot, "rows": rows, "can_manage": can_manage_kpi(request.user)},
    )


@login_required
@require_POST
def snapshot_recompute(request, pk):
    snapshot = selectors.snapshot_for_user(request.user, pk)
    require_manage_kpi(request.user)
    try:
        fresh = services.snapshot_recompute(actor=request.user, snapshot=snapshot)
    except MissingVersion as exc:
        messages.error(
            request, _("数据版本 %(t)s %(v)s 已被清理，无法重算") % {"t": exc.table, "v": exc.version}
        )
        return redirect("kpi-snapshot-detail", pk=snapshot.pk)
    return redirect(f"{_compare_url()}?a={snapshot.pk}&b={fresh.pk}")


def _compare_url():
    return reverse("kpi-snapshot-compare")


@login_required
@require_GET
def snapshot_compare(request):
    a_id, b_id = request.GET.get("a", ""), request.GET.get("b", "")
    if not (a_id.isascii() and a_id.isdigit() and b_id.isascii() and b_id.isdigit()):
        return render(
            request,
            "kpi/compare.html",
            {
                "error": _("请选择两个快照进行比较"),
                "snapshots": selectors.snapshots_for_user(request.user)[:200],
            },
            status=400,
        )
    a = selectors.snapshot_for_user(request.user, int(a_id))
    b = selectors.snapshot_for_user(request.user, int(b_id))
    return render(request, "kpi/compare.html", {"a": a, "b": b, "diff": selectors.snapshot_compare(a, b)})


@login_required
@require_GET
def records(request, kpi_id):
    if kpi_id not in REGISTRY or REGISTRY[kpi_id].section == "quality":
        raise Http404
    form, period, unit, by = _query(request)
    if period is None:
        return render(request, "kpi/records.html", {"form": form, "kpi": REGISTRY[kpi_id]}, status=400)
    unit_code = getattr(unit, "code", None)
    target = drill.drill_url(kpi_id, period=period, unit_code=unit_code)
    page = request.GET.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and int(page) > 0 else 1
    key = request.GET.get("key")
    params = engine.current_parameters(unit, period, timezone.localdate())
    base = selectors.record_base(kpi_id, params)
    if base == "cases":
        return redirect(target)  # the cases desk lists complaints with its own filters and masking
    listing = selectors.kpi_records(kpi_id=kpi_id, unit=unit, period=period, key=key, page=page, by=by)
    return render(
        request,
        "kpi/records.html",
        {
            "kpi": REGISTRY[kpi_id],
            "period": period,
            "unit": unit,
            "key": key,
            "by": by or "",
            "listing": listing,
            "book_url": target,
            "definition": definition(kpi_id, params),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def quality_settings(request):
    access.require_admin(request.user)
    current = KpiSettings.current()
    settings_form = KpiSettingsForm(request.POST or None, instance=current)
    rows = indicator_forms(request.POST or None)
    errors = []
    if request.method == "POST":
        if settings_form.is_valid() and all(f.is_valid() for _i, f in rows):
            try:
                services.quality_indicators_save(
                    actor=request.user, changes={ind.pk: f.cleaned_data for ind, f in rows}
                )
                data = settings_form.cleaned_data
                services.kpi_settings_save(actor=request.user, **data)
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(request, _("指标设置已保存"))
                return redirect("kpi-quality-settings")
        else:
            errors = [_("请检查标红的字段")]
    total = sum((ind.weight for ind, _f in rows), Decimal(0))
    return render(
        request,
        "kpi/quality_settings.html",
        {"settings_form": settings_form, "rows": rows, "errors": errors, "total": total},
        status=400 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def quality_values(request):
    require_manage_kpi(request.user)
    source = request.POST if request.method == "POST" else request.GET
    code = source.get("unit") or getattr(request.user.unit, "code", "")
    unit = access.get_unit_for_user(request.user, code) if code else None
    errors = []
    try:
        period = parse_period(source.get("period") or str(timezone.localdate().year))
    except PeriodError as exc:
        period, errors = None, [str(exc)]
    manual = list(QualityIndicator.objects.filter(source=""))
    existing = {}
    if unit is not None and period is not None:
        existing = {
            v.indicator_id: v
            for v in QualityValue.objects.filter(unit=unit, period=period.code, indicator__in=manual)
        }
    forms = [
        (
            ind,
            QualityValueForm(
                request.POST if request.method == "POST" and not errors else None,
                prefix=f"v{ind.pk}",
                initial={
                    "value": getattr(existing.get(ind.pk), "value", None),
                    "note": getattr(existing.get(ind.pk), "note", ""),
                },
            ),
        )
        for ind in manual
    ]
    if unit is None and not errors:
        errors = [_("请选择机构")]
    if request.method == "POST" and not errors:
        if all(f.is_valid() for _i, f in forms):
            for ind, f in forms:
                if f.has_changed():
                    services.quality_value_set(
                        actor=request.user,
                        indicator=ind,
                        unit=unit,
                        period=period.code,
                        value=f.cleaned_data["value"],
                        note=f.cleaned_data["note"],
                    )
            messages.success(request, _("已保存手工录入的指标值"))
            return redirect(f"{request.path}?unit={unit.code}&period={period.code}")
        errors = [_("请检查标红的字段")]
    return render(
        request,
        "kpi/quality_values.html",
        {
            "unit": unit,
            "period": period,
            "period_text": source.get("period", ""),
            "forms": forms,
            "errors": errors,
            "units": access.visible_units(request.user),
        },
        status=400 if errors and request.method == "POST" or (errors and source.get("period")) else 200,
    )
