"""退保风险 pages: the alert queue, an alert with its investigation, the evidence pack, the watchlist.

Views check input and access and own every 400; the services decide and write.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.accounts.models import User
from xiaobao.governance.files import attachment_response
from xiaobao.risk import pack, selectors, services
from xiaobao.risk.forms import AssignForm, DecideForm, EvidenceForm, NoteForm, RemoveForm, RevealForm
from xiaobao.risk.models import Alert, AlertKind, AlertStatus, WatchEntry
from xiaobao.risk.services import WATCHABLE

PAGE_SIZE = 100


def get_alert(request, pk: int, *, write: bool = False) -> Alert:
    return access.get_for_user(
        request.user, Alert.objects.select_related("unit", "assignee"), write=write, pk=pk
    )


def _assignees(alert: Alert):
    """Writers who can see the alert's unit: its unit, the units above it, the administrators."""
    ancestors = [u.pk for u in _unit_chain(alert.unit)]
    users = (
        User.objects.filter(is_active=True, unit__in=ancestors).select_related("unit").order_by("username")
    )
    allowed = [u.pk for u in users if access.can_write(u)]
    return User.objects.filter(pk__in=allowed).select_related("unit").order_by("username")


def _unit_chain(unit) -> list:
    """The unit and every unit above it."""
    chain = []
    while unit is not None:
        chain.append(unit)
        unit = unit.parent
    return chain


def _links(alert: Alert) -> list[dict]:
    seen, out = set(), []
    for link in alert.links:
        if link["kind"] not in WATCHABLE or link["token"] in seen:
            continue
        seen.add(link["token"])
        kind = WATCHABLE[link["kind"]]
        label = _("%(kind)s %(masked)s (%(n)s 位投保人)") % {
            "kind": kind.label,
            "masked": link["masked"],
            "n": link["holders"],
        }
        out.append({**link, "label": label})
    return out


@login_required
def alert_index(request):
    status = request.GET.get("status", "open")
    kind = request.GET.get("kind", "")
    if kind not in ("", *AlertKind.values):
        kind = ""
    alerts = selectors.alert_queue(request.user, status=status, kind=kind)[:PAGE_SIZE]
    return render(
        request,
        "risk/alerts.html",
        {
            "alerts": alerts,
            "status": status,
            "kind": kind,
            "statuses": [("open", _("未结")), *AlertStatus.choices],
            "kinds": AlertKind.choices,
            "counts": selectors.alert_counts(request.user),
        },
    )


@login_required
def alert_detail(request, pk: int, status: int = 200, **forms):
    alert = get_alert(request, pk)
    can_write = access.can_write(request.user)
    links = _links(alert)
    context = {
        "alert": alert,
        "can_write": can_write,
        "can_reveal": access.can_reveal(request.user),
        "events": alert.events.select_related("actor"),
        "evidence": alert.evidence.select_related("uploaded_by"),
        "cases": access.scope(alert.cases.select_related("unit"), request.user),
        "surrenders": selectors.alert_surrenders(alert) if alert.kind == AlertKind.CLUSTER else [],
        "assign_form": forms.get("assign_form") or AssignForm(assignees=_assignees(alert)),
        "note_form": forms.get("note_form") or NoteForm(),
        "evidence_form": forms.get("evidence_form") or EvidenceForm(),
        "decide_form": forms.get("decide_form") or DecideForm(links=links),
        "reveal_form": forms.get("reveal_form") or RevealForm(),
    }
    return render(request, "risk/alert_detail.html", context, status=status)


def _apply(request, alert, form_name, form, call, done: str):
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, done)
            return redirect("risk-alert-detail", pk=alert.pk)
    return alert_detail(request, alert.pk, status=400, **{form_name: form})


@login_required
@require_POST
def alert_assign(request, pk: int):
    alert = get_alert(request, pk, write=True)
    form = AssignForm(request.POST, assignees=_assignees(alert))
    return _apply(
        request,
        alert,
        "assign_form",
        form,
        lambda data: services.alert_assign(
            actor=request.user, alert=alert, assignee=data["assignee"], request=request
        ),
        _("已分派调查人"),
    )


