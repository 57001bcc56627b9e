from django.utils.translation import gettext_lazy as _

NAV = [("reviews-index", _("消保审查"), lambda u: True)]
