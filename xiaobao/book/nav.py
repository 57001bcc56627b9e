from django.utils.translation import gettext_lazy as _

from xiaobao.accounts import access
from xiaobao.accounts.context import MANAGE

NAV = [
    ("book-index", _("业务数据"), lambda u: True),
    ("book-import", _("数据导入"), access.can_import, MANAGE),
]
