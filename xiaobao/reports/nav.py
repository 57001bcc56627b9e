from django.utils.translation import gettext_lazy as _

# (url name, label, who sees it): every signed-in user reads the reports of their scope.
NAV = [("reports-index", _("报告"), lambda user: True)]
