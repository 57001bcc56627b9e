"""消保自评 (self-assessment) against 《金融机构消费者权益保护监管评价办法》(NFRA, 2025).

The indicator catalogue is versioned by year: each year has its own catalogue (element weights and
indicators), which the administrator edits until the first self-assessment of that year is
submitted. A unit's self-assessment scores every indicator with links to its evidence. Where
xiaobao's own records can answer an indicator, the figure is pre-filled from a registered source
(xiaobao.assessment.sources) and kept with its source and definition, so every number can be traced.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Element(models.TextChoices):
    GOVERNANCE = "体制机制", _("体制机制")  # governance, mechanisms, committee, rules, training
    SUITABILITY = "适当性管理", _("适当性管理")  # suitability (三适当)
    MARKETING = "营销行为管理", _("营销行为管理")  # marketing conduct, incl. 消保审查 of materials
    DISPUTES = "纠纷化解", _("纠纷化解")  # complaints and dispute resolution
    EDUCATION = "金融教育", _("金融教育")  # financial education
    SERVICE = "消费者服务", _("消费者服务")  # consumer service
    PRIVACY = "个人信息保护", _("个人信息保护")  # personal information protection


# The 2025 measures' minimum weights (regulations.md §5), in percent of the total score.
MIN_WEIGHTS = {
    Element.GOVERNANCE: Decimal(10),
    Element.SUITABILITY: Decimal(10),
    Element.MARKETING: Decimal(25),
    Element.DISPUTES: Decimal(25),
    Element.EDUCATION: Decimal(10),
    Element.SERVICE: Decimal(5),
    Element.PRIVACY: Decimal(5),
}


class Direction(models.TextChoices):
    HIGHER = "higher", _("越高越好")  # full points at or above the target
    LOWER = "lower", _("越低越好")  # full points at or below the target


class Catalogue(models.Model):
    """One year's indicator catalogue (指标体系)."""

    year = models.PositiveIntegerField(_("年度"), unique=True)
    title = models.CharField(_("名称"), max_length=200)
    notes = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("自评指标体系")
        verbose_name_plural = _("自评指标体系")

    def __str__(self) -> str:
        return self.title


class ElementWeight(models.Model):
    catalogue = models.ForeignKey(Catalogue, on_delete=models.CASCADE, related_name="weights")
    element = models.CharField(_("评价要素"), max_length=8, choices=Element.choices)
    weight = models.DecimalField(_("权重 (%)"), max_digits=5, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "element"], name="assessment_weight_once")
        ]

    def __str__(self) -> str:
        return f"{self.element} {self.weight}%"


class Indicator(models.Model):
    catalogue = models.ForeignKey(Catalogue, on_delete=models.CASCADE, related_name="indicators")
    element = models.CharField(_("评价要素"), max_length=8, choices=Element.choices)
    code = models.CharField(_("代码"), max_length=16)
    name = models.CharField(_("指标"), max_length=200)
    criteria = models.TextField(_("评分标准"), blank=True)
    points = models.DecimalField(_("分值"), max_digits=6, decimal_places=2, default=Decimal(10))
    # The key of a registered pre-fill source (xiaobao.assessment.sources); blank: scored by hand.
    source = models.CharField(_("预填来源"), max_length=64, blank=True)
    target = models.DecimalField(_("目标值"), max_digits=14, decimal_places=4, null=True, blank=True)
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "code"], name="assessment_indicator_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AssessmentStatus(models.TextChoices):
    DRAFT = "进行中", _("进行中")  # being scored; figures may be pre-filled again
    SUBMITTED = "已提交", _("已提交")  # submitted: scores and figures are frozen


class Assessment(models.Model):
    """One unit's self-assessment for one year."""

    catalogue = models.ForeignKey(Catalogue, on_delete=models.PROTECT, related_name="assessments")
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="assessments"
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT
    )
    summary = models.TextField(_("自评总结"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    prefilled_at = models.DateTimeField(_("预填时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)

    class Meta:
        ordering = ["-catalogue__year", "unit__path"]
        verbose_name = _("消保自评")
        verbose_name_plural = _("消保自评")
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "unit"], name="assessment_once_per_unit_year")
        ]

    def __str__(self) -> str:
        return f"{self.catalogue.year} {self.unit_id}"

    @property
    def year(self) -> int:
        return self.catalogue.year

    @property
    def editable(self) -> bool:
        return self.status == AssessmentStatus.DRAFT


class Score(models.Model):
    """The score of one indicator in one self-assessment, with the pre-filled figure behind it."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="scores")
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    comment = models.TextField(_("自评说明"), blank=True)
    # The pre-filled figure as computed: value, display, detail, source, definition, link, note, at.
    figure = models.JSONField(_("预填数据"), default=dict, blank=True)
    # True while the score is the one suggested from the figure; a person's score is never overwritten.
    prefilled = models.BooleanField(_("系统预填"), default=False)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scored_at = models.DateTimeField(_("评分时间"), null=True, blank=True)

    class Meta:
        ordering = ["indicator__order", "indicator__code"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "indicator"], name="assessment_score_once")
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id}:{self.indicator_id}={self.score}"


class EvidenceLink(models.Model):
    """A link to the evidence of a score: a page of xiaobao (/education/?year=2024) or an outside address."""

    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="evidence")
    label = models.CharField(_("说明"), max_length=200)
    url = models.CharField(_("链接"), max_length=500)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return self.label
