from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from xiaobao.accounts import access
from xiaobao.customers.forms import EraseForm, RevealForm
from xiaobao.customers.models import Customer
from xiaobao.customers.selectors import customer_list
from xiaobao.customers.services import customer_erase
from xiaobao.privacy.services import personal_reveal


@login_required
def customer_index(request):
    query = request.GET.get("q", "")
    page = Paginator(customer_list(user=request.user, query=query), 50).get_page(request.GET.get("page"))
    return render(request, "customers/list.html", {"page": page, "q": query})


@login_required
def customer_detail(request, pk: int):
    customer = access.get_for_user(request.user, Customer.objects.select_related("unit", "subject"), pk=pk)
    fields = [
        (prefix, Customer.LABELS[prefix], getattr(customer, f"{prefix}_masked"))
        for prefix in Customer.PROTECTED
    ]
    context = {"customer": customer, "fields": fields, "can_erase": access.is_admin(request.user)}
    return render(request, "customers/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def customer_erase_view(request, pk: int):
    """GET: what erasing removes and keeps, and the reason form. POST: erase (administrators only)."""
    customer = access.get_for_user(request.user, Customer.objects.select_related("unit", "subject"), pk=pk)
    access.require_admin(request.user)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            counts = customer_erase(
                actor=request.user, customer=customer, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "已删除该客户的个人信息: 客户记录 %(c)s 条, 核心业务数据 %(s)s 行; 统计数据与审计日志保持不变"
                )
                % {
                    "c": counts["customers"],
                    "s": sum(v for k, v in counts.items() if k.startswith("store_")),
                },
            )
            return redirect("customers-detail", pk=customer.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "customers/erase.html", {"customer": customer, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def customer_reveal(request, pk: int, field: str):
    """GET: the reason form for one field. POST: reveal that field with a reason (audited)."""
    if field not in Customer.PROTECTED:
        raise Http404
    customer = access.get_for_user(request.user, Customer.objects.select_related("unit", "subject"), pk=pk)
    access.require_reveal(request.user)
    context = {"customer": customer, "field": field, "masked": getattr(customer, f"{field}_masked")}
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
