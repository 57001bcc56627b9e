"""审计日志: an append-only, hash-chained record of every login, reveal, export, import and state change.

Each entry's `mac` is an HMAC over its own fields and the previous entry's mac, so editing,
deleting or reordering any entry breaks the chain from that position on; `xiaobao audit verify`
finds it. Database triggers refuse UPDATE and DELETE on the table as a first line of defence.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    LOCKED_OUT = "locked_out", _("登录锁定")
    PASSWORD_CHANGE = "password_change", _("修改密码")
    REVEAL = "reveal", _("查看个人信息")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")
    CREATE = "create", _("新建")
    UPDATE = "update", _("修改")
    TRANSITION = "transition", _("状态变更")
    DELETE = "delete", _("删除")
    ERASE = "erase", _("删除个人信息")
    ACCESS_DENIED = "access_denied", _("越权访问")


class AuditEntry(models.Model):
    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The name as it was at the time, so the record survives the user being renamed or removed.
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=32, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True, db_index=True)
    object_id = models.CharField(_("对象"), max_length=64, blank=True, db_index=True)
    object_label = models.CharField(_("对象名称"), max_length=200, blank=True)
    unit_code = models.CharField(_("机构"), max_length=32, blank=True, db_index=True)
    ip = models.CharField(_("IP 地址"), max_length=45, blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [models.Index(fields=["actor", "at"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    @property
    def object_type_label(self) -> str:
        from django.apps import apps

        if not self.object_type:
            return ""
        try:
            return str(apps.get_model(self.object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.object_type

    @property
    def details_display(self) -> list[tuple[str, str]]:
        """Details with readable labels: 字段：电话 rather than field: phone."""
        rows = []
        for key, value in (self.details or {}).items():
            label = DETAIL_LABELS.get(key, key)
            if key == "field":
                value = FIELD_LABELS.get(value, value)
            rows.append((str(label), value))
        return rows


DETAIL_LABELS = {
    "field": _("字段"),
    "reason": _("原因"),
    "from": _("原状态"),
    "to": _("新状态"),
    "action": _("操作"),
    "rows": _("行数"),
    "what": _("内容"),
    "filter": _("筛选条件"),
    "handler": _("处理人"),
    "extension": _("延期级别"),
    "approver": _("审批人"),
    "due": _("期限"),
    "ip": _("IP 地址"),
    "seed": _("随机种子"),
    "kind": _("数据类型"),
    "file": _("文件"),
    "sha256": _("文件哈希"),
    "size": _("大小"),
    "note": _("意见"),
}
FIELD_LABELS = {"name": _("姓名"), "id_no": _("证件号码"), "phone": _("电话"), "account": _("银行账号")}
