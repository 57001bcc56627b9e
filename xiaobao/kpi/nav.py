from django.utils.translation import gettext_lazy as _

from xiaobao.accounts import access
from xiaobao.accounts.context import MANAGE

NAV = [
    ("kpi-index", _("指标"), lambda u: True),
    ("kpi-quality-settings", _("指标设置"), access.is_admin, MANAGE),
]
