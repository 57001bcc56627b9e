"""消保审查 (consumer-protection review, 《银行保险机构消费者权益保护管理办法》Art. 9).

New products and services, marketing and publicity material, contract terms, sales scripts and
internal rules are reviewed before use. A request carries the file under review; the reviewer goes
through the checklist of its type (a snapshot taken at submission, so later edits of the checklist
do not rewrite past reviews) and writes an opinion where an item is not met; the submitter answers
each opinion with 采纳，部分采纳 or 不采纳 (with a reason); the reviewer signs off. The sign-off fixes
the SHA-256 of the reviewed file: a changed file is a new review.

State changes are rows (ReviewEvent), so turnaround and adoption figures trace back to them.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReviewType(models.TextChoices):
    PRODUCT = "新产品", _("新产品或服务")  # new products and services (Art. 9: mandatory)
    MARKETING = "营销宣传", _("营销宣传材料")  # marketing and publicity material
    CONTRACT = "合同条款", _("合同条款")  # contract terms, incl. material changes to consumer-relevant terms
    SCRIPT = "销售话术", _("销售话术")  # sales scripts
    RULES = "内部制度", _("内部制度")  # internal rules that touch consumers


class ReviewStatus(models.TextChoices):
    SUBMITTED = "待审查", _("待审查")  # submitted: waits for the reviewer's checklist
    IN_REVIEW = "审查中", _("审查中")  # the reviewer has recorded items; opinions wait for responses
    SIGNED_OFF = "已签批", _("已签批")  # signed off: the reviewed file's hash is fixed
    WITHDRAWN = "已撤回", _("已撤回")  # withdrawn by the submitter before sign-off


OPEN_STATUSES = [ReviewStatus.SUBMITTED, ReviewStatus.IN_REVIEW]

# 允许的状态变更: action → (from statuses, to status, label). Views never set status; services do.
TRANSITIONS = {
    "review": (OPEN_STATUSES, ReviewStatus.IN_REVIEW, _("记录审查意见")),
    "sign_off": (OPEN_STATUSES, ReviewStatus.SIGNED_OFF, _("签批")),
    "withdraw": (OPEN_STATUSES, ReviewStatus.WITHDRAWN, _("撤回")),
}

EVENT_LABELS = {
    "submit": _("提交审查"),
    "upload": _("上传新版本"),
    "respond": _("回复意见"),
    "rereview": _("文件变更，提交重新审查"),
}


class ItemResult(models.TextChoices):
    PASS = "符合", _("符合")  # the item is met: nothing to answer
    OPINION = "有意见", _("有意见")  # the reviewer's opinion must be answered before sign-off
    NOT_APPLICABLE = "不适用", _("不适用")


class Adoption(models.TextChoices):
    ADOPTED = "采纳", _("采纳")  # the opinion was taken in full
    PARTLY = "部分采纳", _("部分采纳")  # taken in part
    REJECTED = "不采纳", _("不采纳")  # not taken: a reason is required


class Outcome(models.TextChoices):
    APPROVED = "通过", _("审查通过")  # may be used as reviewed
    REJECTED = "不通过", _("审查不通过")  # must not be used


class ChecklistItem(models.Model):
    """审查要点: the checklist of one review type, managed by the administrator."""

    review_type = models.CharField(_("审查类型"), max_length=8, choices=ReviewType.choices)
    code = models.CharField(_("代码"), max_length=32)
    title = models.CharField(_("审查要点"), max_length=200)
    basis = models.CharField(_("依据"), max_length=300, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["review_type", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["review_type", "code"], name="review_checklist_code_per_type")
        ]

    def __str__(self) -> str:
        return self.title


class ReviewRequest(models.Model):
    review_no = models.CharField(_("审查编号"), max_length=32, unique=True)
    title = models.CharField(_("审查事项"), max_length=200)
    review_type = models.CharField(_("审查类型"), max_length=8, choices=ReviewType.choices, db_index=True)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("提交机构"), on_delete=models.PROTECT, related_name="review_requests"
    )
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.SUBMITTED, db_index=True
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审查人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), db_index=True)
    signed_off_at = models.DateTimeField(_("签批时间"), null=True, blank=True)
    outcome = models.CharField(_("审查结论"), max_length=8, choices=Outcome.choices, blank=True)
    sign_off_note = models.TextField(_("签批意见"), blank=True)
    # The SHA-256 of the file the sign-off covers; a file with any other hash has not been reviewed.
    reviewed_sha256 = models.CharField(_("已审文件哈希"), max_length=64, blank=True, db_index=True)
    previous = models.ForeignKey(
        "self",
        verbose_name=_("前一轮审查"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rereviews",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("消保审查")
        verbose_name_plural = _("消保审查")
        indexes = [models.Index(fields=["unit", "status"], name="review_unit_status")]

    def __str__(self) -> str:
        return f"{self.review_no} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReviewDocument(models.Model):
    """A version of the file under review: stored by hash, type sniffed, served only as an attachment."""

    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="documents")
    version = models.PositiveSmallIntegerField(_("版本"))
    file = models.FileField(_("文件"), upload_to="reviews/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["version"]
        constraints = [models.UniqueConstraint(fields=["request", "version"], name="review_document_version")]

    def __str__(self) -> str:
        return f"{self.original_name} v{self.version}"


class ReviewItem(models.Model):
    """One checklist item of one request: the reviewer's result and opinion, the submitter's response."""

    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="items")
    checklist_item = models.ForeignKey(
        ChecklistItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    code = models.CharField(_("代码"), max_length=32)
    title = models.CharField(_("审查要点"), max_length=200)
    basis = models.CharField(_("依据"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    result = models.CharField(_("审查结果"), max_length=8, choices=ItemResult.choices, blank=True)
    opinion = models.TextField(_("审查意见"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审查时间"), null=True, blank=True)
    adoption = models.CharField(_("采纳情况"), max_length=8, choices=Adoption.choices, blank=True)
    response = models.TextField(_("回复说明"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responded_at = models.DateTimeField(_("回复时间"), null=True, blank=True)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def awaits_response(self) -> bool:
        return self.result == ItemResult.OPINION and not self.adoption


class ReviewEvent(models.Model):
    """One row per change of a request: the timeline, and the source of turnaround figures."""

    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=8, blank=True)
    to_status = models.CharField(_("新状态"), max_length=8, blank=True)
    reason = models.TextField(_("说明"), blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}:{self.action}"

    @property
    def label(self) -> str:
        if self.action in TRANSITIONS:
            return str(TRANSITIONS[self.action][2])
        return str(EVENT_LABELS.get(self.action, self.action))
