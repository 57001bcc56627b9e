from django.utils.translation import gettext_lazy as _

NAV = [("education-index", _("金融教育"), lambda u: True)]
