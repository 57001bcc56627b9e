"""退保风险监测: alerts from the surrender series and the ring scan, their investigation, and the
疑似退保黑产信息库 (watchlist) that intake checks.

An alert is one row whatever its kind; its investigation is a list of AlertEvent rows (assignment,
notes, evidence, confirm, dismiss), so the queue, the audit trail and the year's figures all come
from the same tables.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    SERIES = "series", _("退保序列异常")  # a surrender series jumped against its history or peers
    CLUSTER = "cluster", _("疑似退保黑产团伙")  # records linked by shared tokens or template texts


class AlertStatus(models.TextChoices):
    NEW = "new", _("待分派")  # found by a scan, nobody on it yet
    INVESTIGATING = "investigating", _("调查中")  # assigned to an investigator
    CONFIRMED = "confirmed", _("已确认")  # the investigator confirmed it (with a reason)
    DISMISSED = "dismissed", _("已排除")  # a coincidence or a legitimate pattern (with a reason)


# action → (allowed from, to). Services check this table; views never assign status.
ALERT_TRANSITIONS = {
    "assign": ({AlertStatus.NEW, AlertStatus.INVESTIGATING}, AlertStatus.INVESTIGATING),
    "confirm": ({AlertStatus.NEW, AlertStatus.INVESTIGATING}, AlertStatus.CONFIRMED),
    "dismiss": ({AlertStatus.NEW, AlertStatus.INVESTIGATING}, AlertStatus.DISMISSED),
    "reopen": ({AlertStatus.CONFIRMED, AlertStatus.DISMISSED}, AlertStatus.INVESTIGATING),
}
OPEN_ALERT_STATUSES = {AlertStatus.NEW, AlertStatus.INVESTIGATING}


class Alert(models.Model):
    kind = models.CharField(_("类型"), max_length=8, choices=AlertKind.choices, db_index=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.NEW, db_index=True
    )
    # A stable digest of what the alert is about (the cluster's members, or the series and month), so
    # a re-run of the scan updates the alert instead of opening a second one.
    fingerprint = models.CharField(max_length=64, unique=True)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("所属机构"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=200)
    score = models.FloatField(_("风险分"), default=0)
    reasons = models.JSONField(_("原因"), default=list, blank=True)  # Chinese sentences
    policy_nos = models.JSONField(_("涉及保单"), default=list, blank=True)
    case_nos = models.JSONField(_("涉及工单"), default=list, blank=True)
    size = models.PositiveIntegerField(_("记录数"), default=0)
    # Shared identifiers of a cluster: [{"kind": "phone", "token": ..., "masked": ..., "holders": n}]
    links = models.JSONField(_("共享信息"), default=list, blank=True)
    details = models.JSONField(_("明细"), default=dict, blank=True)
    period = models.CharField(_("期间"), max_length=16, blank=True)  # series alerts: "2025-06"
    as_of = models.DateField(_("扫描基准日"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调查人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_reason = models.TextField(_("结论理由"), blank=True)
    decided_at = models.DateTimeField(_("结论时间"), null=True, blank=True)
    cases = models.ManyToManyField("cases.Case", verbose_name=_("关联工单"), blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "-pk"]
        verbose_name = _("风险预警")
        verbose_name_plural = _("风险预警")
        indexes = [models.Index(fields=["unit", "status"], name="risk_alert_unit_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ALERT_STATUSES


EVENT_LABELS = {
    "assign": _("分派调查人"),
    "note": _("调查记录"),
    "evidence": _("上传证据材料"),
    "confirm": _("确认"),
    "dismiss": _("排除"),
    "reopen": _("重新调查"),
}


class AlertEvent(models.Model):
    """One step of an investigation: assignment, note, evidence, confirm, dismiss, reopen."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.alert_id}:{self.action}"

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.action, self.action))

    @property
    def from_label(self) -> str:
        return str(AlertStatus(self.from_status).label) if self.from_status else ""

    @property
    def to_label(self) -> str:
        return str(AlertStatus(self.to_status).label) if self.to_status else ""


class AlertEvidence(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="risk/evidence/")
    original_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class WatchKind(models.TextChoices):
    PHONE = "phone", _("电话")
    ACCOUNT = "account", _("银行账号")
    NAME = "name", _("姓名")
    ADDRESS = "address", _("联系地址")


class WatchEntry(models.Model):
    """One confirmed phone, account, name or address of the 疑似退保黑产信息库, held as its keyed-hash
    token."""

    kind = models.CharField(_("类型"), max_length=8, choices=WatchKind.choices)
    token = models.CharField(max_length=40, db_index=True)
    masked = models.CharField(_("显示"), max_length=50)
    reason = models.TextField(_("列入理由"))
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("确认机构"), on_delete=models.PROTECT, related_name="+"
    )
    alert = models.ForeignKey(
        Alert, verbose_name=_("来源预警"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), auto_now_add=True)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["-confirmed_at", "-pk"]
        verbose_name = _("黑产信息库条目")
        verbose_name_plural = _("黑产信息库")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "token"], condition=models.Q(active=True), name="risk_watch_active_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked}"


class HitSource(models.TextChoices):
    INTAKE = "intake", _("登记时命中")  # the case was created (form, API, import) with a listed token
    LISTED = "listed", _("列入时回查")  # the token was listed after the case existed
    SCAN = "scan", _("每日扫描")  # found by the daily scan


class WatchlistHit(models.Model):
    """A case whose customer touches an active watchlist entry: the stored flag of the desk and the
    case page. Recorded at intake through xiaobao.cases.hooks, and for older cases when a token is
    listed or by the daily scan. Removing the entry (active=False) hides the flag; the row stays."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(WatchEntry, on_delete=models.CASCADE, related_name="case_hits")
    source = models.CharField(
        _("发现方式"), max_length=8, choices=HitSource.choices, default=HitSource.INTAKE
    )
    at = models.DateTimeField(_("命中时间"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["case", "entry"], name="risk_hit_case_entry_once")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.entry_id}"


class WatchlistRowHit(models.Model):
    """A row of a core-data import (xiaobao.book) whose contact phone, payee account, payee name or
    contact address touches an active watchlist entry, recorded when the batch committed its rows."""

    batch = models.ForeignKey("imports.ImportBatch", on_delete=models.CASCADE, related_name="+")
    table = models.CharField(_("数据表"), max_length=16)
    key = models.CharField(_("记录键"), max_length=255)
    policy_no = models.CharField(_("保单号"), max_length=64, blank=True)
    org_code = models.CharField(_("机构代码"), max_length=32, blank=True, db_index=True)  # the policy's unit
    column = models.CharField(_("字段"), max_length=32)
    entry = models.ForeignKey(WatchEntry, on_delete=models.CASCADE, related_name="row_hits")
    at = models.DateTimeField(_("命中时间"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "table", "key", "column", "entry"], name="risk_rowhit_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.table}:{self.key}:{self.column}"


class ScanState(models.Model):
    """The daily risk scan of `xiaobao worker`: the day it last ran, claimed by a conditional update so
    that of two workers only one scans."""

    name = models.CharField(max_length=32, unique=True)
    last_date = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_date}"
