from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.accounts.models import Role, User
from xiaobao.audit.services import audit_record
from xiaobao.cases import exports, hooks, services
from xiaobao.cases.desk_rows import ROW_FIELDS, render_rows
from xiaobao.cases.forms import (
    AssignForm,
    CallbackForm,
    CaseForm,
    ContactForm,
    ExtendForm,
    PlanStepForm,
    RootCauseForm,
    TransitionForm,
)
from xiaobao.cases.models import (
    TRANSITIONS,
    Case,
    CaseKind,
    CaseStatus,
    Category,
    Channel,
    Notification,
    PlanStep,
)
from xiaobao.cases.selectors import (
    CaseFilter,
    case_list,
    case_repeats,
    counts_differently,
    desk_counts,
    is_short_search,
    short_search_plan_differs,
)
from xiaobao.customers.forms import RevealForm
from xiaobao.customers.models import Customer
from xiaobao.privacy.services import personal_reveal

PAGE_SIZE = 50
# The desk counts at most this many cases (+1 to know there are more) and shows "超过 10,000 条":
# an exact count of a broad list at a million cases costs more than the page itself. Read at
# request time, so tests can lower it.
COUNT_CAP = 10_000
# A search term too short for the trigram indexes is answered by a scan, which stops once it has
# found this many matches (10 pages): the count of a 1 % term otherwise reads the whole scope.
SHORT_SEARCH_COUNT_CAP = 500


