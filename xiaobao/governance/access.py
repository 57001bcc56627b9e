"""Who may do what in governance, beyond xiaobao.accounts.access (scope, read-only roles).

- Plans are approved or returned by a unit head (机构负责人) of the plan's unit or a unit above it:
  the administrator configures the system and does not approve on the head's behalf.
- A bulletin is seen by its issuing unit's scope and, once issued, by the scope of every recipient.
- Rules, plans and training sessions are also read downwards: a 中支 reads the branch's 制度, plans
  and branch-wide sessions (they apply to it), while changing them still needs the owning unit's scope.
- People offered as owners, attendees and participants are the active users the actor can see.
One condition per line, so that coverage shows every branch is tested.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.accounts.models import Role, User
from xiaobao.governance.models import Bulletin, BulletinStatus, Plan


def can_approve_plan(user: User, plan: Plan) -> bool:
    if not user.is_authenticated:
        return False
    if not user.has_role(Role.UNIT_HEAD):
        return False
    return access.unit_visible(user, plan.unit)


def require_plan_approver(user: User, plan: Plan) -> None:
    if not can_approve_plan(user, plan):
        raise PermissionDenied(_("只有本机构或上级机构的机构负责人可以审批计划"))


def bulletin_scope(user: User) -> QuerySet[Bulletin]:
    """Bulletins the user may read: issued within their scope, or issued to a unit in it."""
    bulletins = Bulletin.objects.all()
    if access.is_admin(user):
        return bulletins
    if not user.is_authenticated or user.unit_id is None:
        return bulletins.none()
    path = user.unit.path
    issued_here = Q(unit__path__startswith=path)
    sent_here = Q(status=BulletinStatus.ISSUED, pk__in=_received(path))
    return bulletins.filter(issued_here | sent_here)


def _received(path: str):
    from xiaobao.governance.models import BulletinReceipt

    return BulletinReceipt.objects.filter(unit__path__startswith=path).values("bulletin_id")


def get_bulletin_for_user(user: User, pk: int, *, write: bool = False) -> Bulletin:
    try:
        bulletin = bulletin_scope(user).select_related("unit", "issued_by").get(pk=pk)
    except Bulletin.DoesNotExist:
        raise Http404 from None
    if write:
        access.require_write(user)
    return bulletin


def readable(queryset: QuerySet, user: User) -> QuerySet:
    """Rows of the user's scope, and rows of the units above the user's unit (which apply to it)."""
    if access.is_admin(user):
        return queryset
    if not user.is_authenticated or user.unit_id is None:
        return queryset.none()
    above = user.unit.path.strip("/").split("/")
    return queryset.filter(Q(unit__path__startswith=user.unit.path) | Q(unit__code__in=above))


def get_readable(user: User, queryset: QuerySet, *, pk: int):
    """One readable row: 404 when the user may not read it (its existence is not revealed)."""
    try:
        return readable(queryset, user).get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404 from None


def people(user: User) -> QuerySet[User]:
    """Active users in the units the user can see: the choices for owners and attendees."""
    return (
        User.objects.filter(is_active=True, unit__in=access.visible_units(user))
        .select_related("unit")
        .order_by("unit__path", "username")
    )
