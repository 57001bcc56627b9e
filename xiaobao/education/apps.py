from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EducationConfig(AppConfig):
    name = "xiaobao.education"
    label = "education"
    verbose_name = _("金融教育")
