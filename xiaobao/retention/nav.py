from django.utils.translation import gettext_lazy as _

from xiaobao.accounts.context import MANAGE
from xiaobao.retention.access import can_read

# (url name, label, who sees it, menu): the administrators, officers and auditors, in the 「管理」 menu.
NAV = [
    (
        "retention-index",
        _("保存期限"),
        can_read,
        MANAGE,
    )
]
