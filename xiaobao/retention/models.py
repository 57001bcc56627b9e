"""保存期限: how long each class of record keeps what, and the runs that applied the rules."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordClass(models.TextChoices):
    CASE_PERSONAL = "case_personal", _("已办结工单的客户个人信息")
    IMPORT_ERRORS = "import_errors", _("导入错误文件 (含原始行数据)")
    REPORT_FILES = "report_files", _("已生成的报告文件")
    NOTIFICATIONS = "notifications", _("站内通知")
    STORE_VERSIONS = "store_versions", _("核心业务数据的历史版本")
    SESSIONS = "sessions", _("已过期的登录会话")
    AUDIT_LOG = "audit_log", _("审计日志")


# (default days, what happens when they have passed); None days: kept for ever.
DEFAULTS = {
    RecordClass.CASE_PERSONAL: (
        3650,
        _("客户的全部工单办结满期限后, 销毁其数据密钥 (个人信息无法恢复); 工单记录与统计保留"),
    ),
    RecordClass.IMPORT_ERRORS: (180, _("删除错误文件; 导入批次记录与计数保留")),
    RecordClass.REPORT_FILES: (730, _("删除报告文件; 生成记录与所引用的指标快照保留, 可按快照重新生成")),
    RecordClass.NOTIFICATIONS: (365, _("删除通知")),
    RecordClass.STORE_VERSIONS: (365, _("删除既非当前版本、也未被任何指标快照引用的历史版本")),
    RecordClass.SESSIONS: (0, _("删除已过期的会话")),
    RecordClass.AUDIT_LOG: (None, _("永久保存, 不可删除: 审计链须始终可校验")),
}


class RetentionRule(models.Model):
    record_class = models.CharField(_("记录类别"), max_length=32, choices=RecordClass.choices, unique=True)
    keep_days = models.PositiveIntegerField(_("保存天数"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("修改时间"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("保存期限规则")
        verbose_name_plural = _("保存期限规则")

    def __str__(self) -> str:
        return self.get_record_class_display()

    @property
    def action(self) -> str:
        return DEFAULTS[RecordClass(self.record_class)][1]

    @property
    def fixed(self) -> bool:
        """The audit log is kept for ever; its rule cannot be changed."""
        return self.record_class == RecordClass.AUDIT_LOG


class RunTrigger(models.TextChoices):
    WORKER = "worker", _("后台每日")
    COMMAND = "command", _("命令行")
    PAGE = "page", _("页面")


class RetentionRun(models.Model):
    day = models.DateField(_("执行日期"))
    trigger = models.CharField(_("触发方式"), max_length=16, choices=RunTrigger.choices)
    dry_run = models.BooleanField(_("试运行"), default=False)
    actor_name = models.CharField(_("执行人"), max_length=150, blank=True)
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    results = models.JSONField(_("结果"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            # The worker applies the rules once a day, whichever of several workers gets there first.
            models.UniqueConstraint(
                fields=["day"], condition=models.Q(trigger="worker"), name="retention_once_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.trigger}"

    @property
    def summary(self) -> list[tuple[str, int, str]]:
        """(class label, count, error) of each class the run touched or failed on."""
        labels = dict(RecordClass.choices)
        return [
            (labels.get(key, key), result.get("count", 0), result.get("error", ""))
            for key, result in self.results.items()
            if result.get("count") or result.get("error")
        ]
