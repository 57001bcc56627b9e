from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookConfig(AppConfig):
    name = "xiaobao.book"
    label = "book"
    verbose_name = _("核心业务数据")
