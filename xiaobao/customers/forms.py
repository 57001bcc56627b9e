from django import forms
from django.utils.translation import gettext_lazy as _


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("查看原因"),
        min_length=4,
        max_length=200,
        error_messages={"required": _("请填写查看原因"), "min_length": _("查看原因至少 4 个字")},
    )


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=_("删除依据"),
        min_length=4,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如: 客户书面申请删除个人信息, 申请编号及受理日期"),
        error_messages={"required": _("请填写删除依据"), "min_length": _("删除依据至少 4 个字")},
    )
