"""Who may do what with reports. Reading and downloading: every role, within the units it sees.
Generating: the writing roles (it freezes a KPI snapshot). Editing the narrative templates, which
every unit's reports share: officers (消保管理岗) and administrators."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.accounts.models import Role


def can_edit_templates(user) -> bool:
    if not user.is_authenticated:
        return False
    if access.is_admin(user):
        return True
    return user.has_role(Role.OFFICER)


def require_edit_templates(user) -> None:
    if not can_edit_templates(user):
        raise PermissionDenied(_("仅消保管理岗和系统管理员可以修改报告模板"))
