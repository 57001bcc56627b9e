from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from xiaobao.accounts import access


@login_required
def unit_index(request):
    units = access.visible_units(request.user).select_related("parent")
    base_depth = min((u.depth for u in units), default=0)
    rows = [(u, min(u.depth - base_depth, 4)) for u in units]
    return render(request, "org/units.html", {"rows": rows})


@login_required
def unit_detail(request, code: str):
    unit = access.get_unit_for_user(request.user, code)
    users = unit.users.filter(is_active=True).order_by("username")
    return render(request, "org/unit_detail.html", {"unit": unit, "users": users})
