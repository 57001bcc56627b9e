"""Users and their roles (角色).

A user belongs to one unit and holds one or more roles. What a role may do is decided in
xiaobao.accounts.access, never in views.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")  # configures the system, sees every unit
    OFFICER = "officer", _("消保管理岗")  # consumer-protection officer: runs the work in their scope
    HANDLER = "handler", _("处理人")  # handles complaints and work orders
    UNIT_HEAD = "unit_head", _("机构负责人")  # head of a unit: approves, oversees
    AUDITOR = "auditor", _("审计")  # reads everything in scope, changes nothing


class User(AbstractUser):
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    # Roles are few and fixed; a comma-free list in JSON keeps the user one row and one query.
    roles = models.JSONField(_("角色"), default=list, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @cached_property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles or ())

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.roles if r in Role.values]
