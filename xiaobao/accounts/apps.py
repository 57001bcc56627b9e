from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "xiaobao.accounts"
    label = "accounts"
    verbose_name = _("用户与角色")

    def ready(self):
        from xiaobao.accounts import signals  # noqa: F401
        from xiaobao.lib import choices

        choices.install()
