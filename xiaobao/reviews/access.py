"""Who may review. Submitting and answering are ordinary writes (accounts.access.require_write);
recording opinions and signing off is the consumer-protection officer's work (消保管理岗) or the
administrator's, and never on one's own submission (回避)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from xiaobao.accounts.models import Role

REVIEW_ROLES = {Role.ADMIN, Role.OFFICER}


def can_review(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.has_role(*REVIEW_ROLES)


def require_review(user) -> None:
    if not can_review(user):
        raise PermissionDenied(_("只有消保管理岗可以审查和签批"))


def require_not_submitter(user, request) -> None:
    if request.submitter_id == user.pk:
        raise PermissionDenied(_("提交人不能审查或签批自己提交的事项"))
