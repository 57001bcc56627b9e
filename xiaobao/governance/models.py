"""消保治理 (consumer-protection governance): how the branch runs the work under 一把手负责制.

- Meeting: the monthly 消保工作事务委员会 (committee) with agenda, attendees, minutes and its
  Resolutions (决议). Each resolution becomes ActionItems (督办事项) with an owner, a due date,
  evidence and a status; the worker reminds owners through ActionReminder (an outbox).
- ExecutiveTalk: a 高管讲消保 session given by a senior manager.
- Plan: the year's 消保工作计划 and the other plans (金融教育计划，培训计划，应急预案 …), each approved
  or returned by the unit head; PlanEvent rows record who decided, when and with what opinion.
- Rule and RuleVersion: the versioned library of 制度; superseded versions are kept.
- Drill: an 应急演练 with its scenario, participants, findings and follow-up ActionItems.
- QualityIssue: a 业务品质 problem found in hotline work orders, the complaint ledger or reviews,
  tracked to closure; Bulletin (通报) lists issues and goes to units, which acknowledge it.

State changes are rows (ActionEvent, PlanEvent, QualityEvent), written by the services only.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# --- shared -----------------------------------------------------------------------------------------


class Attachment(models.Model):
    """An uploaded file, stored under its SHA-256, typed by sniffing and never served as a page."""

    file = models.FileField(_("文件"), upload_to="governance/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


EVENT_LABELS = {
    "create": _("创建"),
    "evidence": _("上传佐证材料"),
    "file": _("上传文件"),
    "close": _("办结"),
    "reopen": _("重新打开"),
    "cancel": _("撤销"),
    "submit": _("提交审批"),
    "approve": _("批准"),
    "return": _("退回"),
}


class Event(models.Model):
    """One row per change of a governance object: actor, from → to, reason and details."""

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=8, blank=True)
    to_status = models.CharField(_("新状态"), max_length=8, blank=True)
    reason = models.TextField(_("说明"), blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.action

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.action, self.action))


# --- committee (消保工作事务委员会) ----------------------------------------------------------------


class MeetingStatus(models.TextChoices):
    PLANNED = "计划召开", _("计划召开")  # agenda set, not yet held
    HELD = "已召开", _("已召开")  # held: minutes recorded; resolutions may be added


class Meeting(models.Model):
    """A meeting of the unit's 消保工作事务委员会, monthly and chaired by the unit head."""

    unit = models.ForeignKey("org.Unit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("会议名称"), max_length=200)
    held_on = models.DateField(_("会议日期"), db_index=True)
    place = models.CharField(_("地点"), max_length=100, blank=True)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("主持人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    agenda = models.TextField(_("会议议程"))
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("参会人员"), blank=True, related_name="+"
    )
    other_attendees = models.CharField(_("其他参会/列席人员"), max_length=300, blank=True)
    minutes = models.TextField(_("会议纪要"), blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("消保委员会会议")
        verbose_name_plural = _("消保委员会会议")
        indexes = [models.Index(fields=["unit", "held_on"], name="meeting_unit_held")]

    def __str__(self) -> str:
        return self.title


class Resolution(models.Model):
    """决议: what the committee decided; carried out through its action items."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="resolutions")
    number = models.PositiveSmallIntegerField(_("序号"))
    text = models.TextField(_("决议内容"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "number"]
        constraints = [models.UniqueConstraint(fields=["meeting", "number"], name="resolution_number")]

    def __str__(self) -> str:
        return f"{self.meeting}·{self.number}"


class ActionStatus(models.TextChoices):
    OPEN = "进行中", _("进行中")  # the owner is carrying it out; reminders run
    DONE = "已办结", _("已办结")  # closed with evidence
    CANCELLED = "已撤销", _("已撤销")  # withdrawn by the committee or the drill's organiser


# 允许的状态变更: action → (from statuses, to status, label). Services check it; views never set status.
ACTION_TRANSITIONS = {
    "close": ([ActionStatus.OPEN], ActionStatus.DONE, _("办结")),
    "reopen": ([ActionStatus.DONE], ActionStatus.OPEN, _("重新打开")),
    "cancel": ([ActionStatus.OPEN], ActionStatus.CANCELLED, _("撤销")),
}


class ActionItem(models.Model):
    """督办事项: one task that carries out a committee resolution or a drill's finding."""

    resolution = models.ForeignKey(
        Resolution,
        verbose_name=_("决议"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="actions",
    )
    drill = models.ForeignKey(
        "governance.Drill",
        verbose_name=_("应急演练"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="actions",
    )
    title = models.CharField(_("事项"), max_length=300)
    # The owner's unit when the item was given: it decides who sees the item (scope).
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("责任机构"), on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(_("完成期限"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    closing_note = models.TextField(_("办结说明"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办结人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("督办事项")
        verbose_name_plural = _("督办事项")
        indexes = [
            models.Index(fields=["status", "due_date"], name="action_status_due"),
            models.Index(fields=["owner", "status"], name="action_owner_status"),
        ]
        constraints = [
            # Exactly one source: a committee resolution or an emergency drill.
            models.CheckConstraint(
                condition=Q(resolution__isnull=False, drill__isnull=True)
                | Q(resolution__isnull=True, drill__isnull=False),
                name="action_one_source",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status == ActionStatus.OPEN


class ActionEvent(Event):
    item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="events")

    class Meta(Event.Meta):
        pass


class ActionEvidence(Attachment):
    """佐证材料 of an action item: a closure needs at least one."""

    item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="evidence")

    class Meta:
        ordering = ["uploaded_at", "pk"]


class ReminderThreshold(models.TextChoices):
    DUE_SOON = "due_soon", _("即将到期")  # due within the configured working days
    OVERDUE = "overdue", _("已超期")  # past the due date and still open


class ActionReminder(models.Model):
    """Outbox of action-item reminders. The unique constraint makes 'at most one per item, threshold
    and due date' a database fact, so two workers never send the same reminder twice."""

    item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="reminders")
    threshold = models.CharField(max_length=16, choices=ReminderThreshold.choices)
    due_date = models.DateField()
    status = models.CharField(
        max_length=12, default="pending"
    )  # pending → sending → sent | failed | cancelled
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "threshold", "due_date"], name="action_reminder_once_per_threshold"
            )
        ]
        indexes = [models.Index(fields=["status", "id"], name="action_reminder_status")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.threshold}"


# --- 高管讲消保 ----------------------------------------------------------------------------------------


class ExecutiveTalk(models.Model):
    """高管讲消保: a senior manager speaks to staff about consumer protection."""

    unit = models.ForeignKey("org.Unit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("日期"), db_index=True)
    speaker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("主讲人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    speaker_name = models.CharField(_("主讲人姓名"), max_length=50)
    speaker_title = models.CharField(_("主讲人职务"), max_length=50, blank=True)
    topic = models.CharField(_("主题"), max_length=200)
    audience = models.CharField(_("参加对象"), max_length=200, blank=True)
    participants = models.PositiveIntegerField(_("参加人数"), default=0)
    summary = models.TextField(_("内容摘要"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("高管讲消保")
        verbose_name_plural = _("高管讲消保")

    def __str__(self) -> str:
        return self.topic


# --- plans (消保计划) --------------------------------------------------------------------------------


class PlanKind(models.TextChoices):
    WORK = "年度消保工作计划", _("年度消保工作计划")  # the year's consumer-protection work plan
    EDUCATION = "金融教育计划", _("金融教育计划")  # financial education and publicity plan
    TRAINING = "培训计划", _("培训计划")  # staff training plan
    EMERGENCY = "应急预案", _("应急预案")  # emergency response plan
    REVIEW = "消保审查工作计划", _("消保审查工作计划")  # consumer-protection review plan
    AUDIT = "内部审计计划", _("消保内部审计计划")  # internal audit of consumer protection
    OTHER = "其他", _("其他方案")


class PlanStatus(models.TextChoices):
    DRAFT = "草稿", _("草稿")  # being written; may be edited
    SUBMITTED = "待审批", _("待审批")  # submitted to the unit head
    APPROVED = "已批准", _("已批准")  # approved by the unit head (审议通过)
    RETURNED = "已退回", _("已退回")  # returned with an opinion; may be edited and submitted again


PLAN_TRANSITIONS = {
    "submit": ([PlanStatus.DRAFT, PlanStatus.RETURNED], PlanStatus.SUBMITTED, _("提交审批")),
    "approve": ([PlanStatus.SUBMITTED], PlanStatus.APPROVED, _("批准")),
    "return": ([PlanStatus.SUBMITTED], PlanStatus.RETURNED, _("退回")),
}
PLAN_EDITABLE = (PlanStatus.DRAFT, PlanStatus.RETURNED)


class Plan(models.Model):
    """A plan of the year; the unit head reviews and approves it (亲自审议)."""

    unit = models.ForeignKey("org.Unit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    kind = models.CharField(_("计划类型"), max_length=16, choices=PlanKind.choices)
    title = models.CharField(_("名称"), max_length=200)
    content = models.TextField(_("主要内容"), blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    opinion = models.TextField(_("审批意见"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "kind", "pk"]
        verbose_name = _("消保计划")
        verbose_name_plural = _("消保计划")

    def __str__(self) -> str:
        return self.title


class PlanEvent(Event):
    """Submission and the unit head's decision, with the opinion: the approval record."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="events")

    class Meta(Event.Meta):
        pass


class PlanFile(Attachment):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="files")

    class Meta:
        ordering = ["uploaded_at", "pk"]


# --- rules library (制度) ----------------------------------------------------------------------------


class RuleCategory(models.TextChoices):
    MECHANISM = "体制机制", _("体制机制")  # committee, 一把手负责制, responsibilities
    REVIEW = "消保审查", _("消保审查")
    COMPLAINT = "投诉处理", _("投诉处理")
    DISCLOSURE = "信息披露", _("信息披露")
    SUITABILITY = "适当性管理", _("适当性管理")
    MARKETING = "营销宣传", _("营销宣传管理")
    PRIVACY = "个人信息保护", _("个人信息保护")
    EDUCATION = "教育宣传", _("教育宣传")
    TRAINING = "内部培训", _("内部培训")
    ASSESSMENT = "内部考核", _("内部考核")
    AUDIT = "内部审计", _("内部审计")
    EMERGENCY = "应急管理", _("应急管理")
    OTHER = "其他", _("其他")


class RuleStatus(models.TextChoices):
    ACTIVE = "现行有效", _("现行有效")  # in force (its current version applies)
    REPEALED = "已废止", _("已废止")  # repealed; kept with all versions for the record


class Rule(models.Model):
    """制度: a policy of the unit, with its versions (RuleVersion)."""

    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("制定机构"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("文号"), max_length=64, blank=True)
    title = models.CharField(_("制度名称"), max_length=200)
    category = models.CharField(_("类别"), max_length=8, choices=RuleCategory.choices)
    department = models.CharField(_("归口部门"), max_length=100, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=RuleStatus.choices, default=RuleStatus.ACTIVE)
    repealed_on = models.DateField(_("废止日期"), null=True, blank=True)
    repeal_reason = models.CharField(_("废止原因"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["category", "title", "pk"]
        verbose_name = _("制度")
        verbose_name_plural = _("制度")

    def __str__(self) -> str:
        return self.title


class RuleVersion(Attachment):
    """One version of a rule: a file with its hash and the date it takes effect. A later version
    supersedes it from that version's effective date; the superseded file is kept."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("版本"))
    effective_on = models.DateField(_("生效日期"))
    note = models.CharField(_("修订说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["rule", "-number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="rule_version_number")]

    def __str__(self) -> str:
        return f"{self.rule} v{self.number}"


# --- emergency drills (应急演练) ---------------------------------------------------------------------


class DrillScenario(models.TextChoices):
    MASS_COMPLAINT = "群体性投诉", _("群体性投诉/集中退保")
    PUBLIC_OPINION = "舆情事件", _("消保舆情事件")
    SYSTEM = "系统故障", _("信息系统故障/数据泄露")
    CLAIM = "重大理赔", _("重大突发事件理赔")
    PREMISES = "营业场所突发事件", _("营业场所突发事件")
    AGENT_SURRENDER = "代理退保", _("代理退保/退保黑产")
    OTHER = "其他", _("其他")


class DrillStatus(models.TextChoices):
    PLANNED = "计划", _("计划")  # scheduled
    HELD = "已演练", _("已演练")  # held: findings recorded; follow-up actions may be given


class Drill(models.Model):
    """应急演练: a rehearsal of the emergency plan, its findings and follow-up actions."""

    unit = models.ForeignKey("org.Unit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("演练名称"), max_length=200)
    scenario_kind = models.CharField(_("场景类型"), max_length=8, choices=DrillScenario.choices)
    scenario = models.TextField(_("演练场景"))
    held_on = models.DateField(_("演练日期"), db_index=True)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("参演人员"), blank=True, related_name="+"
    )
    other_participants = models.CharField(_("其他参演人员"), max_length=300, blank=True)
    findings = models.TextField(_("发现的问题与评估"), blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=DrillStatus.choices, default=DrillStatus.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("应急演练")
        verbose_name_plural = _("应急演练")

    def __str__(self) -> str:
        return self.title


# --- business quality (业务品质) ---------------------------------------------------------------------


class QualitySource(models.TextChoices):
    HOTLINE = "热线工单", _("热线工单")  # found in a 4008 hotline work order
    COMPLAINT = "投诉台账", _("投诉台账")  # found in the complaint ledger
    REVIEW = "消保审查", _("消保审查")  # found by a consumer-protection review
    INSPECTION = "内部检查", _("内部检查")  # internal inspection or audit
    OTHER = "其他", _("其他")


# Sources whose issue must name the work order or complaint it was found in.
CASE_SOURCES = (QualitySource.HOTLINE, QualitySource.COMPLAINT)


class QualityCategory(models.TextChoices):
    SALES = "销售行为", _("销售行为")
    CLAIMS = "理赔服务", _("理赔服务")
    SERVICING = "保全服务", _("保全服务")
    CALLBACK = "回访质量", _("回访质量")
    DISCLOSURE = "信息披露", _("信息披露")
    PRIVACY = "个人信息", _("个人信息保护")
    SERVICE = "服务质量", _("服务质量")
    OTHER = "其他", _("其他")


class Severity(models.TextChoices):
    MINOR = "一般", _("一般")
    MAJOR = "较重", _("较重")
    SEVERE = "严重", _("严重")


class QualityStatus(models.TextChoices):
    OPEN = "跟踪中", _("跟踪中")  # found; the owner is correcting it
    CLOSED = "已关闭", _("已关闭")  # corrected; closed with the measures taken


QUALITY_TRANSITIONS = {
    "close": ([QualityStatus.OPEN], QualityStatus.CLOSED, _("关闭")),
    "reopen": ([QualityStatus.CLOSED], QualityStatus.OPEN, _("重新打开")),
}


class QualityIssue(models.Model):
    """业务品质问题: tracked from discovery to closure."""

    ref = models.CharField(_("编号"), max_length=32, unique=True)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("责任机构"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("发现来源"), max_length=8, choices=QualitySource.choices)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("关联工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_ref = models.CharField(_("来源编号"), max_length=64, blank=True)
    category = models.CharField(_("问题类型"), max_length=8, choices=QualityCategory.choices)
    severity = models.CharField(_("严重程度"), max_length=4, choices=Severity.choices, default=Severity.MINOR)
    title = models.CharField(_("问题"), max_length=200)
    description = models.TextField(_("问题描述"))
    found_on = models.DateField(_("发现日期"), db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(_("整改期限"))
    status = models.CharField(
        _("状态"), max_length=8, choices=QualityStatus.choices, default=QualityStatus.OPEN
    )
    measures = models.TextField(_("整改措施与结果"), blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-found_on", "-pk"]
        verbose_name = _("业务品质问题")
        verbose_name_plural = _("业务品质问题")
        indexes = [models.Index(fields=["status", "due_date"], name="quality_status_due")]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"


class QualityEvent(Event):
    issue = models.ForeignKey(QualityIssue, on_delete=models.CASCADE, related_name="events")

    class Meta(Event.Meta):
        pass


class BulletinStatus(models.TextChoices):
    DRAFT = "草稿", _("草稿")  # seen by the issuing unit only
    ISSUED = "已印发", _("已印发")  # sent: the recipient units see it and acknowledge it


class Bulletin(models.Model):
    """通报: a notice on business-quality issues sent to units."""

    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("发文机构"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("文号"), max_length=64, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("通报内容"))
    issues = models.ManyToManyField(
        QualityIssue, verbose_name=_("通报问题"), blank=True, related_name="bulletins"
    )
    recipients = models.ManyToManyField(
        "org.Unit", verbose_name=_("主送机构"), through="BulletinReceipt", related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT
    )
    issued_on = models.DateField(_("印发日期"), null=True, blank=True, db_index=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        verbose_name = _("通报")
        verbose_name_plural = _("通报")

    def __str__(self) -> str:
        return self.title


class BulletinReceipt(models.Model):
    """A recipient unit of a bulletin, and its acknowledgement (签收)."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="receipts")
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("主送机构"), on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["unit__path"]
        constraints = [models.UniqueConstraint(fields=["bulletin", "unit"], name="bulletin_receipt_once")]

    def __str__(self) -> str:
        return f"{self.bulletin_id}→{self.unit_id}"
