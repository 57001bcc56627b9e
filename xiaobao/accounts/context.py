from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xiaobao.accounts import access

# (url name, label, who sees it[, group]). Entries of the group MANAGE go into the「管理」menu at the
# end of the navigation bar, so the bar keeps the day-to-day work in one row.
MANAGE = "manage"
NAVIGATION = [
    ("home-index", _("工作台"), lambda u: True),
    ("cases-desk", _("投诉与工单"), lambda u: True),
    ("customers-list", _("客户"), lambda u: True),
    ("org-units", _("机构"), lambda u: True, MANAGE),
    ("accounts-users", _("用户"), access.is_admin, MANAGE),
    ("imports-batches", _("导入记录"), access.can_import, MANAGE),
    ("audit-list", _("审计日志"), access.can_read_audit, MANAGE),
    ("cases-calendar", _("节假日"), access.is_admin, MANAGE),
    ("cases-settings", _("工单设置"), access.is_admin, MANAGE),
]


def nav_entries():
    """The core entries above, then each app's own `nav.py` NAV list, in INSTALLED_APPS order."""
    from xiaobao.lib.appmodules import app_modules

    entries = list(NAVIGATION)
    for module in app_modules("nav"):
        entries += module.NAV
    return entries


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_manage": []}
    current = getattr(getattr(request, "resolver_match", None), "url_name", "") or ""
    entries = [(n, label, g == [MANAGE]) for n, label, allowed, *g in nav_entries() if allowed(user)]
    # The page's own entry when it has one; otherwise its app's entry in the bar (a case page → 投诉与工单).
    exact = any(name == current for name, _, _ in entries)
    items, manage = [], []
    for name, label, in_menu in entries:
        if exact:
            active = name == current
        else:
            active = not in_menu and current.startswith(name.split("-")[0] + "-")
        (manage if in_menu else items).append({"url": reverse(name), "label": label, "active": active})
    from xiaobao.cases.models import Notification

    unread = Notification.objects.filter(user=user, read_at=None).count()
    return {
        "nav_items": items,
        "nav_manage": manage,
        "nav_manage_active": any(e["active"] for e in manage),
        "can_reveal": access.can_reveal(user),
        "can_write": access.can_write(user),
        "unread_notifications": unread,
    }
