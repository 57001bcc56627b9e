"""金融教育 (financial education): the year's plan, the activities that carry it out, and their evidence.

An activity is one offline event, video, original article (以案说险), published piece or media
report, with the people it reached. Every figure of the statistics is a sum over these rows, so a
reported "18 场线下活动，触达约 9500 人" can always be traced to the 18 activities behind it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    OFFLINE = "线下", _("线下活动")  # offline event: reach is the people present
    VIDEO = "视频", _("视频")  # a video made or published
    ARTICLE = "原创文章", _("原创文章")  # original article, e.g. 以案说险 (explaining risk through a case)
    PIECE = "宣传稿件", _("宣传稿件")  # a published piece (WeChat account, website…)
    MEDIA = "媒体报道", _("媒体报道")  # a report about the work in outside media


# Everything but the offline events is counted as online reach (the seed's 线上触及).
ONLINE_MODES = [Mode.VIDEO, Mode.ARTICLE, Mode.PIECE, Mode.MEDIA]


class Audience(models.TextChoices):
    ELDERLY = "老年人", _("老年人")
    YOUTH = "青少年", _("青少年")
    NEW_CITIZENS = "新市民", _("新市民")  # people who moved to the city for work
    RURAL = "农村居民", _("农村居民")
    OTHER = "其他", _("其他")


# The regulator's recurring campaigns; a campaign is free text, these are offered as suggestions.
KNOWN_CAMPAIGNS = ["3·15", "金融教育宣传周", "守住钱袋子", "金融知识万里行"]


class Activity(models.Model):
    activity_no = models.CharField(_("活动编号"), max_length=64, unique=True)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="education_activities"
    )
    date = models.DateField(_("活动日期"), db_index=True)
    mode = models.CharField(_("形式"), max_length=8, choices=Mode.choices, db_index=True)
    campaign = models.CharField(_("所属活动"), max_length=50, blank=True, db_index=True)
    title = models.CharField(_("主题"), max_length=200)
    location = models.CharField(_("地点"), max_length=200, blank=True)
    audience = models.CharField(_("受众"), max_length=8, choices=Audience.choices, blank=True)
    reach = models.PositiveIntegerField(_("触达人数"))
    cost = models.DecimalField(_("费用 (元)"), max_digits=12, decimal_places=2, null=True, blank=True)
    extra = models.JSONField(_("其他字段"), default=dict, blank=True)
    source_batch = models.ForeignKey(
        "imports.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("金融教育活动")
        verbose_name_plural = _("金融教育活动")
        indexes = [models.Index(fields=["unit", "date"], name="edu_activity_unit_date")]
        constraints = [
            models.CheckConstraint(condition=models.Q(reach__gte=0), name="edu_activity_reach_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_no} {self.title}"


class EvidenceKind(models.TextChoices):
    FILE = "file", _("文件")  # a photo, sign-in sheet or PDF, stored by hash
    LINK = "link", _("链接")  # the published article, video or report online


class ActivityEvidence(models.Model):
    """活动佐证: a photo or file (type sniffed, stored by hash, served only as an attachment) or a link."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=8, choices=EvidenceKind.choices)
    file = models.FileField(_("文件"), upload_to="education/%Y/%m/", blank=True)
    url = models.URLField(_("链接"), max_length=500, blank=True)
    original_name = models.CharField(_("名称"), max_length=255)
    sha256 = models.CharField(max_length=64, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class Plan(models.Model):
    """年度金融教育计划 of one unit; it covers the unit and every unit below it."""

    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="education_plans"
    )
    year = models.PositiveIntegerField(_("年度"))
    title = models.CharField(_("计划名称"), max_length=200)
    notes = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "unit__path"]
        verbose_name = _("金融教育计划")
        verbose_name_plural = _("金融教育计划")
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="edu_plan_once_per_unit_year")]

    def __str__(self) -> str:
        return self.title


class Dimension(models.TextChoices):
    MODE = "mode", _("形式")  # target per mode (线下 18 场…)
    CAMPAIGN = "campaign", _("所属活动")  # target per campaign (3·15…)
    AUDIENCE = "audience", _("受众")  # target per audience (老年人…)


class PlanTarget(models.Model):
    """One target of a plan: how many activities and how many people, for one mode, campaign or audience."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    dimension = models.CharField(_("维度"), max_length=8, choices=Dimension.choices)
    key = models.CharField(_("项目"), max_length=50)
    count = models.PositiveIntegerField(_("目标次数"), null=True, blank=True)
    reach = models.PositiveIntegerField(_("目标触达人数"), null=True, blank=True)

    class Meta:
        ordering = ["dimension", "key"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "dimension", "key"], name="edu_target_once_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.dimension}:{self.key}"


class ReachLimit(models.Model):
    """The population of a unit's region: a single activity reaching more people than that is absurd
    (a typo or a shifted column) and is refused. Units without a row use their nearest ancestor's."""

    unit = models.OneToOneField(
        "org.Unit", verbose_name=_("机构"), on_delete=models.CASCADE, related_name="education_reach_limit"
    )
    population = models.PositiveIntegerField(_("辖区人口 (人)"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["unit__path"]
        verbose_name = _("触达人数上限")
        verbose_name_plural = _("触达人数上限")

    def __str__(self) -> str:
        return f"{self.unit_id}≤{self.population}"
