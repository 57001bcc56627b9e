import json
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xiaobao.accounts import access
from xiaobao.audit.models import AuditAction
from xiaobao.audit.services import audit_record
from xiaobao.book.forms import BookImportForm
from xiaobao.book.models import ImportJob
from xiaobao.book.selectors import (
    COLUMNS,
    DATE_COLUMNS,
    DATE_LABELS,
    EQUALITY,
    TABLES,
    book_counts,
    book_filters,
    book_rows,
)
from xiaobao.book.services import import_job_start
from xiaobao.imports.models import ImportBatch
from xiaobao.imports.registry import kind_label

PAGE_SIZE = 50
CHOICE_LABELS = {
    "status": _("状态"),
    "channel": _("渠道"),
    "payment_mode": _("缴费方式"),
    "apply_channel": _("申请渠道"),
}


@login_required
def book_index(request):
    """The four tables of core-system data, with the rows the user may see."""
    counts = book_counts(user=request.user)
    tables = [(table, kind_label(table), counts[table]) for table in TABLES]
    return render(
        request, "book/index.html", {"tables": tables, "can_import": access.can_import(request.user)}
    )


@login_required
def book_table(request, table: str):
    """One table, filtered and paginated, personal values masked, limited to the user's units.

    Query parameters (dashboards link here with them):
      org=CODE          the unit and every unit below it (intersected with what the user may see)
      from=YYYY-MM-DD   on or after, on the table's period date (below)
      to=YYYY-MM-DD     on or before
      date=COLUMN       the date from/to apply to; default: policies effective_date (status_date when
                        a status other than 有效 is asked for), premiums received_date, surrenders
                        surrender_date, claims payment_date
      in_force=DATE     policies in force on that day (effective by then and not ended on or before)
      policy_no=…       one policy
      status=…          policies: 保单状态; claims: 理赔结论 (also decision=…)
      channel=… product=P1001 agent=A8637… payment_mode=…   the policy's (joined for other tables)
      year=N            premiums: policy year
      apply_channel=… full_refund=1|0 complaint=CASE_NO    surrenders
    e.g. /book/policies/?org=8637&from=2024-07-01&to=2024-07-31&status=退保
    """
    if table not in TABLES:
        raise Http404
    filters = book_filters(table, request.GET)
    rows = book_rows(user=request.user, table=table, filters=filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "table": table,
        "label": kind_label(table),
        "columns": COLUMNS[table],
        "page": page,
        "rows": [[row[column] for column, _ in COLUMNS[table]] for row in page.object_list],
        "filters": filters,
        "params": request.GET,
        "dates": [(column, DATE_LABELS[column]) for column in DATE_COLUMNS[table]],
        "choices": [
            (name, CHOICE_LABELS.get(name, name), allowed, request.GET.get(name, ""))
            for name, (_, allowed) in EQUALITY[table].items()
            if allowed and name != "decision"
        ],
        "units": access.visible_units(request.user).order_by("path").only("code", "name"),
        "tables": [(t, kind_label(t)) for t in TABLES],
    }
    template = "book/_rows.html" if request.htmx else "book/table.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def book_import(request):
    """Upload a file; the import runs in the background and the job page shows its progress."""
    access.require_import(request.user)
    form = BookImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        job = import_job_start(
            actor=request.user,
            upload=data["file"],
            kind=data["kind"],
            fmt=data["format"],
            dry_run=data["dry_run"],
            strict=data["strict"],
        )
        return redirect("book-import-job", pk=job.pk)
    jobs = access.scope(ImportJob.objects.select_related("batch", "actor"), request.user)[:20]
    batches = access.scope(ImportBatch.objects.filter(kind__in=TABLES).select_related("unit"), request.user)[
        :20
    ]
    status = 400 if request.method == "POST" else 200
    return render(
        request, "book/import.html", {"form": form, "jobs": jobs, "batches": batches}, status=status
    )


def _job_for_user(request, pk: int) -> ImportJob:
    job = access.get_for_user(request.user, ImportJob.objects.select_related("batch", "actor"), pk=pk)
    access.require_import(request.user)
    return job


@login_required
def book_import_job(request, pk: int):
    """A job: its progress bar while it runs (htmx polls the partial), then its summary."""
    job = _job_for_user(request, pk)
    summary = job.batch.summary() if job.batch is not None and not job.active else None
    context = {
        "job": job,
        "summary": summary,
        "summary_json": json.dumps(summary, ensure_ascii=False, indent=2, default=str) if summary else "",
        "label": job.kind_label,
    }
    template = "book/_job.html" if request.htmx else "book/job.html"
    return render(request, template, context)


@login_required
def book_import_errors(request, pk: int):
    """The job's error file: rejected rows as they were, personal data included, so only for users
    who may import, and every download is in the audit trail."""
    job = _job_for_user(request, pk)
    path = Path(job.batch.errors_file) if job.batch is not None and job.batch.errors_file else None
    if path is None or not path.is_file():
        raise Http404
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        obj=job.batch,
        unit=job.unit,
        details={"file": "errors", "kind": job.kind, "rows": job.batch.rejected},
        request=request,
    )
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=f"{job.kind}-{job.batch_id}-errors.xlsx"
    )
