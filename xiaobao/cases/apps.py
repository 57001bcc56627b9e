from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "xiaobao.cases"
    label = "cases"
    verbose_name = _("投诉与工单")

    def ready(self) -> None:
        from xiaobao.cases.maintenance import analyze_after_migrate

        post_migrate.connect(analyze_after_migrate, sender=self, dispatch_uid="cases-analyze")
