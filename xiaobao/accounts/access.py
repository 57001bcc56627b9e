"""Who may see and do what. Every view and API call asks here; nothing else decides access.

Scope: a user sees their own unit and every unit below it. The administrator sees everything.
Auditors read everything in their scope and change nothing. One condition per line, so that
coverage shows every branch is tested.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from xiaobao.accounts.models import Role, User
from xiaobao.org.models import Unit

WRITE_ROLES = {Role.ADMIN, Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD}
REVEAL_ROLES = {Role.ADMIN, Role.OFFICER, Role.HANDLER}
AUDIT_READ_ROLES = {Role.ADMIN, Role.AUDITOR, Role.OFFICER}
IMPORT_ROLES = {Role.ADMIN, Role.OFFICER}


def is_admin(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.has_role(Role.ADMIN)


def can_write(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.has_role(*WRITE_ROLES)


def can_reveal(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.has_role(*REVEAL_ROLES)


def can_read_audit(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.has_role(*AUDIT_READ_ROLES)


def can_import(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.has_role(*IMPORT_ROLES)


def visible_units(user: User) -> QuerySet[Unit]:
    if is_admin(user):
        return Unit.objects.all()
    if not user.is_authenticated or user.unit_id is None:
        return Unit.objects.none()
    return Unit.objects.filter(path__startswith=user.unit.path)


def unit_visible(user: User, unit: Unit | None) -> bool:
    if unit is None:
        return is_admin(user)
    if is_admin(user):
        return True
    if not user.is_authenticated or user.unit_id is None:
        return False
    return unit.path.startswith(user.unit.path)


def scope(queryset: QuerySet, user: User, unit_field: str = "unit") -> QuerySet:
    """Restrict any queryset to the rows whose unit the user may see."""
    if is_admin(user):
        return queryset
    if not user.is_authenticated or user.unit_id is None:
        return queryset.none()
    return queryset.filter(**{f"{unit_field}__path__startswith": user.unit.path})


def get_for_user(
    user: User, queryset: QuerySet, *, unit_field: str = "unit", write: bool = False, **lookup
) -> Model:
    """Fetch one object the user may see: 404 when it is outside their scope, 403 when they may
    only read and asked to write."""
    try:
        obj = scope(queryset, user, unit_field).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None
    if write:
        require_write(user)
    return obj


def require_write(user: User) -> None:
    if not can_write(user):
        raise PermissionDenied(_("只读账号不能修改数据"))


def require_reveal(user: User) -> None:
    if not can_reveal(user):
        raise PermissionDenied(_("无权查看完整个人信息"))


def require_audit(user: User) -> None:
    if not can_read_audit(user):
        raise PermissionDenied(_("无权查看审计日志"))


def require_import(user: User) -> None:
    if not can_import(user):
        raise PermissionDenied(_("无权导入数据"))


def require_admin(user: User) -> None:
    if not is_admin(user):
        raise PermissionDenied(_("仅系统管理员可以操作"))


def get_unit_for_user(user: User, code: str) -> Unit:
    try:
        return visible_units(user).select_related("parent").get(code=code)
    except Unit.DoesNotExist:
        raise Http404 from None
