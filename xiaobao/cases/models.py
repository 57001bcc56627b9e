"""投诉与工单: complaints and hotline work orders, their clocks, handling and 溯源整改 (root cause and rectification).

State changes are rows (CaseEvent); the clock fields on Case are derived from them by
xiaobao.cases.clocks and kept on the row so the desk can filter a million cases by index.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xiaobao.lib.workdays import WorkCalendar


class CaseKind(models.TextChoices):
    COMPLAINT = "投诉", _("投诉")  # a complaint: the 15-day decision clock applies
    INQUIRY = "咨询", _("咨询")  # inquiry
    REQUEST = "求助", _("求助")  # request for help
    SUGGESTION = "建议", _("建议")  # suggestion
    PRAISE = "表扬", _("表扬")  # praise


class Channel(models.TextChoices):
    HOTLINE = "4008热线", _("4008热线")  # the company's own service hotline
    COUNTER = "柜面", _("柜面")  # walk-in counter
    LETTER = "信函", _("信函")  # letter
    WEB = "官网/APP", _("官网/APP")
    WECHAT = "微信", _("微信")
    REGULATOR = "监管转办", _("监管转办")  # forwarded by the regulator (12378 or letter): two clocks
    ASSOCIATION = "行业协会", _("行业协会")  # insurance association
    MEDIA = "媒体", _("媒体")


class Category(models.TextChoices):
    SALES = "销售纠纷", _("销售纠纷")
    CLAIMS = "理赔纠纷", _("理赔纠纷")
    SURRENDER = "退保纠纷", _("退保纠纷")
    SERVICING = "保全纠纷", _("保全纠纷")
    RENEWAL = "续期纠纷", _("续期纠纷")
    SERVICE = "服务质量", _("服务质量")
    OTHER = "其他", _("其他")


class CaseStatus(models.TextChoices):
    REGISTERED = "登记", _("登记")  # recorded, not yet accepted
    ACCEPTED = "受理", _("受理")  # accepted as a case; the clock runs from receipt
    IN_PROGRESS = "处理中", _("处理中")  # being handled
    PAUSED = "暂停", _("暂停")  # waiting for external appraisal or documents: the clock stops
    DECIDED = "已决定", _("已决定")  # decision made (the 15-day clock is met here)
    NOTIFIED = "已告知", _("已告知")  # complainant told of the decision and the remedies
    CLOSED = "已办结", _("已办结")  # closed; 核查 may still be requested within 30 days
    REVIEW = "核查中", _("核查中")  # re-examined by the upper-level unit on request
    WITHDRAWN = "已撤诉", _("已撤诉")  # withdrawn by the complainant (Art. 15: ends that day)
    MERGED = "已合并", _("已合并")  # merged into another case as a duplicate


OPEN_STATUSES = [
    CaseStatus.REGISTERED,
    CaseStatus.ACCEPTED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.PAUSED,
    CaseStatus.REVIEW,
]
# Statuses in which the decision clock still runs (a paused case is open but its clock is stopped).
UNDECIDED_STATUSES = [CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.REVIEW]


class PauseReason(models.TextChoices):
    APPRAISAL = "外部鉴定", _("外部鉴定/检测/评估")
    DOCUMENTS = "待补充材料", _("待补充材料")


# 允许的状态变更: (action, from statuses, to status, label). Views never set status; services use this.
TRANSITIONS = {
    "accept": ([CaseStatus.REGISTERED], CaseStatus.ACCEPTED, _("受理")),
    "start": ([CaseStatus.ACCEPTED], CaseStatus.IN_PROGRESS, _("开始处理")),
    "pause": ([CaseStatus.IN_PROGRESS, CaseStatus.REVIEW], CaseStatus.PAUSED, _("暂停计时")),
    "resume": ([CaseStatus.PAUSED], CaseStatus.IN_PROGRESS, _("恢复处理")),
    "decide": (
        [CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.REVIEW],
        CaseStatus.DECIDED,
        _("作出决定"),
    ),
    "notify": ([CaseStatus.DECIDED], CaseStatus.NOTIFIED, _("告知客户")),
    "close": ([CaseStatus.NOTIFIED, CaseStatus.DECIDED], CaseStatus.CLOSED, _("办结")),
    "review": ([CaseStatus.CLOSED], CaseStatus.REVIEW, _("申请核查")),
    "withdraw": (OPEN_STATUSES, CaseStatus.WITHDRAWN, _("撤诉")),
    "merge": (OPEN_STATUSES, CaseStatus.MERGED, _("合并为重复件")),
}

EVENT_LABELS = {
    "create": _("登记"),
    "assign": _("分配处理人"),
    "extend": _("延期"),
    "plan": _("制定处理计划"),
    "plan_done": _("完成计划步骤"),
    "contact": _("联系客户"),
    "root_cause": _("登记问题根因"),
    "callback": _("满意度回访"),
    "import": _("导入"),
}


class Case(models.Model):
    case_no = models.CharField(_("工单号"), max_length=64, unique=True)
    # Indexes (see Meta): every index is paid on each insert, so none repeats the head of another,
    # and a foreign key that is empty on most rows is indexed only where it is set.
    kind = models.CharField(_("工单类型"), max_length=8, choices=CaseKind.choices)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices, db_index=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=CaseStatus.choices, default=CaseStatus.REGISTERED
    )
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("责任机构"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    policy_no = models.CharField(_("保单号"), max_length=64, blank=True, db_index=True)
    category = models.CharField(
        _("投诉事由"), max_length=8, choices=Category.choices, blank=True, db_index=True
    )
    urgent = models.BooleanField(_("紧急"), default=False)
    claims_related = models.BooleanField(_("理赔相关"), default=False)
    description = models.TextField(_("诉求内容"))
    received_at = models.DateTimeField(_("受理时间"), db_index=True)
    regulator_ref = models.CharField(_("监管转办编号"), max_length=64, blank=True)
    regulator_complex = models.BooleanField(_("监管复杂件"), default=False)

    # Clocks, derived by xiaobao.cases.clocks from the facts and events above and below.
    due_date = models.DateField(_("办理期限"), null=True, blank=True)
    deadline_rule = models.CharField(_("期限规则"), max_length=200, blank=True)
    deadline_provisional = models.BooleanField(_("期限为暂定"), default=False)
    response_due_date = models.DateField(_("响应期限"), null=True, blank=True)
    responded_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    extension_level = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    paused_days = models.PositiveIntegerField(_("暂停天数"), default=0)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    notified_at = models.DateTimeField(_("告知时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    on_time = models.BooleanField(_("按时办理"), null=True, blank=True)

    # Decision (决定) and remedy.
    decision = models.TextField(_("处理决定"), blank=True)
    decision_amount = models.DecimalField(
        _("决定金额"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    remedy = models.CharField(_("补救措施"), max_length=200, blank=True)
    outcome = models.TextField(_("处理结果"), blank=True)
    satisfaction = models.CharField(_("回访满意度"), max_length=8, blank=True)

    # 溯源整改
    root_cause = models.ForeignKey(
        "cases.RootCause",
        verbose_name=_("问题根因"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    root_unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    root_agent_code = models.CharField(_("责任业务员"), max_length=32, blank=True)
    root_product_code = models.CharField(_("涉及产品"), max_length=32, blank=True)

    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        db_index=False,
    )
    review_unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("核查机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    review_requested_at = models.DateTimeField(_("核查申请时间"), null=True, blank=True)
    extra = models.JSONField(_("其他字段"), default=dict, blank=True)
    source_batch = models.ForeignKey(
        "imports.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Optimistic locking: every write checks and bumps it, so a concurrent edit is refused, not lost.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        indexes = [
            models.Index(fields=["status", "due_date"], name="case_status_due"),
            models.Index(fields=["unit", "status"], name="case_unit_status"),
            models.Index(fields=["handler", "status"], name="case_handler_status"),
            models.Index(fields=["kind", "received_at"], name="case_kind_received"),
            *(
                models.Index(
                    fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"case_{name}_set"
                )
                for name in (
                    "customer",
                    "root_cause",
                    "root_unit",
                    "merged_into",
                    "review_unit",
                    "source_batch",
                )
            ),
        ]

    def __str__(self) -> str:
        return self.case_no

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseEvent(models.Model):
    """One row per change: the timeline, the audit of handling and the source of every clock."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=8, blank=True)
    to_status = models.CharField(_("新状态"), max_length=8, blank=True)
    reason = models.TextField(_("原因"), blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="caseevent_actor_set")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.action}"

    @property
    def label(self) -> str:
        if self.action in TRANSITIONS:
            return str(TRANSITIONS[self.action][2])
        return str(EVENT_LABELS.get(self.action, self.action))


