from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "xiaobao.risk"
    label = "risk"
    verbose_name = _("退保风险监测")
