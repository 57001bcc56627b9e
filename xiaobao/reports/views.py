"""报告 pages: the downloads list with the generate form, one report's status (htmx polls it while it
runs), the download, and the narrative templates of the year-end report.

Views check input and access and own every 400; the services generate and write.
"""

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.audit.services import audit_record
from xiaobao.reports import selectors, services, yearend
from xiaobao.reports.access import can_edit_templates, require_edit_templates
from xiaobao.reports.figures import placeholder_labels
from xiaobao.reports.forms import GenerateForm, TemplateForm
from xiaobao.reports.models import ReportJob

LIST_LIMIT = 50


def _units(user):
    return access.visible_units(user).order_by("path")


def _default_unit(user):
    if user.unit_id is not None:
        return user.unit
    return _units(user).filter(parent=None).first()


def _index(request, form, status=200):
    services.report_jobs_recover()  # a job whose process died shows as failed, not as running for ever
    context = {
        "form": form,
        "jobs": selectors.job_list(user=request.user)[:LIST_LIMIT],
        "can_generate": access.can_write(request.user),
        "can_edit": can_edit_templates(request.user),
    }
    return render(request, "reports/index.html", context, status=status)


@login_required
def reports_index(request):
    unit = _default_unit(request.user)
    last_year = timezone.localdate().year - 1
    form = GenerateForm(
        units=_units(request.user),
        initial={
            "kind": "yearend",
            "period": str(last_year),
            "unit": unit.code if unit else "",
            "fmt": "docx",
        },
    )
    return _index(request, form)


@login_required
@require_POST
def reports_generate(request):
    access.require_write(request.user)
    form = GenerateForm(request.POST, units=_units(request.user))
    if not form.is_valid():
        return _index(request, form, status=400)
    unit = access.get_unit_for_user(request.user, form.cleaned_data["unit"])
    try:
        job = services.report_job_start(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            period=form.cleaned_data["period"],
            unit=unit,
            fmt=form.cleaned_data["fmt"],
        )
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return _index(request, form, status=400)
    return redirect("reports-job", pk=job.pk)


def _job_for_user(request, pk: int) -> ReportJob:
    return access.get_for_user(
        request.user, ReportJob.objects.select_related("unit", "actor", "snapshot"), pk=pk
    )


@login_required
def reports_job(request, pk: int):
    """One report: its status while it is generated (htmx polls the partial), then the download."""
    job = _job_for_user(request, pk)
    if request.htmx and request.GET.get("row"):
        template = "reports/_job_row.html"  # a row of the downloads list polls itself
    elif request.htmx:
        template = "reports/_job.html"
    else:
        template = "reports/job.html"
    return render(request, template, {"job": job})


@login_required
def reports_download(request, pk: int):
    job = _job_for_user(request, pk)
    if not job.file_path or not Path(job.file_path).exists():
        raise Http404
    audit_record(actor=request.user, action="report_download", obj=job, unit=job.unit, request=request)
    return FileResponse(open(job.file_path, "rb"), as_attachment=True, filename=job.file_name)  # noqa: SIM115


@login_required
def reports_templates(request):
    context = {
        "rows": selectors.template_rows(),
        "placeholders": placeholder_labels(),
        "can_edit": can_edit_templates(request.user),
    }
    return render(request, "reports/templates.html", context)


def _block_or_404(key: str):
    block = yearend.default_block(key)
    if block is None:
        raise Http404
    return block


@login_required
def reports_template_edit(request, key: str):
    block = _block_or_404(key)
    require_edit_templates(request.user)
    row = next(r for r in selectors.template_rows() if r["key"] == key)
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                services.narrative_template_save(
                    actor=request.user,
                    key=key,
                    heading=form.cleaned_data["heading"],
                    body=form.cleaned_data["body"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return redirect("reports-templates")
    else:
        form = TemplateForm(initial={"heading": row["heading"], "body": row["body"]})
    # "paragraph", not "block": Django's {% block %} tag owns that name in the template context.
    context = {"form": form, "paragraph": block, "row": row, "placeholders": placeholder_labels()}
    return render(request, "reports/template_edit.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def reports_template_reset(request, key: str):
    _block_or_404(key)
    require_edit_templates(request.user)
    services.narrative_template_reset(actor=request.user, key=key)
    return redirect("reports-templates")
