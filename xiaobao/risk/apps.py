from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "xiaobao.risk"
    label = "risk"
    verbose_name = _("退保风险监测")

    def ready(self) -> None:
        # The watchlist check at intake, hung on the cases' and the book's hook registries (neither
        # app imports risk). Guarded so a second ready() (tests reloading apps) does not add twice.
        from xiaobao.book import hooks as book_hooks
        from xiaobao.cases import hooks as case_hooks
        from xiaobao.risk import intake

        for registry, hook in (
            (case_hooks.on_cases_created, intake.on_cases_created),
            (case_hooks.desk_annotations, intake.annotate_desk),
            (book_hooks.on_rows_written, intake.on_book_rows_written),
        ):
            if hook not in registry:
                registry.append(hook)
