from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.customers.models import Customer


@login_required
def index(request):
    user = request.user
    tiles = [
        {"label": _("可见机构"), "value": access.visible_units(user).count()},
        {"label": _("客户"), "value": access.scope(Customer.objects.all(), user).count()},
    ]
    return render(request, "home/index.html", {"tiles": tiles})
