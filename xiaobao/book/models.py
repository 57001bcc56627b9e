"""导入任务: a core-system extract uploaded on the import page and imported in the background.

The import itself is recorded as an ImportBatch (xiaobao.imports) like every import; the job is what
the page needs around it: the upload waiting for its turn, the rows read so far while it runs (the
progress bar polls them), and the link to its batch once there is one.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

STALE_AFTER = dt.timedelta(minutes=30)  # a running job silent this long has probably lost its process


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")  # uploaded; the background run has not started
    RUNNING = "running", _("导入中")  # rows are being read; rows_read grows
    FINISHED = "finished", _("已结束")  # the batch says how it went (done, dry run, rejected, failed)
    CRASHED = "crashed", _("异常中止")  # the run raised or its process went away; see message


class ImportJob(models.Model):
    kind = models.CharField(_("数据类型"), max_length=32)
    file_name = models.CharField(_("文件名"), max_length=255)
    upload_path = models.CharField(max_length=500, blank=True)  # removed once the run ends
    dry_run = models.BooleanField(_("试运行"), default=False)
    strict = models.BooleanField(_("严格模式"), default=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.Unit", null=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    rows_read = models.PositiveIntegerField(_("已读取行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)  # 0 while unknown
    batch = models.OneToOneField(
        "imports.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="book_job"
    )
    message = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # last sign of life of the run
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")

    def __str__(self) -> str:
        return f"{self.kind}:{self.file_name}"

    @property
    def kind_label(self) -> str:
        from xiaobao.imports.registry import kind_label

        return kind_label(self.kind)

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def stale(self) -> bool:
        """Running, but no sign of life for STALE_AFTER: the server was probably restarted mid-run."""
        seen = self.heartbeat_at or self.created_at
        return self.status == JobStatus.RUNNING and timezone.now() - seen > STALE_AFTER

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, round(100 * self.rows_read / self.rows_total))
