"""指标: the KPI engine's settings, the service-quality index (服务质量指数) and frozen snapshots.

The figures themselves are not stored row by row: they are Ibis expressions over the Parquet store
and the cases (xiaobao.kpi.expressions). What is stored is what an administrator chooses (the
denominator variants, the weights and targets), what xiaobao cannot derive (hand-entered indicator
values) and the snapshots that freeze a period's figures with the data versions they came from.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PremiumBasis(models.TextChoices):
    RECEIVED = "received", _("当期实收保费 (全部)")  # default: every premium received in the period
    FIRST_YEAR = "first_year", _("当期新单保费 (首年保费)")  # policy_year = 1 only


class PolicyBasis(models.TextChoices):
    IN_FORCE_END = "in_force_end", _("期末有效保单/被保险人")  # default: in force on the evaluation date
    NEW_BUSINESS = "new_business", _("当期新单保单/被保险人")  # effective in the period


class KpiSettings(models.Model):
    """One row (pk=1): the administrator's choice of denominators and the company's claim target."""

    premium_basis = models.CharField(
        _("亿元保费投诉量的保费口径"),
        max_length=16,
        choices=PremiumBasis.choices,
        default=PremiumBasis.RECEIVED,
    )
    policy_basis = models.CharField(
        _("万张保单投诉量的保单口径"),
        max_length=16,
        choices=PolicyBasis.choices,
        default=PolicyBasis.IN_FORCE_END,
    )
    insured_basis = models.CharField(
        _("万人次投诉量的人次口径"),
        max_length=16,
        choices=PolicyBasis.choices,
        default=PolicyBasis.IN_FORCE_END,
    )
    # The company's own claim target, counted from complete documents to payment (calendar days).
    # 30 is only the statutory outer limit for a decision (保险法 Art. 23); set the company's figure.
    claims_target_days = models.PositiveSmallIntegerField(_("理赔时效目标 (自然日)"), default=30)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("指标口径设置")
        verbose_name_plural = _("指标口径设置")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "KpiSettings":
        return cls.objects.get_or_create(pk=1)[0]

    def parameters(self) -> dict:
        return {
            "premium_basis": self.premium_basis,
            "policy_basis": self.policy_basis,
            "insured_basis": self.insured_basis,
            "claims_target_days": self.claims_target_days,
        }


class Direction(models.TextChoices):
    HIGHER = "higher", _("越高越好")  # scored 100 × value ÷ target, at most 100
    LOWER = "lower", _("越低越好")  # scored 100 × target ÷ value, at most 100


class QualityIndicator(models.Model):
    """One indicator of the 服务质量指数 with its weight and target. `source` names the KPI that
    supplies its value; an empty source means xiaobao cannot derive it and it is entered by hand."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("指标"), max_length=60)
    group = models.CharField(_("评价项目"), max_length=60)
    weight = models.DecimalField(_("权重"), max_digits=5, decimal_places=2)
    target = models.DecimalField(_("目标值"), max_digits=14, decimal_places=4)
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    source = models.CharField(_("数据来源指标"), max_length=64, blank=True)
    value_unit = models.CharField(_("单位"), max_length=16, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("服务质量指标")
        verbose_name_plural = _("服务质量指标")

    def __str__(self) -> str:
        return self.name

    @property
    def manual(self) -> bool:
        return not self.source


class QualityValue(models.Model):
    """手工录入: the value of an indicator xiaobao cannot derive, for one unit and one period
    (2024, 2024Q3 or 2024-07). A month without its own value uses its quarter's, then its year's."""

    indicator = models.ForeignKey(QualityIndicator, on_delete=models.CASCADE, related_name="values")
    unit = models.ForeignKey("org.Unit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("期间"), max_length=8, db_index=True)
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=4)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period", "indicator__order"]
        verbose_name = _("服务质量指标录入值")
        verbose_name_plural = _("服务质量指标录入值")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "unit", "period"], name="quality_value_once")
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}@{self.unit_id}:{self.period}"


class KpiSnapshot(models.Model):
    """冻结: a period's figures as computed, with everything needed to compute them again: the store
    version of every table, the import batches behind those rows, the case cut-off and a hash of the
    case data used, and the parameters (denominator variants, weights, targets, hand-entered values)."""

    period = models.CharField(_("期间"), max_length=24, db_index=True)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by = models.CharField(_("分组"), max_length=16, blank=True)
    backend = models.CharField(_("计算引擎"), max_length=16)
    computed_at = models.DateTimeField(_("计算时间"), db_index=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    results = models.JSONField(_("指标结果"))
    store_versions = models.JSONField(_("数据版本"))  # {"policies": "v000003", …}; null = empty table
    batch_ids = models.JSONField(_("导入批次"), default=list)
    cases_cutoff = models.DateTimeField(_("工单截止时间"))
    cases_max_updated_at = models.DateTimeField(_("工单最后更新时间"), null=True, blank=True)
    cases_count = models.PositiveIntegerField(_("工单行数"), default=0)
    cases_sha256 = models.CharField(_("工单数据哈希"), max_length=64)
    parameters = models.JSONField(_("计算参数"), default=dict)
    recomputed_from = models.ForeignKey(
        "self",
        verbose_name=_("重算自"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recomputations",
    )

    class Meta:
        ordering = ["-computed_at", "-pk"]
        verbose_name = _("指标快照")
        verbose_name_plural = _("指标快照")

    def __str__(self) -> str:
        return f"{self.period} {self.unit.code if self.unit else '*'} #{self.pk}"
