from django.utils.translation import gettext_lazy as _

# (url name, label, who sees it): every signed-in user reads governance within their scope.
NAV = [("governance-index", _("消保治理"), lambda user: True)]
