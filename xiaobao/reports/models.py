from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NarrativeTemplate(models.Model):
    """报告文字模板: a user's edited text of one paragraph of the year-end report, replacing the
    default of xiaobao.reports.yearend. Figures are {placeholders}; an unknown one is refused."""

    key = models.CharField(_("段落"), max_length=40, unique=True)
    heading = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("报告文字模板")
        verbose_name_plural = _("报告文字模板")

    def __str__(self) -> str:
        return self.key


class ReportKind(models.TextChoices):
    YEAREND = "yearend", _("年度消保工作总结")  # the year-end summary (.docx)
    COMPLAINTS = "complaints", _("季度投诉统计")  # the regulator's quarterly complaint statistics (.xlsx)
    COMMITTEE = "committee", _("委员会月度材料")  # the committee's monthly pack (.docx or .xlsx)


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")  # asked for; the background run has not started
    RUNNING = "running", _("生成中")  # figures are being computed and the file written
    DONE = "done", _("已完成")  # the file is ready to download
    FAILED = "failed", _("失败")  # the run raised; see message


class ReportJob(models.Model):
    """One generated report: what was asked (kind, period, unit, format), by whom, how it went, and
    the file. The list of these rows is the downloads page."""

    kind = models.CharField(_("报告类型"), max_length=16, choices=ReportKind.choices)
    period = models.CharField(_("期间"), max_length=16)  # "2024", "2024Q4", "2024-11"
    fmt = models.CharField(_("格式"), max_length=8, default="docx")
    unit = models.ForeignKey("org.Unit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    step = models.CharField(_("进度"), max_length=100, blank=True)
    owner = models.CharField(max_length=100, blank=True)  # host:pid of the process running it
    file_path = models.CharField(max_length=500, blank=True)
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    snapshot = models.ForeignKey(
        "kpi.KpiSnapshot",
        verbose_name=_("指标快照"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message = models.TextField(_("说明"), blank=True)
    seconds = models.FloatField(_("耗时 (秒)"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("报告")
        verbose_name_plural = _("报告")

    def __str__(self) -> str:
        return f"{self.kind}:{self.period}"

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)