class Extension(models.Model):
    """延期: level 1 extends the decision deadline to 30 days, level 2 by 30 more (60 at most)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    level = models.PositiveSmallIntegerField(_("延期级别"))
    reason = models.TextField(_("延期原因"))
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("审批时间"))
    customer_informed = models.BooleanField(_("已告知客户"), default=False)

    class Meta:
        ordering = ["level"]
        constraints = [models.UniqueConstraint(fields=["case", "level"], name="extension_once_per_level")]

    def __str__(self) -> str:
        return f"{self.case_id}+{self.level}"


class Pause(models.Model):
    """暂停: time for external appraisal (or awaited documents) does not count against the clock."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    reason_kind = models.CharField(_("暂停原因"), max_length=8, choices=PauseReason.choices)
    note = models.TextField(_("说明"), blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.started_at:%Y-%m-%d}"


class PlanStep(models.Model):
    """一单一策: the handling plan of one case, as dated steps."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plan_steps")
    due_date = models.DateField(_("计划日期"))
    action = models.CharField(_("措施"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.action


class ContactMethod(models.TextChoices):
    CALL = "电话", _("电话")
    VISIT = "上门", _("上门拜访")
    RECEPTION = "接访", _("来访接待")
    LETTER = "信函", _("信函")
    SMS = "短信", _("短信")
    WECHAT = "微信", _("微信")


class Contact(models.Model):
    """联系记录: every call, visit and letter with its outcome."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    at = models.DateTimeField(_("联系时间"))
    method = models.CharField(_("方式"), max_length=8, choices=ContactMethod.choices)
    outcome = models.CharField(_("结果"), max_length=300)
    note = models.TextField(_("备注"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.outcome}"


class RootCause(models.Model):
    """问题根因 taxonomy, managed by the administrator."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class RectificationStatus(models.TextChoices):
    OPEN = "整改中", _("整改中")  # owner is working on it
    SUBMITTED = "待验证", _("待验证")  # owner submitted evidence; the officer must verify
    VERIFIED = "已验证", _("已验证")  # officer confirmed the fix
    INEFFECTIVE = (
        "整改无效",
        _("整改无效"),
    )  # a later complaint with the same cause recurred after verification


class Rectification(models.Model):
    """整改: one item can cover many cases, for a systemic issue."""

    title = models.CharField(_("整改事项"), max_length=200)
    root_cause = models.ForeignKey(
        RootCause, verbose_name=_("问题根因"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+"
    )
    product_code = models.CharField(_("涉及产品"), max_length=32, blank=True, db_index=True)
    agent_code = models.CharField(_("涉及业务员"), max_length=32, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("整改负责人"), on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(_("整改期限"))
    measures = models.TextField(_("整改措施"), blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验证人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("验证时间"), null=True, blank=True)
    verification_note = models.TextField(_("验证意见"), blank=True)
    watch_days = models.PositiveIntegerField(_("复发观察期 (天)"), default=180)
    recurred_case = models.ForeignKey(
        Case, verbose_name=_("复发工单"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cases = models.ManyToManyField(
        Case, verbose_name=_("关联工单"), related_name="rectifications", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Evidence(models.Model):
    """整改佐证: an uploaded file, stored by hash and never served as HTML."""

    rectification = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), upload_to="evidence/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.original_name


class CalendarDay(models.Model):
    """An administrator's correction to the official calendar (e.g. a newly announced 调休)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    note = models.CharField(_("说明"), max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.is_workday else '休'}"


class CalendarYear(models.Model):
    """A year whose full holiday schedule an administrator has entered: its deadlines are no longer provisional."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.year)


def work_calendar() -> WorkCalendar:
    return WorkCalendar(
        overrides=dict(CalendarDay.objects.values_list("date", "is_workday")),
        confirmed_years=frozenset(CalendarYear.objects.values_list("year", flat=True)),
    )


class WorkOrderTarget(models.Model):
    """Company targets for non-complaint work orders, in working days, per kind and (optionally) channel."""

    kind = models.CharField(_("工单类型"), max_length=8, choices=CaseKind.choices)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices, blank=True)
    response_workdays = models.PositiveSmallIntegerField(_("响应时限 (工作日)"), default=1)
    resolution_workdays = models.PositiveSmallIntegerField(_("办结时限 (工作日)"), default=5)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "channel"], name="target_per_kind_channel")]

    def __str__(self) -> str:
        return f"{self.kind}/{self.channel or '*'}"


class ReminderThreshold(models.TextChoices):
    DUE_SOON = "due_soon", _("即将到期")
    OVERDUE = "overdue", _("已超期")


class Reminder(models.Model):
    """Outbox of reminders. The unique constraint makes 'at most one per case, threshold and
    deadline' a database fact, so two workers can never send the same reminder twice."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reminders")
    threshold = models.CharField(max_length=16, choices=ReminderThreshold.choices)
    due_date = models.DateField()
    status = models.CharField(max_length=12, default="pending")  # pending → sending → sent | failed
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "threshold", "due_date"], name="reminder_once_per_threshold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.threshold}"


class Notification(models.Model):
    """In-app notification list of a user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message
