"""导入批次: every import, from the command line or the UI, is recorded with who, when, what and how it went."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BatchStatus(models.TextChoices):
    RUNNING = "running", _("进行中")  # rows are being read and validated
    DONE = "done", _("已完成")  # good rows committed (bad rows, if any, in the error file)
    DRY_RUN = "dry_run", _("试运行")  # validated only, nothing written
    REJECTED = "rejected", _("已拒绝")  # --strict and at least one bad row: nothing written
    FAILED = "failed", _("失败")  # the file could not be read at all


class ImportBatch(models.Model):
    kind = models.CharField(_("数据类型"), max_length=32, db_index=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(_("文件哈希"), max_length=64)
    profile = models.CharField(_("导入配置"), max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("导入人"), max_length=150, blank=True)
    unit = models.ForeignKey("org.Unit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(
        _("状态"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.RUNNING
    )
    dry_run = models.BooleanField(_("试运行"), default=False)
    strict = models.BooleanField(_("严格模式"), default=False)
    rows_read = models.PositiveIntegerField(_("读取行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变"), default=0)
    rejected = models.PositiveIntegerField(_("拒绝"), default=0)
    errors_file = models.CharField(_("错误文件"), max_length=500, blank=True)
    message = models.TextField(_("说明"), blank=True)
    # What the counts do not say: unknown columns, skipped preamble rows, the first errors, the
    # encoding and header row found, record counts when several rows form one record.
    details = models.JSONField(_("详情"), default=dict, blank=True)
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")

    def __str__(self) -> str:
        return f"{self.kind}:{self.file_name}"

    @property
    def kind_label(self) -> str:
        from xiaobao.imports.registry import kind_label

        return kind_label(self.kind)

    def summary(self) -> dict:
        return {
            "batch": self.pk,
            "kind": self.kind,
            "status": self.status,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors_file": self.errors_file or None,
            "dry_run": self.dry_run,
            "strict": self.strict,
            "profile": self.profile or None,
            "file": self.file_name,
            "sha256": self.file_sha256,
            "message": self.message,
            **self.details,
        }


class ImportChange(models.Model):
    """One stored record an import changed: its key and each column's old → new value.

    Created records are counted on the batch, not listed here: an import of 300,000 new rows must
    not write 300,000 more. An update is the event worth tracing ("who changed this, from what").
    """

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes")
    key = models.CharField(_("记录键"), max_length=255, db_index=True)
    row = models.PositiveIntegerField(_("行号"))
    changes = models.JSONField(_("变更"))  # {"column": [old, new]}

    class Meta:
        ordering = ["batch", "row"]
        verbose_name = _("导入变更")
        verbose_name_plural = _("导入变更")

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.key}"
