"""溯源整改: rectification items, their evidence and the officer's verification."""

import hashlib
import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.accounts.models import User
from xiaobao.audit.services import audit_record
from xiaobao.cases import services
from xiaobao.cases.forms import EvidenceForm, RectificationForm, VerifyForm
from xiaobao.cases.models import Case, Evidence, Rectification
from xiaobao.lib.uploads import sniff_upload

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def _get(request, pk) -> Rectification:
    return access.get_for_user(
        request.user, Rectification.objects.select_related("unit", "owner", "root_cause"), pk=pk
    )


@login_required
def rectification_index(request):
    items = access.scope(Rectification.objects.select_related("unit", "owner", "root_cause"), request.user)
    status = request.GET.get("status", "")
    if status:
        items = items.filter(status=status)
    return render(request, "cases/rectifications.html", {"items": items[:500], "status": status})


@login_required
def rectification_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    owners = User.objects.filter(is_active=True, unit__in=units).select_related("unit")
    initial = {"case_nos": request.GET.get("cases", "")}
    form = RectificationForm(request.POST or None, units=units, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        nos = [n.strip() for n in data["case_nos"].replace("，", ",").split(",") if n.strip()]
        cases = list(access.scope(Case.objects.all(), request.user).filter(case_no__in=nos))
        missing = sorted(set(nos) - {c.case_no for c in cases})
        if missing:
            form.add_error(
                "case_nos", _("找不到以下工单 (或不在权限范围内): %(n)s") % {"n": ", ".join(missing)}
            )
        else:
            try:
                rect = services.rectification_create(
                    actor=request.user,
                    title=data["title"],
                    root_cause=data["root_cause"],
                    unit=next(u for u in units if u.code == data["unit"]),
                    owner=owners.get(pk=int(data["owner"])),
                    due_date=data["due_date"],
                    cases=cases,
                    product_code=data["product_code"],
                    agent_code=data["agent_code"],
                    measures=data["measures"],
                    watch_days=data["watch_days"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("已创建整改事项"))
                return redirect("cases-rectification-detail", pk=rect.pk)
    return render(request, "cases/rectification_new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def rectification_detail(request, pk: int, evidence_form=None, verify_form=None, status=200):
    rect = _get(request, pk)
    return render(
        request,
        "cases/rectification_detail.html",
        {
            "rect": rect,
            "cases": rect.cases.select_related("unit"),
            "evidence": rect.evidence.select_related("uploaded_by"),
            "evidence_form": evidence_form or EvidenceForm(),
            "verify_form": verify_form or VerifyForm(),
            "can_write": access.can_write(request.user),
        },
        status=status,
    )


@login_required
@require_POST
def evidence_upload(request, pk: int):
    """Evidence files: the type is sniffed from the content, the size limited, the hash recorded."""
    rect = _get(request, pk)
    access.require_write(request.user)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            content_type = sniff_upload(upload, max_bytes=MAX_EVIDENCE_BYTES)
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            data = upload.read()
            digest = hashlib.sha256(data).hexdigest()
            ext = mimetypes.guess_extension(content_type) or ".bin"
            evidence = Evidence(
                rectification=rect,
                original_name=upload.name[:255],
                sha256=digest,
                content_type=content_type,
                size=len(data),
                uploaded_by=request.user,
            )
            evidence.file.save(f"{digest}{ext}", ContentFile(data), save=False)
            evidence.save()
            audit_record(
                actor=request.user,
                action="create",
                obj=evidence,
                unit=rect.unit,
                request=request,
                details={"sha256": digest, "size": len(data)},
            )
            messages.success(request, _("已上传佐证材料"))
            return redirect("cases-rectification-detail", pk=rect.pk)
    return rectification_detail(request, pk, evidence_form=form, status=400)


@login_required
def evidence_download(request, pk: int, eid: int):
    rect = _get(request, pk)
    try:
        evidence = rect.evidence.get(pk=eid)
    except Evidence.DoesNotExist:
        raise Http404 from None
    audit_record(actor=request.user, action="export", obj=evidence, unit=rect.unit, request=request)
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
@require_POST
def rectification_submit_view(request, pk: int):
    rect = _get(request, pk)
    access.require_write(request.user)
    try:
        services.rectification_submit(
            actor=request.user, rect=rect, measures=request.POST.get("measures", "")
        )
        messages.success(request, _("已提交整改, 等待消保管理岗验证"))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("cases-rectification-detail", pk=rect.pk)


@login_required
@require_POST
def rectification_verify_view(request, pk: int):
    rect = _get(request, pk)
    access.require_write(request.user)
    form = VerifyForm(request.POST)
    if form.is_valid():
        try:
            services.rectification_verify(
                actor=request.user,
                rect=rect,
                accepted=form.cleaned_data["accepted"] == "1",
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("已记录验证结论"))
            return redirect("cases-rectification-detail", pk=rect.pk)
    return rectification_detail(request, pk, verify_form=form, status=400)
