from django.utils.translation import gettext_lazy as _

# (url name, label, who sees it): every signed-in user reads the alerts of their scope.
NAV = [("risk-alerts", _("退保风险"), lambda user: True)]
