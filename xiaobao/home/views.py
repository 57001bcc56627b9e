from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.customers.models import Customer
from xiaobao.kpi.periods import PeriodError, parse_period
from xiaobao.kpi.selectors import dashboard, unit_for


@login_required
def index(request):
    """The desk: the user's unit at a glance, with its KPIs and their monthly trends (xiaobao.kpi).
    `?period=2024Q3` shows another period, `?unit=CODE` another visible unit."""
    user = request.user
    tiles = [
        {"label": _("可见机构"), "value": access.visible_units(user).count()},
        {"label": _("客户"), "value": access.scope(Customer.objects.all(), user).count()},
    ]
    errors, period = [], None
    if request.GET.get("period"):
        try:
            period = parse_period(request.GET["period"])
        except PeriodError as exc:
            errors.append(str(exc))
    unit = unit_for(user, request.GET.get("unit"))
    context = {"tiles": tiles, "errors": errors, **dashboard(user=user, unit=unit, period=period)}
    return render(request, "home/index.html", context, status=400 if errors else 200)
