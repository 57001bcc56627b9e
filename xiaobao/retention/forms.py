from django import forms
from django.utils.translation import gettext_lazy as _

from xiaobao.retention.services import MAX_DAYS


class RuleForm(forms.Form):
    keep_days = forms.IntegerField(
        label=_("保存天数"),
        min_value=0,
        max_value=MAX_DAYS,
        error_messages={
            "required": _("请填写保存天数"),
            "invalid": _("保存天数须为整数"),
            "min_value": _("保存天数不能小于 0"),
            "max_value": _("保存天数不能超过 %(limit_value)s"),
        },
    )
