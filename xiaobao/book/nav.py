from django.utils.translation import gettext_lazy as _

from xiaobao.accounts import access

NAV = [
    ("book-index", _("业务数据"), lambda u: True),
    ("book-import", _("数据导入"), access.can_import),
]
