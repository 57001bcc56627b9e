"""员工培训 (staff training): sessions and who attended them.

The duty (内部培训) is that training covers every post and every employee each year. Staff are the
system's active users with a unit; coverage is computed from Attendance rows by
xiaobao.training.selectors, so each figure can be traced to the attendance behind it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TrainingKind(models.TextChoices):
    POLICY = "监管政策解读", _("监管政策解读")  # regulatory policy briefings
    RULES = "消保制度", _("消保制度学习")  # the company's consumer-protection rules
    COMPLAINTS = "投诉处理技能", _("投诉处理技能")  # complaint-handling skills
    SALES = "销售合规", _("销售行为与适当性")  # sales conduct, suitability (三适当)
    PRIVACY = "个人信息保护", _("个人信息保护")
    EDUCATION = "金融知识", _("金融知识与风险提示")
    CASES = "案例警示", _("案例警示教育")  # lessons from complaints and penalties
    EXECUTIVE = "高管讲消保", _("高管讲消保")  # a senior manager's talk, attended like a course
    OTHER = "其他", _("其他")


class TrainingMode(models.TextChoices):
    ONSITE = "线下", _("线下")
    ONLINE = "线上", _("线上")
    MIXED = "线上线下", _("线上线下结合")


class TrainingSession(models.Model):
    """One training session: topic, kind, trainer, date. `ref` is the number attendance files quote."""

    ref = models.CharField(_("培训编号"), max_length=32, unique=True)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("组织机构"), on_delete=models.PROTECT, related_name="+"
    )
    topic = models.CharField(_("培训主题"), max_length=200)
    kind = models.CharField(_("培训类型"), max_length=8, choices=TrainingKind.choices)
    mode = models.CharField(
        _("培训形式"), max_length=4, choices=TrainingMode.choices, default=TrainingMode.ONSITE
    )
    trainer = models.CharField(_("讲师"), max_length=100)
    held_on = models.DateField(_("培训日期"), db_index=True)
    hours = models.DecimalField(_("学时"), max_digits=4, decimal_places=1, default=2)
    audience = models.CharField(_("培训对象"), max_length=200, blank=True)
    description = models.TextField(_("培训内容"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("培训")
        verbose_name_plural = _("培训")
        indexes = [models.Index(fields=["unit", "held_on"], name="training_unit_held")]

    def __str__(self) -> str:
        return f"{self.ref} {self.topic}"


class AttendanceSource(models.TextChoices):
    FORM = "表单", _("表单登记")  # ticked on the session page
    IMPORT = "导入", _("文件导入")  # imported from a sign-in sheet (training_attendance)


class Attendance(models.Model):
    """One employee attended one session."""

    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("登记方式"), max_length=4, choices=AttendanceSource.choices)
    score = models.DecimalField(_("考试成绩"), max_digits=5, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    batch = models.ForeignKey(
        "imports.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "user__unit__path", "user__username"]
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="attendance_once")]
        indexes = [models.Index(fields=["user", "session"], name="attendance_user_session")]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.user_id}"
