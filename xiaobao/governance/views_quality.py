"""Emergency drills (应急演练), business-quality issues (业务品质) and bulletins (通报)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.cases.models import Case
from xiaobao.governance import access as gov_access
from xiaobao.governance import selectors, services
from xiaobao.governance.forms import (
    AcknowledgeForm,
    ActionForm,
    BulletinForm,
    DrillForm,
    FindingsForm,
    IssueForm,
    NoteForm,
)
from xiaobao.governance.models import (
    QUALITY_TRANSITIONS,
    BulletinStatus,
    Drill,
    DrillStatus,
    QualityIssue,
    QualitySource,
    QualityStatus,
)
from xiaobao.governance.views import form_errors, form_page, page_year, year_choices

# --- drills -----------------------------------------------------------------------------------------


def get_drill(request, pk: int) -> Drill:
    return access.get_for_user(request.user, Drill.objects.select_related("unit"), pk=pk)


@login_required
def drill_index(request):
    year = page_year(request)
    drills = access.scope(Drill.objects.select_related("unit"), request.user).filter(held_on__year=year)
    return render(
        request,
        "governance/drills.html",
        {
            "drills": drills,
            "year": year,
            "years": year_choices(year),
            "can_write": access.can_write(request.user),
        },
    )


@login_required
def drill_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    people = list(gov_access.people(request.user))
    initial = {"unit": request.user.unit.code if request.user.unit else ""}
    form = DrillForm(request.POST or None, units=units, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            drill = services.drill_create(
                actor=request.user,
                unit=form.unit(),
                title=data["title"],
                scenario_kind=data["scenario_kind"],
                scenario=data["scenario"],
                held_on=data["held_on"],
                participants=form.persons("participants"),
                other_participants=data["other_participants"],
                findings=data["findings"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已登记应急演练「%(t)s」") % {"t": drill.title})
            return redirect("governance-drill-detail", pk=drill.pk)
    return form_page(
        request, form, heading=_("登记应急演练"), tab="drills", back="governance-drills", submit=_("保存")
    )


@login_required
def drill_detail(request, pk: int, forms=None, status=200):
    drill = get_drill(request, pk)
    forms = forms or {}
    can_write = access.can_write(request.user)
    people = list(gov_access.people(request.user)) if can_write else []
    participants = drill.participants.select_related("unit").order_by("unit__path", "username")
    return render(
        request,
        "governance/drill_detail.html",
        {
            "drill": drill,
            "participants": participants,
            "actions": drill.actions.select_related("owner", "unit"),
            "can_write": can_write,
            "held": drill.status == DrillStatus.HELD,
            "today": timezone.localdate(),
            "findings_form": forms.get("findings")
            or FindingsForm(
                people=people,
                initial={"findings": drill.findings, "participants": [str(p.pk) for p in participants]},
            ),
            "action_form": forms.get("action") or ActionForm(people=people),
        },
        status=status,
    )


@login_required
@require_POST
def drill_findings(request, pk: int):
    drill = get_drill(request, pk)
    access.require_write(request.user)
    form = FindingsForm(request.POST, people=list(gov_access.people(request.user)))
    if form.is_valid():
        try:
            services.drill_record_findings(
                actor=request.user,
                drill=drill,
                findings=form.cleaned_data["findings"],
                participants=form.persons("participants"),
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已登记演练评估"))
            return redirect("governance-drill-detail", pk=drill.pk)
    return drill_detail(request, pk, forms={"findings": form}, status=400)


@login_required
@require_POST
def drill_action_add(request, pk: int):
    drill = get_drill(request, pk)
    access.require_write(request.user)
    form = ActionForm(request.POST, people=list(gov_access.people(request.user)))
    if form.is_valid():
        try:
            item = services.action_create(
                actor=request.user,
                drill=drill,
                title=form.cleaned_data["title"],
                owner=form.person("owner"),
                due_date=form.cleaned_data["due_date"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已布置整改事项 #%(id)s") % {"id": item.pk})
            return redirect("governance-drill-detail", pk=drill.pk)
    return drill_detail(request, pk, forms={"action": form}, status=400)


# --- business-quality issues -----------------------------------------------------------------------


def get_issue(request, pk: int) -> QualityIssue:
    return access.get_for_user(
        request.user, QualityIssue.objects.select_related("unit", "owner", "case"), pk=pk
    )


@login_required
def issue_index(request):
    status = request.GET.get("status", "")
    if status not in (*QualityStatus.values, "overdue"):
        status = ""
    year = page_year(request) if request.GET.get("year") else None
    issues = selectors.issue_list(user=request.user, status=status, year=year)
    return render(
        request,
        "governance/issues.html",
        {
            "issues": issues[:500],
            "status": status,
            "statuses": QualityStatus.choices,
            "year": year,
            "years": year_choices(year or timezone.localdate().year),
            "today": timezone.localdate(),
            "can_write": access.can_write(request.user),
        },
    )


@login_required
def issue_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    people = list(gov_access.people(request.user))
    initial = {
        "unit": request.user.unit.code if request.user.unit else "",
        "found_on": timezone.localdate(),
        "case_no": request.GET.get("case", ""),
        "source": QualitySource.COMPLAINT if request.GET.get("case") else "",
    }
    form = IssueForm(request.POST or None, units=units, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = None
        if data["case_no"].strip():
            case = (
                access.scope(Case.objects.select_related("unit"), request.user)
                .filter(case_no=data["case_no"].strip())
                .first()
            )
            if case is None:
                form.add_error("case_no", _("找不到该工单 (或不在权限范围内)"))
        if not form.errors:
            try:
                issue = services.issue_create(
                    actor=request.user,
                    unit=form.unit(),
                    source=data["source"],
                    case=case,
                    source_ref=data["source_ref"],
                    category=data["category"],
                    severity=data["severity"],
                    title=data["title"],
                    description=data["description"],
                    found_on=data["found_on"],
                    owner=form.person("owner"),
                    due_date=data["due_date"],
                    request=request,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and "case" in exc.error_dict:
                    exc = ValidationError(
                        {("case_no" if k == "case" else k): v for k, v in exc.error_dict.items()}
                    )
                form_errors(form, exc)
            else:
                messages.success(request, _("已登记业务品质问题 %(r)s") % {"r": issue.ref})
                return redirect("governance-issue-detail", pk=issue.pk)
    return form_page(
        request, form, heading=_("登记业务品质问题"), tab="issues", back="governance-issues", submit=_("保存")
    )


@login_required
def issue_detail(request, pk: int, note_form=None, status=200):
    issue = get_issue(request, pk)
    return render(
        request,
        "governance/issue_detail.html",
        {
            "issue": issue,
            "events": issue.events.select_related("actor"),
            "bulletins": gov_access.bulletin_scope(request.user).filter(issues=issue),
            "case_visible": issue.case_id is not None and access.unit_visible(request.user, issue.case.unit),
            "note_form": note_form or NoteForm(),
            "can_write": access.can_write(request.user),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_POST
def issue_transition_view(request, pk: int, action: str):
    issue = get_issue(request, pk)
    access.require_write(request.user)
    if action not in QUALITY_TRANSITIONS:
        raise Http404
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.issue_transition(
                actor=request.user,
                issue=issue,
                action=action,
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("问题已%(a)s") % {"a": QUALITY_TRANSITIONS[action][2]})
            return redirect("governance-issue-detail", pk=issue.pk)
    return issue_detail(request, pk, note_form=form, status=400)


# --- bulletins (通报) --------------------------------------------------------------------------------


@login_required
def bulletin_index(request):
    bulletins = selectors.bulletin_list(user=request.user)
    return render(
        request,
        "governance/bulletins.html",
        {"bulletins": bulletins[:500], "can_write": access.can_write(request.user)},
    )


@login_required
def bulletin_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    # Open issues and those of the last year, in scope: what a bulletin usually reports.
    since = timezone.localdate() - dt.timedelta(days=366)
    issues = list(
        selectors.issue_list(user=request.user).filter(Q(status=QualityStatus.OPEN) | Q(found_on__gte=since))
    )
    initial = {
        "unit": request.user.unit.code if request.user.unit else "",
        "issues": request.GET.getlist("issue"),
    }
    form = BulletinForm(request.POST or None, units=units, issues=issues, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            bulletin = services.bulletin_create(
                actor=request.user,
                unit=form.unit(),
                code=data["code"],
                title=data["title"],
                body=data["body"],
                issues=form.chosen_issues(),
                recipients=form.chosen_units(),
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已起草通报「%(t)s」") % {"t": bulletin.title})
            return redirect("governance-bulletin-detail", pk=bulletin.pk)
    return form_page(
        request,
        form,
        heading=_("起草通报"),
        tab="bulletins",
        back="governance-bulletins",
        submit=_("保存草稿"),
    )


@login_required
def bulletin_detail(request, pk: int, status=200, error=None):
    bulletin = gov_access.get_bulletin_for_user(request.user, pk)
    receipts = list(bulletin.receipts.select_related("unit", "acknowledged_by"))
    can_write = access.can_write(request.user)
    issuer = access.unit_visible(request.user, bulletin.unit)
    return render(
        request,
        "governance/bulletin_detail.html",
        {
            "bulletin": bulletin,
            "issues": bulletin.issues.select_related("unit", "owner"),
            "receipts": receipts,
            "can_publish": can_write and issuer and bulletin.status == BulletinStatus.DRAFT,
            "can_ack": [
                r
                for r in receipts
                if can_write
                and bulletin.status == BulletinStatus.ISSUED
                and r.acknowledged_at is None
                and access.unit_visible(request.user, r.unit)
            ],
            "issue_visible": issuer,
            "error": error,
        },
        status=status,
    )


@login_required
@require_POST
def bulletin_publish(request, pk: int):
    bulletin = gov_access.get_bulletin_for_user(request.user, pk, write=True)
    try:
        services.bulletin_publish(actor=request.user, bulletin=bulletin, request=request)
    except ValidationError as exc:
        return bulletin_detail(request, pk, status=400, error="; ".join(exc.messages))
    messages.success(request, _("通报已印发"))
    return redirect("governance-bulletin-detail", pk=bulletin.pk)


@login_required
@require_POST
def bulletin_acknowledge(request, pk: int):
    bulletin = gov_access.get_bulletin_for_user(request.user, pk, write=True)
    form = AcknowledgeForm(request.POST)
    unit = None
    if form.is_valid():
        unit = access.visible_units(request.user).filter(code=form.cleaned_data["unit"]).first()
    if unit is None:
        return bulletin_detail(request, pk, status=400, error=_("请选择要签收的机构"))
    try:
        services.bulletin_acknowledge(actor=request.user, bulletin=bulletin, unit=unit, request=request)
    except ValidationError as exc:
        return bulletin_detail(request, pk, status=400, error="; ".join(exc.messages))
    messages.success(request, _("已签收"))
    return redirect("governance-bulletin-detail", pk=bulletin.pk)
