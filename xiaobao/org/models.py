"""机构树 (unit tree): 总公司 → 分公司 → 中心支公司/支公司 → 部门.

Each unit stores its materialised `path` of codes, so "this unit and everything below it" is one
indexed prefix query instead of a recursive walk.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitLevel(models.TextChoices):
    HEAD_OFFICE = "总公司", _("总公司")  # head office, the root
    BRANCH = "分公司", _("分公司")  # provincial branch
    CENTRAL_SUB_BRANCH = "中心支公司", _("中心支公司")  # prefecture-level sub-branch
    SUB_BRANCH = "支公司", _("支公司")  # county-level sub-branch
    DEPARTMENT = "部门", _("部门")  # a department inside any of the above


# Which level may sit under which: a department may hang anywhere, the others follow the hierarchy.
ALLOWED_PARENT_LEVELS = {
    UnitLevel.HEAD_OFFICE: set(),
    UnitLevel.BRANCH: {UnitLevel.HEAD_OFFICE},
    UnitLevel.CENTRAL_SUB_BRANCH: {UnitLevel.BRANCH},
    UnitLevel.SUB_BRANCH: {UnitLevel.BRANCH, UnitLevel.CENTRAL_SUB_BRANCH},
    UnitLevel.DEPARTMENT: {
        UnitLevel.HEAD_OFFICE,
        UnitLevel.BRANCH,
        UnitLevel.CENTRAL_SUB_BRANCH,
        UnitLevel.SUB_BRANCH,
    },
}


class Unit(models.Model):
    code = models.CharField(_("机构代码"), max_length=32, unique=True)
    name = models.CharField(_("机构名称"), max_length=100)
    level = models.CharField(_("机构层级"), max_length=10, choices=UnitLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # "/root/branch/this/": a prefix match finds a unit's whole subtree.
    path = models.CharField(max_length=800, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("机构")
        verbose_name_plural = _("机构")

    def __str__(self) -> str:
        return f"{self.name}({self.code})"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def clean(self) -> None:
        if "/" in self.code:
            raise ValidationError({"code": _("机构代码不能包含 “/”")})
        if self.parent_id is None and self.level != UnitLevel.HEAD_OFFICE:
            raise ValidationError({"parent": _("只有总公司可以没有上级机构")})
        if self.parent is not None:
            if (
                self.level not in ALLOWED_PARENT_LEVELS
                or self.parent.level not in ALLOWED_PARENT_LEVELS[self.level]
            ):
                raise ValidationError(
                    {
                        "parent": _("%(level)s 不能隶属于 %(parent)s")
                        % {"level": self.level, "parent": self.parent.level}
                    }
                )
            if self.pk and self.parent.path.startswith(self.path or "\0"):
                raise ValidationError({"parent": _("上级机构不能是本机构或其下级机构")})

    def compute_path(self) -> str:
        return f"{self.parent.path if self.parent else '/'}{self.code}/"
