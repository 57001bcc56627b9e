"""员工培训 pages: sessions, attendance by form or by import, and the year's coverage of all staff."""

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.accounts.models import User
from xiaobao.audit.services import audit_record
from xiaobao.governance.access import get_readable
from xiaobao.governance.views import form_errors, home_unit, page_year, year_choices
from xiaobao.imports.models import BatchStatus
from xiaobao.imports.services import import_run
from xiaobao.lib.spreadsheet import safe_cell
from xiaobao.training import selectors, services
from xiaobao.training.forms import AttendanceForm, ImportForm, SessionForm
from xiaobao.training.models import TrainingKind, TrainingSession

MAX_IMPORT_BYTES = 20 * 1024 * 1024


def get_session(request, pk: int) -> TrainingSession:
    # Branch-wide sessions are read below the branch too; recording them needs the branch's scope.
    return get_readable(request.user, TrainingSession.objects.select_related("unit", "created_by"), pk=pk)


def _people(user):
    return (
        User.objects.filter(is_active=True, unit__in=access.visible_units(user))
        .select_related("unit")
        .order_by("unit__path", "username")
    )


@login_required
def session_index(request):
    year = page_year(request)
    kind = request.GET.get("kind", "")
    if kind not in TrainingKind.values:
        kind = ""
    sessions = selectors.session_list(user=request.user, year=year, kind=kind)
    unit = home_unit(request)
    coverage = selectors.coverage(unit=unit, year=year) if unit is not None else None
    return render(
        request,
        "training/index.html",
        {
            "sessions": sessions,
            "year": year,
            "years": year_choices(year),
            "kind": kind,
            "kinds": TrainingKind.choices,
            "coverage": coverage,
            "can_write": access.can_write(request.user),
            "can_import": access.can_import(request.user),
            "import_form": ImportForm(),
        },
    )


@login_required
def session_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    form = SessionForm(
        request.POST or None,
        units=units,
        initial={"unit": request.user.unit.code if request.user.unit else ""},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.session_create(
                actor=request.user,
                unit=form.units[data["unit"]],
                ref=data["ref"],
                topic=data["topic"],
                kind=data["kind"],
                mode=data["mode"],
                trainer=data["trainer"],
                held_on=data["held_on"],
                hours=data["hours"],
                audience=data["audience"],
                description=data["description"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已登记培训 %(r)s") % {"r": session.ref})
            return redirect("training-session-detail", pk=session.pk)
    return render(request, "training/session_new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def session_detail(request, pk: int, form=None, status=200):
    session = get_session(request, pk)
    attendance = list(
        session.attendance.select_related("user__unit", "recorded_by").order_by(
            "user__unit__path", "user__username"
        )
    )
    can_write = access.can_write(request.user) and access.unit_visible(request.user, session.unit)
    if form is None and can_write:
        form = AttendanceForm(
            people=_people(request.user), initial={"users": [str(a.user_id) for a in attendance]}
        )
    return render(
        request,
        "training/session_detail.html",
        {
            "session": session,
            "attendance": attendance,
            "form": form,
            "can_write": can_write,
            "held": session.held_on <= timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_POST
def attendance_record(request, pk: int):
    """签到 by form: tick who attended."""
    session = get_session(request, pk)
    access.require_write(request.user)
    form = AttendanceForm(request.POST, people=_people(request.user))
    if form.is_valid():
        try:
            counts = services.attendance_set(
                actor=request.user, session=session, users=form.chosen(), request=request
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(
                request,
                _("已保存签到：新增 %(a)s 人，移除 %(r)s 人，共 %(t)s 人")
                % {"a": counts["added"], "r": counts["removed"], "t": counts["total"]},
            )
            return redirect("training-session-detail", pk=session.pk)
    return session_detail(request, pk, form=form, status=400)


@login_required
@require_POST
def attendance_import(request):
    """签到表导入 through the import framework (the same as `xiaobao import training_attendance FILE`)."""
    access.require_import(request.user)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("training-index")
    upload = form.cleaned_data["file"]
    if upload.size > MAX_IMPORT_BYTES:
        messages.error(request, _("文件过大：最大 20 MB"))
        return redirect("training-index")
    with tempfile.TemporaryDirectory() as folder:
        # The name's extension goes along: the framework refuses a .xlsx that is not a workbook.
        path = Path(folder) / f"upload{Path(upload.name or '').suffix.lower()[:8]}"
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        batch = import_run(
            kind="training_attendance",
            path=path,
            actor=request.user,
            dry_run=form.cleaned_data["dry_run"],
            file_name=upload.name,
        )
    level = messages.error if batch.status == BatchStatus.FAILED or batch.rejected else messages.success
    level(request, _("签到表导入 (批次 %(b)s): %(m)s") % {"b": batch.pk, "m": batch.message})
    for error in batch.details.get("errors", [])[:20]:
        messages.error(request, _("第 %(row)s 行 %(column)s: %(reason)s") % error)
    return redirect("training-index")


def coverage_unit(request):
    return home_unit(request)


@login_required
def coverage_page(request):
    year = page_year(request)
    unit = coverage_unit(request)
    coverage = selectors.coverage(unit=unit, year=year) if unit is not None else None
    missing = selectors.untrained(unit=unit, year=year) if unit is not None else []
    return render(
        request,
        "training/coverage.html",
        {
            "year": year,
            "years": year_choices(year),
            "unit": unit,
            "units": access.visible_units(request.user),
            "coverage": coverage,
            "chart": coverage.chart() if coverage else {},
            "untrained": missing,
        },
    )


@login_required
def untrained_export(request):
    """未培训人员 as .xlsx, for the units to follow up; the export is audited."""
    from io import BytesIO

    from openpyxl import Workbook

    year = page_year(request)
    unit = coverage_unit(request)
    book = Workbook()
    sheet = book.active
    sheet.title = str(year)
    sheet.append([_("机构"), _("机构代码"), _("用户名"), _("姓名"), _("角色")])
    rows = 0
    for user in selectors.untrained(unit=unit, year=year) if unit is not None else []:
        sheet.append(
            [
                safe_cell(v)
                for v in (
                    user.unit.name,
                    user.unit.code,
                    user.username,
                    user.display_name,
                    "、".join(user.role_labels()),
                )
            ]
        )
        rows += 1
    buffer = BytesIO()
    book.save(buffer)
    audit_record(
        actor=request.user,
        action="export",
        request=request,
        unit=unit,
        details={"what": "training_untrained", "year": year, "rows": rows},
    )
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="untrained-{year}-{unit.code if unit else ""}.xlsx"'
    )
    return response