@login_required
@require_POST
def alert_note(request, pk: int):
    alert = get_alert(request, pk, write=True)
    form = NoteForm(request.POST)
    return _apply(
        request,
        alert,
        "note_form",
        form,
        lambda data: services.alert_note_add(
            actor=request.user, alert=alert, note=data["note"], request=request
        ),
        _("已记录"),
    )


@login_required
@require_POST
def alert_evidence_upload(request, pk: int):
    alert = get_alert(request, pk, write=True)
    form = EvidenceForm(request.POST, request.FILES)
    return _apply(
        request,
        alert,
        "evidence_form",
        form,
        lambda data: services.alert_evidence_add(
            actor=request.user, alert=alert, upload=data["file"], request=request
        ),
        _("已上传证据材料"),
    )


@login_required
def alert_evidence_download(request, pk: int, eid: int):
    alert = get_alert(request, pk)
    evidence = alert.evidence.filter(pk=eid).first()
    if evidence is None:
        raise Http404
    return attachment_response(evidence)


@login_required
@require_POST
def alert_decide(request, pk: int, action: str):
    alert = get_alert(request, pk, write=True)
    if action not in ("confirm", "dismiss", "reopen"):
        raise Http404
    form = DecideForm(request.POST, links=_links(alert))

    def call(data):
        if action == "confirm":
            services.alert_confirm(
                actor=request.user,
                alert=alert,
                reason=data["reason"],
                watch_tokens=data["watch"],
                request=request,
            )
        elif action == "dismiss":
            services.alert_dismiss(actor=request.user, alert=alert, reason=data["reason"], request=request)
        else:
            services.alert_reopen(actor=request.user, alert=alert, reason=data["reason"], request=request)

    done = {"confirm": _("已确认为疑似退保黑产"), "dismiss": _("已排除"), "reopen": _("已重新调查")}[action]
    return _apply(request, alert, "decide_form", form, call, done)


@login_required
def alert_pack(request, pk: int, fmt: str):
    """GET: the masked pack. POST with a reason: the pack with full personal values (reveal roles only;
    the reveal is audited)."""
    alert = get_alert(request, pk)
    if fmt not in ("xlsx", "docx"):
        raise Http404
    reason = ""
    if request.method == "POST":
        if not access.can_reveal(request.user):
            raise PermissionDenied(_("无权查看完整个人信息"))
        form = RevealForm(request.POST)
        if not form.is_valid():
            return alert_detail(request, alert.pk, status=400, reveal_form=form)
        reason = form.cleaned_data["reason"]
    elif request.method != "GET":
        return HttpResponse(status=405)
    rows = pack.pack_rows(alert, actor=request.user, reveal_reason=reason, request=request)
    if fmt == "xlsx":
        body = pack.pack_xlsx(alert, rows)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = pack.pack_docx(alert, rows)
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="risk-FX{alert.pk:06d}.{fmt}"'
    return response


@login_required
def watch_index(request):
    entries = selectors.watchlist(request.user)[:500]
    return render(
        request,
        "risk/watchlist.html",
        {"entries": entries, "can_write": access.can_write(request.user), "remove_form": RemoveForm()},
    )


@login_required
@require_POST
def watch_remove(request, pk: int):
    entry = access.get_for_user(request.user, WatchEntry.objects.filter(active=True), write=True, pk=pk)
    form = RemoveForm(request.POST)
    if not form.is_valid():
        entries = selectors.watchlist(request.user)[:500]
        context = {"entries": entries, "can_write": True, "remove_form": form}
        return render(request, "risk/watchlist.html", context, status=400)
    services.watch_remove(
        actor=request.user, entry=entry, reason=form.cleaned_data["reason"], request=request
    )
    messages.success(request, _("已移出疑似退保黑产信息库"))
    return redirect("risk-watchlist")


@login_required
def intake_hit_index(request):
    """命中记录: new cases and core-data import rows that touched the watchlist at intake."""
    return render(request, "risk/hits.html", selectors.intake_hits(request.user))
