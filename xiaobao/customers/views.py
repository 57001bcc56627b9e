from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from xiaobao.accounts import access
from xiaobao.customers.forms import RevealForm
from xiaobao.customers.models import Customer
from xiaobao.customers.selectors import customer_list
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
    return render(request, "customers/detail.html", {"customer": customer, "fields": fields})


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
