from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xiaobao.accounts import access

# (url name, label, who sees it). Only pages that exist are listed; later issues add theirs here.
NAVIGATION = [
    ("home-index", _("工作台"), lambda u: True),
    ("cases-desk", _("投诉与工单"), lambda u: True),
    ("customers-list", _("客户"), lambda u: True),
    ("org-units", _("机构"), lambda u: True),
    ("accounts-users", _("用户"), access.is_admin),
    ("imports-batches", _("导入记录"), access.can_import),
    ("audit-list", _("审计日志"), access.can_read_audit),
    ("cases-calendar", _("节假日"), access.is_admin),
    ("cases-settings", _("工单设置"), access.is_admin),
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
        return {"nav_items": []}
    current = getattr(getattr(request, "resolver_match", None), "url_name", "") or ""
    items = []
    for name, label, allowed in nav_entries():
        if allowed(user):
            app = name.split("-")[0]
            items.append({"url": reverse(name), "label": label, "active": current.startswith(app + "-")})
    from xiaobao.cases.models import Notification

    unread = Notification.objects.filter(user=user, read_at=None).count()
    return {
        "nav_items": items,
        "can_reveal": access.can_reveal(user),
        "can_write": access.can_write(user),
        "unread_notifications": unread,
    }
