"""Who scores a self-assessment: the consumer-protection officer (消保管理岗) or the administrator.
Everyone else in scope reads it. The catalogue is the administrator's alone (accounts.access.require_admin)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from xiaobao.accounts.models import Role

ASSESS_ROLES = {Role.ADMIN, Role.OFFICER}


def can_assess(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.has_role(*ASSESS_ROLES)


def require_assess(user) -> None:
    if not can_assess(user):
        raise PermissionDenied(_("只有消保管理岗可以填写自评"))
