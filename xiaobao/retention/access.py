"""Who sees the retention rules: administrators, officers and auditors, wherever their unit is.
Only administrators change them or run them (accounts.access.require_admin)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from xiaobao.accounts.models import Role

READERS = {Role.ADMIN, Role.OFFICER, Role.AUDITOR}


def can_read(user) -> bool:
    return bool(set(user.roles) & READERS)


def require_read(user) -> None:
    if not can_read(user):
        raise PermissionDenied(_("仅系统管理员、消保专员和审计人员可以查看保存期限"))