class CappedPaginator(Paginator):
    """A Paginator whose count stops at `cap` + 1 rows: SELECT COUNT(*) FROM (… LIMIT cap + 1),
    unordered (with its ORDER BY the database would walk the sort index row by row instead of
    counting from the narrowest index)."""

    def __init__(self, object_list, per_page, *, cap: int, count_list=None, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        # The same rows in the form cheapest to count, where that differs (selectors.search_q).
        self.count_list = object_list if count_list is None else count_list

    @cached_property
    def count(self) -> int:
        return self.count_list.order_by()[: self.cap + 1].count()

    @property
    def over_cap(self) -> bool:
        return self.count > self.cap

    @property
    def cap_label(self) -> str:
        return f"{self.cap:,}"


def get_case(request, pk: int) -> Case:
    return access.get_for_user(
        request.user,
        Case.objects.select_related(
            "unit", "handler", "customer__subject", "root_cause", "merged_into", "review_unit"
        ),
        pk=pk,
    )


@login_required
def case_desk(request):
    """工作台列表: my cases, my unit's queue, due today, overdue, urgent, or everything, filtered."""
    f = CaseFilter.from_params(request.GET)
    cases = case_list(user=request.user, f=f)
    counted = case_list(user=request.user, f=f, counting=True) if counts_differently(f.q) else cases
    cap = SHORT_SEARCH_COUNT_CAP if is_short_search(f.q) else COUNT_CAP
    page = CappedPaginator(cases, PAGE_SIZE, cap=cap, count_list=counted).get_page(request.GET.get("page"))
    page_slice = page.object_list
    if page.paginator.over_cap and short_search_plan_differs(f.q):
        # The same slice of the same cases, in the form whose plan walks received_at (search_q).
        low, high = page_slice.query.low_mark, page_slice.query.high_mark
        page_slice = case_list(user=request.user, f=f, many=True)[low:high]
    page.object_list = _page_rows(page_slice, cases.query.order_by)
    today = timezone.localdate()
    context = {
        "page": page,
        "rows": render_rows(page, can_write=access.can_write(request.user), today=today),
        "f": f,
        "today": today,
        "handlers": _handlers(request.user),
        "querystring": request.GET.urlencode(),
    }
    if request.htmx and request.htmx.target == "case-table":
        # A filter change swaps the table only: no tabs, no filter form.
        return render(request, "cases/_table.html", context)
    context.update(
        counts=desk_counts(user=request.user),
        statuses=CaseStatus.choices,
        kinds=CaseKind.choices,
        channels=Channel.choices,
        categories=Category.choices,
        units=access.visible_units(request.user),
    )
    return render(request, "cases/desk.html", context)


def _page_rows(page_slice, ordering):
    """The rows of one page, read by id: the filtered, sorted, sliced list only picks the page's
    ids (a narrow subquery), then those rows are read with their unit, handler, customer, other
    apps' columns (hooks.annotate_desk, e.g. risk's 黑产库 flag) and only the columns the table
    shows. In one query the database built every row it sorted or skipped past in full: on
    SQLite the flag's subquery and the descriptions of 16,000 overdue cases went into the sort for
    50 rows, and a deep page read 10,000 rows with their joins (bench/results/cases-list.md).
    Same rows, same order, same number of queries."""
    return hooks.annotate_desk(
        Case.objects.filter(pk__in=page_slice.values("pk"))
        .select_related("unit", "handler", "customer")
        .only(*ROW_FIELDS)
        .order_by(*ordering)
    )


def _handlers(user):
    codes = access.visible_units(user).values("pk")
    return User.objects.filter(is_active=True, unit__in=codes).select_related("unit").order_by("username")


@login_required
def case_export(request):
    """The filtered list as .xlsx, personal data masked; the export is audited."""
    f = CaseFilter.from_params(request.GET)
    cases = case_list(user=request.user, f=f)
    content, count = exports.cases_xlsx(cases)
    audit_record(
        actor=request.user,
        action="export",
        request=request,
        unit=request.user.unit,
        details={"what": "cases", "rows": count, "filter": request.GET.urlencode()},
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="cases-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


def _back_to_desk(request) -> str:
    """The desk page the bulk form came from (its filters kept); never another site."""
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("cases-desk")


@login_required
@require_POST
def case_bulk(request):
    """Bulk assign or bulk close-as-duplicate; each case goes through the same service, all or nothing."""
    from django.db import transaction

    access.require_write(request.user)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isascii() and i.isdigit() and len(i) <= 18]
    cases = list(access.scope(Case.objects.select_related("unit"), request.user).filter(pk__in=ids))
    if not cases or len(cases) != len(set(ids)):
        messages.error(request, _("请选择工单 (所选工单须在您的权限范围内)"))
        return redirect(_back_to_desk(request))
    action = request.POST.get("action")
    try:
        with transaction.atomic():
            if action == "assign":
                handler = _handlers(request.user).get(pk=int(request.POST.get("handler") or 0))
                for case in cases:
                    services.case_assign(actor=request.user, case=case, handler=handler, request=request)
                messages.success(
                    request, _("已将 %(n)s 张工单分配给 %(h)s") % {"n": len(cases), "h": handler}
                )
            elif action == "merge":
                target = access.scope(Case.objects.all(), request.user).get(
                    case_no=request.POST.get("merged_into", "").strip()
                )
                for case in cases:
                    services.case_transition(
                        actor=request.user,
                        case=case,
                        action="merge",
                        merged_into=target,
                        reason=_("批量合并为重复件"),
                        request=request,
                    )
                messages.success(
                    request, _("已将 %(n)s 张工单合并至 %(t)s") % {"n": len(cases), "t": target.case_no}
                )
            else:
                messages.error(request, _("未知的批量操作"))
    except (User.DoesNotExist, ValueError):
        messages.error(request, _("请选择有效的处理人"))
    except Case.DoesNotExist:
        messages.error(request, _("找不到要合并到的工单号"))
    except ValidationError as exc:
        messages.error(request, _("批量操作未执行: %(e)s") % {"e": "; ".join(exc.messages)})
    return redirect(_back_to_desk(request))


@login_required
def case_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    form = CaseForm(
        request.POST or None,
        units=units,
        initial={"unit": request.user.unit.code if request.user.unit else ""},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = next(u for u in units if u.code == data["unit"])
        try:
            case = services.case_create(
                actor=request.user,
                unit=unit,
                kind=data["kind"],
                channel=data["channel"],
                category=data["category"],
                description=data["description"],
                received_at=data["received_at"],
                customer_name=data["customer_name"],
                customer_phone=data["customer_phone"],
                customer_id_no=data["customer_id_no"],
                customer_address=data["customer_address"],
                policy_no=data["policy_no"],
                urgent=data["urgent"],
                claims_related=data["claims_related"],
                regulator_ref=data["regulator_ref"],
                regulator_complex=data["regulator_complex"],
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已登记工单 %(no)s") % {"no": case.case_no})
            return redirect("cases-detail", pk=case.pk)
    return render(request, "cases/new.html", {"form": form}, status=400 if form.errors else 200)


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _allowed_actions(user, case: Case, forms: dict) -> list[tuple[str, str, TransitionForm]]:
    """The transitions the current status allows, each with its own form (own ids, own errors)."""
    if not access.can_write(user) or not services.case_actor_may_handle(user, case):
        return []
    actions = []
    for name, (sources, _to, label) in TRANSITIONS.items():
        if case.status in sources:
            form = forms.get(f"transition_{name}") or TransitionForm(
                initial={"version": case.version}, auto_id=f"t_{name}_%s"
            )
            actions.append((name, label, form))
    return actions


def _detail_context(request, case: Case, **forms) -> dict:
    user = request.user
    approvers = (
        User.objects.filter(is_active=True)
        .select_related("unit")
        .filter(unit__in=[u for u in _unit_chain(case.unit)])
    )
    approvers = [
        u for u in approvers if u.has_role(Role.UNIT_HEAD, Role.OFFICER, Role.ADMIN) or u.is_superuser
    ]
    handlers = [
        u
        for u in _handlers(user)
        if u.has_role(Role.HANDLER, Role.OFFICER) and access.unit_visible(u, case.unit)
    ]
    today = timezone.localdate()
    context = {
        "case": case,
        "events": case.events.select_related("actor"),
        "plan": case.plan_steps.select_related("owner"),
        "contacts": case.contacts.select_related("actor"),
        "extensions": case.extensions.select_related("approver"),
        "pauses": case.pauses.all(),
        "rectifications": case.rectifications.select_related("owner"),
        "repeats": case_repeats(case)[:20],
        "actions": _allowed_actions(user, case, forms),
        "may_handle": access.can_write(user) and services.case_actor_may_handle(user, case),
        "can_extend": case.kind == CaseKind.COMPLAINT
        and case.status in services.EXTENDABLE_STATUSES
        and case.extension_level < 2,
        "overdue": case.status in ("登记", "受理", "处理中", "核查中")
        and case.due_date
        and case.due_date < today,
        "customer_fields": [
            (p, Customer.LABELS[p], getattr(case.customer, f"{p}_masked")) for p in ("name", "phone", "id_no")
        ]
        if case.customer
        else [],
        "action_errors": [
            e for f in forms.values() if hasattr(f, "non_field_errors") for e in f.non_field_errors()
        ],
        "extend_form": forms.get("extend_form")
        or ExtendForm(initial={"version": case.version}, approvers=approvers),
        "assign_form": forms.get("assign_form")
        or AssignForm(initial={"version": case.version}, handlers=handlers),
        "plan_form": forms.get("plan_form") or PlanStepForm(initial={"due_date": today}),
        "contact_form": forms.get("contact_form") or ContactForm(),
        "root_form": forms.get("root_form")
        or RootCauseForm(
            initial={
                "version": case.version,
                "root_cause": case.root_cause_id,
                "agent_code": case.root_agent_code,
                "product_code": case.root_product_code,
            }
        ),
        "callback_form": forms.get("callback_form") or CallbackForm(),
        "active_action": forms.get("active_action", ""),
    }
    return context


def _unit_chain(unit):
    chain = []
    while unit is not None:
        chain.append(unit)
        unit = unit.parent
    return chain


@login_required
def case_detail(request, pk: int):
    case = get_case(request, pk)
    return render(request, "cases/detail.html", _detail_context(request, case))


def _rerender(request, case, status, **forms):
    case = get_case(request, case.pk)
    return render(request, "cases/detail.html", _detail_context(request, case, **forms), status=status)


@login_required
@require_POST
def case_transition_view(request, pk: int, action: str):
    case = get_case(request, pk)
    access.require_write(request.user)
    if action not in TRANSITIONS:
        raise Http404
    form = TransitionForm(request.POST, auto_id=f"t_{action}_%s")
    key = f"transition_{action}"
    if not form.is_valid():
        return _rerender(request, case, 400, **{key: form}, active_action=action)
    data = dict(form.cleaned_data)
    version = data.pop("version")
    reason = data.pop("reason")
    merged_no = data.pop("merged_into")
    if action == "merge":
        try:
            data["merged_into"] = access.scope(Case.objects.all(), request.user).get(
                case_no=merged_no.strip()
            )
        except Case.DoesNotExist:
            form.add_error("merged_into", _("找不到工单号 %(no)s") % {"no": merged_no})
            return _rerender(request, case, 400, **{key: form}, active_action=action)
    try:
        services.case_transition(
            actor=request.user,
            case=case,
            action=action,
            reason=reason,
            version=version,
            request=request,
            **data,
        )
    except services.CaseConflict as exc:
        form.add_error(None, exc.messages)
        return _rerender(request, case, 409, **{key: form}, active_action=action)
    except ValidationError as exc:
        _form_errors(form, exc)
        return _rerender(request, case, 400, **{key: form}, active_action=action)
    messages.success(request, _("已执行「%(a)s」") % {"a": TRANSITIONS[action][2]})
    return redirect("cases-detail", pk=case.pk)


def _versioned_post(request, pk, form_class, form_key, call, form_kwargs=None):
    """POST handler shared by the case page's small forms: validate, call the service, and on a
    conflict or a validation error re-render the page with the form and its errors."""
    case = get_case(request, pk)
    access.require_write(request.user)
    if callable(form_kwargs):
        form_kwargs = form_kwargs(case)
    form = form_class(request.POST, **(form_kwargs or {}))
    if not form.is_valid():
        return _rerender(request, case, 400, **{form_key: form})
    try:
        call(case, form.cleaned_data)
    except services.CaseConflict as exc:
        form.add_error(None, exc.messages)
        return _rerender(request, case, 409, **{form_key: form})
    except ValidationError as exc:
        _form_errors(form, exc)
        return _rerender(request, case, 400, **{form_key: form})
    messages.success(request, _("已保存"))
    return redirect("cases-detail", pk=case.pk)


@login_required
@require_POST
def case_extend_view(request, pk: int):
    def call(case, data):
        approver = User.objects.get(pk=int(data["approver"]))
        services.case_extend(
            actor=request.user,
            case=case,
            reason=data["reason"],
            approver=approver,
            version=data["version"],
            request=request,
        )

    return _versioned_post(
        request,
        pk,
        ExtendForm,
        "extend_form",
        call,
        form_kwargs=lambda case: {"approvers": User.objects.filter(is_active=True)},
    )


@login_required
@require_POST
def case_assign_view(request, pk: int):
    def call(case, data):
        handler = _handlers(request.user).get(pk=int(data["handler"]))
        services.case_assign(
            actor=request.user, case=case, handler=handler, version=data["version"], request=request
        )

    return _versioned_post(
        request, pk, AssignForm, "assign_form", call, form_kwargs={"handlers": _handlers(request.user)}
    )


@login_required
@require_POST
def case_plan_add(request, pk: int):
    return _versioned_post(
        request,
        pk,
        PlanStepForm,
        "plan_form",
        lambda case, data: services.plan_step_add(
            actor=request.user,
            case=case,
            due_date=data["due_date"],
            action=data["action"],
            owner=request.user,
        ),
        form_kwargs={},
    )


@login_required
@require_POST
def case_plan_done(request, pk: int, step: int):
    case = get_case(request, pk)
    access.require_write(request.user)
    try:
        plan_step = case.plan_steps.get(pk=step)
    except PlanStep.DoesNotExist:
        raise Http404 from None
    services.plan_step_done(actor=request.user, step=plan_step)
    return redirect("cases-detail", pk=case.pk)


@login_required
@require_POST
def case_contact_add(request, pk: int):
    return _versioned_post(
        request,
        pk,
        ContactForm,
        "contact_form",
        lambda case, data: services.contact_add(
            actor=request.user,
            case=case,
            method=data["method"],
            outcome=data["outcome"],
            note=data["note"],
            at=data["at"],
            request=request,
        ),
        form_kwargs={},
    )


@login_required
@require_POST
def case_root_cause(request, pk: int):
    return _versioned_post(
        request,
        pk,
        RootCauseForm,
        "root_form",
        lambda case, data: services.case_root_cause_set(
            actor=request.user,
            case=case,
            root_cause=data["root_cause"],
            agent_code=data["agent_code"],
            product_code=data["product_code"],
            version=data["version"],
        ),
        form_kwargs={},
    )


@login_required
@require_POST
def case_callback(request, pk: int):
    return _versioned_post(
        request,
        pk,
        CallbackForm,
        "callback_form",
        lambda case, data: services.case_satisfaction_record(
            actor=request.user, case=case, result=data["result"], note=data["note"]
        ),
        form_kwargs={},
    )


@login_required
def case_notice(request, pk: int):
    """投诉处理决定告知书 (.docx) with the remedies the rules require."""
    case = get_case(request, pk)
    if case.decided_at is None:
        raise PermissionDenied(_("工单作出决定后才能生成告知书"))
    content = exports.decision_notice_docx(case)
    audit_record(
        actor=request.user,
        action="export",
        obj=case,
        unit=case.unit,
        request=request,
        details={"what": "notice"},
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="notice-{case.case_no}.docx"'
    return response


@login_required
def case_reveal(request, pk: int, field: str):
    """Reveal one personal value of the case's customer, with a reason (audited)."""
    if field not in ("name", "phone", "id_no"):
        raise Http404
    case = get_case(request, pk)
    if case.customer is None:
        raise Http404
    access.require_reveal(request.user)
    customer = case.customer
    context = {
        "customer": customer,
        "field": field,
        "masked": getattr(customer, f"{field}_masked"),
        "reveal_url": reverse("cases-reveal", args=[case.pk, field]),
    }
    form = RevealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            context["value"] = personal_reveal(
                actor=request.user,
                holder=customer,
                prefix=field,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            form.add_error("reason", exc)
    context["form"] = form
    return render(request, "customers/_reveal.html", context)


@login_required
def notification_index(request):
    notes = Notification.objects.filter(user=request.user).select_related("case")[:200]
    if request.method == "POST":
        Notification.objects.filter(user=request.user, read_at=None).update(read_at=timezone.now())
        return redirect("cases-notifications")
    return render(request, "cases/notifications.html", {"notes": notes})
