from django.utils.translation import gettext_lazy as _

# (url name, label, who sees it): every signed-in user reads training within their scope.
NAV = [("training-index", _("员工培训"), lambda user: True)]
