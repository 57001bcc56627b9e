from django import forms
from django.utils.translation import gettext_lazy as _


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("查看原因"),
        min_length=4,
        max_length=200,
        error_messages={"required": _("请填写查看原因"), "min_length": _("查看原因至少 4 个字")},
    )
