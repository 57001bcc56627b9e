from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "xiaobao.reviews"
    label = "reviews"
    verbose_name = _("消保审查")
