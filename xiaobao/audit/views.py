import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.audit.models import AuditAction, AuditEntry


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def audit_index(request):
    """Auditors filter the trail by person, action, record and date. Non-admins see the entries of
    their own scope: those tagged with a unit they can see, and those they made themselves."""
    access.require_audit(request.user)
    entries = AuditEntry.objects.all()
    if not access.is_admin(request.user):
        codes = list(access.visible_units(request.user).values_list("code", flat=True))
        entries = entries.filter(Q(unit_code__in=codes) | Q(actor=request.user))
    f = request.GET
    errors = []
    if f.get("actor"):
        entries = entries.filter(actor_name__icontains=f["actor"])
    if f.get("action"):
        entries = entries.filter(action=f["action"])
    if f.get("object"):
        entries = (
            entries.filter(object_id=f["object"])
            if f["object"].isascii() and f["object"].isdigit()
            else entries.filter(object_label__icontains=f["object"])
        )
    for key, lookup in (("from", "at__date__gte"), ("to", "at__date__lte")):
        if f.get(key):
            day = _date(f[key])
            if day is None:
                errors.append(_("日期格式应为 YYYY-MM-DD: %(value)s") % {"value": f[key]})
            else:
                entries = entries.filter(**{lookup: day})
    page = Paginator(entries.order_by("-seq"), 50).get_page(f.get("page"))
    return render(
        request, "audit/list.html", {"page": page, "actions": AuditAction.choices, "f": f, "errors": errors}
    )
