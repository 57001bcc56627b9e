from django.utils.translation import gettext_lazy as _

NAV = [("assessment-index", _("消保自评"), lambda u: True)]
