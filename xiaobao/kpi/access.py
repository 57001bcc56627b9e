"""Who may freeze figures and enter the quality index's hand-entered values: the administrator and
the consumer-protection officers (消保管理岗), within their units. Weights and targets are the
administrator's alone (accounts.access.require_admin)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from xiaobao.accounts.models import Role

KPI_WRITE_ROLES = {Role.ADMIN, Role.OFFICER}


def can_manage_kpi(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.has_role(*KPI_WRITE_ROLES)


def require_manage_kpi(user) -> None:
    if not can_manage_kpi(user):
        raise PermissionDenied(_("仅系统管理员和消保管理岗可以操作指标快照和手工录入"))
