"""Plans and their approval by the unit head; the rules library (制度) and its versions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.audit.services import audit_record
from xiaobao.governance import access as gov_access
from xiaobao.governance import selectors, services
from xiaobao.governance.files import attachment_response
from xiaobao.governance.forms import (
    DecideForm,
    EvidenceForm,
    PlanEditForm,
    PlanForm,
    RepealForm,
    RuleForm,
    RuleVersionForm,
)
from xiaobao.governance.models import PLAN_EDITABLE, Plan, PlanStatus, Rule, RuleCategory, RuleStatus
from xiaobao.governance.views import form_errors, form_page, page_year, year_choices

# --- plans ------------------------------------------------------------------------------------------


def get_plan(request, pk: int) -> Plan:
    # A unit reads the plans of the units above it (they apply to it); changing them needs their scope.
    return gov_access.get_readable(
        request.user, Plan.objects.select_related("unit", "decided_by", "created_by"), pk=pk
    )


@login_required
def plan_index(request):
    year = page_year(request)
    status = request.GET.get("status", "")
    if status not in PlanStatus.values:
        status = ""
    plans = selectors.plan_list(user=request.user, year=year, status=status)
    return render(
        request,
        "governance/plans.html",
        {
            "plans": plans,
            "year": year,
            "years": year_choices(year + 1),
            "status": status,
            "statuses": PlanStatus.choices,
            "can_write": access.can_write(request.user),
        },
    )


@login_required
def plan_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    initial = {"unit": request.user.unit.code if request.user.unit else ""}
    form = PlanForm(request.POST or None, request.FILES or None, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # The plan and its file together: a refused file must not leave a plan behind.
            with transaction.atomic():
                plan = services.plan_create(
                    actor=request.user,
                    unit=form.unit(),
                    year=data["year"],
                    kind=data["kind"],
                    title=data["title"],
                    content=data["content"],
                    request=request,
                )
                if data["file"] is not None:
                    try:
                        services.plan_file_add(
                            actor=request.user, plan=plan, upload=data["file"], request=request
                        )
                    except ValidationError as exc:
                        raise ValidationError({"file": exc.messages}) from None
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已起草计划「%(t)s」") % {"t": plan.title})
            return redirect("governance-plan-detail", pk=plan.pk)
    return form_page(
        request,
        form,
        heading=_("起草计划"),
        tab="plans",
        back="governance-plans",
        submit=_("保存草稿"),
        multipart=True,
    )


@login_required
def plan_detail(request, pk: int, forms=None, status=200):
    plan = get_plan(request, pk)
    forms = forms or {}
    return render(
        request,
        "governance/plan_detail.html",
        {
            "plan": plan,
            "files": plan.files.select_related("uploaded_by"),
            "events": plan.events.select_related("actor"),
            "editable": plan.status in PLAN_EDITABLE,
            "can_write": access.can_write(request.user) and access.unit_visible(request.user, plan.unit),
            "can_approve": gov_access.can_approve_plan(request.user, plan),
            "edit_form": forms.get("edit")
            or PlanEditForm(initial={"title": plan.title, "content": plan.content}),
            "file_form": forms.get("file") or EvidenceForm(),
            "decide_form": forms.get("decide") or DecideForm(),
            "submit_error": forms.get("submit"),
        },
        status=status,
    )


@login_required
@require_POST
def plan_edit(request, pk: int):
    plan = get_plan(request, pk)
    access.require_write(request.user)
    form = PlanEditForm(request.POST)
    if form.is_valid():
        try:
            services.plan_update(
                actor=request.user,
                plan=plan,
                title=form.cleaned_data["title"],
                content=form.cleaned_data["content"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已保存计划"))
            return redirect("governance-plan-detail", pk=plan.pk)
    return plan_detail(request, pk, forms={"edit": form}, status=400)


@login_required
@require_POST
def plan_file_upload(request, pk: int):
    plan = get_plan(request, pk)
    access.require_write(request.user)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.plan_file_add(
                actor=request.user, plan=plan, upload=form.cleaned_data["file"], request=request
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(request, _("已上传计划文件"))
            return redirect("governance-plan-detail", pk=plan.pk)
    return plan_detail(request, pk, forms={"file": form}, status=400)


@login_required
def plan_file_download(request, pk: int, fid: int):
    plan = get_plan(request, pk)
    attachment = plan.files.filter(pk=fid).first()
    if attachment is None:
        raise Http404
    audit_record(actor=request.user, action="export", obj=attachment, unit=plan.unit, request=request)
    return attachment_response(attachment)


@login_required
@require_POST
def plan_submit(request, pk: int):
    plan = get_plan(request, pk)
    access.require_write(request.user)
    try:
        services.plan_transition(actor=request.user, plan=plan, action="submit", request=request)
    except ValidationError as exc:
        return plan_detail(request, pk, forms={"submit": "; ".join(exc.messages)}, status=400)
    messages.success(request, _("已提交机构负责人审批"))
    return redirect("governance-plan-detail", pk=plan.pk)


@login_required
@require_POST
def plan_decide(request, pk: int):
    """The unit head approves or returns a submitted plan, with an opinion."""
    plan = get_plan(request, pk)
    gov_access.require_plan_approver(request.user, plan)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            services.plan_transition(
                actor=request.user,
                plan=plan,
                action=form.cleaned_data["decision"],
                opinion=form.cleaned_data["opinion"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已记录审批结论"))
            return redirect("governance-plan-detail", pk=plan.pk)
    return plan_detail(request, pk, forms={"decide": form}, status=400)


# --- rules library (制度) ----------------------------------------------------------------------------


def get_rule(request, pk: int) -> Rule:
    return gov_access.get_readable(request.user, Rule.objects.select_related("unit"), pk=pk)


@login_required
def rule_index(request):
    category = request.GET.get("category", "")
    if category not in RuleCategory.values:
        category = ""
    status = request.GET.get("status", RuleStatus.ACTIVE)
    if status not in RuleStatus.values and status != "all":
        status = RuleStatus.ACTIVE
    rules = selectors.rule_list(
        user=request.user, category=category, status="" if status == "all" else status
    )
    return render(
        request,
        "governance/rules.html",
        {
            "rules": rules,
            "category": category,
            "categories": RuleCategory.choices,
            "status": status,
            "statuses": RuleStatus.choices,
            "can_write": access.can_write(request.user),
        },
    )


@login_required
def rule_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    initial = {
        "unit": request.user.unit.code if request.user.unit else "",
        "effective_on": timezone.localdate(),
    }
    form = RuleForm(request.POST or None, request.FILES or None, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule = services.rule_create(
                actor=request.user,
                unit=form.unit(),
                code=data["code"],
                title=data["title"],
                category=data["category"],
                department=data["department"],
                upload=data["file"],
                effective_on=data["effective_on"],
                note=data["note"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已发布制度「%(t)s」") % {"t": rule.title})
            return redirect("governance-rule-detail", pk=rule.pk)
    return form_page(
        request,
        form,
        heading=_("发布制度"),
        tab="rules",
        back="governance-rules",
        submit=_("发布"),
        multipart=True,
    )


@login_required
def rule_detail(request, pk: int, forms=None, status=200):
    rule = get_rule(request, pk)
    forms = forms or {}
    return render(
        request,
        "governance/rule_detail.html",
        {
            "rule": rule,
            "versions": selectors.rule_versions(rule),
            "can_write": access.can_write(request.user)
            and access.unit_visible(request.user, rule.unit)
            and rule.status == RuleStatus.ACTIVE,
            "version_form": forms.get("version") or RuleVersionForm(),
            "repeal_form": forms.get("repeal") or RepealForm(initial={"repealed_on": timezone.localdate()}),
        },
        status=status,
    )


@login_required
@require_POST
def rule_version_add(request, pk: int):
    rule = get_rule(request, pk)
    access.require_write(request.user)
    form = RuleVersionForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            version = services.rule_version_add(
                actor=request.user,
                rule=rule,
                upload=data["file"],
                effective_on=data["effective_on"],
                note=data["note"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已发布第 %(n)s 版") % {"n": version.number})
            return redirect("governance-rule-detail", pk=rule.pk)
    return rule_detail(request, pk, forms={"version": form}, status=400)


@login_required
def rule_version_download(request, pk: int, vid: int):
    rule = get_rule(request, pk)
    version = rule.versions.filter(pk=vid).first()
    if version is None:
        raise Http404
    audit_record(actor=request.user, action="export", obj=version, unit=rule.unit, request=request)
    return attachment_response(version)


@login_required
@require_POST
def rule_repeal(request, pk: int):
    rule = get_rule(request, pk)
    access.require_write(request.user)
    form = RepealForm(request.POST)
    if form.is_valid():
        try:
            services.rule_repeal(
                actor=request.user,
                rule=rule,
                repealed_on=form.cleaned_data["repealed_on"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("制度已废止"))
            return redirect("governance-rule-detail", pk=rule.pk)
    return rule_detail(request, pk, forms={"repeal": form}, status=400)
