from django import forms
from django.utils.translation import gettext_lazy as _

from xiaobao.reviews.models import Adoption, Outcome, ReviewType


class ReviewForm(forms.Form):
    title = forms.CharField(label=_("审查事项"), max_length=200)
    review_type = forms.ChoiceField(label=_("审查类型"), choices=ReviewType.choices)
    unit = forms.ChoiceField(label=_("提交机构"))
    file = forms.FileField(
        label=_("送审文件"), help_text=_("PDF、Word、Excel、PPT、图片或纯文本，最大 30 MB")
    )
    description = forms.CharField(
        label=_("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("用途、投放渠道、上线时间等"),
    )

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]


class UploadForm(forms.Form):
    file = forms.FileField(label=_("新版本文件"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "upload_%s")
        super().__init__(*args, **kwargs)


class RereviewForm(forms.Form):
    file = forms.FileField(label=_("变更后的文件"))
    reason = forms.CharField(label=_("变更说明"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "rereview_%s")
        super().__init__(*args, **kwargs)


class RespondForm(forms.Form):
    adoption = forms.ChoiceField(label=_("采纳情况"), choices=[("", _("— 请选择 —"))] + Adoption.choices)
    response = forms.CharField(
        label=_("回复说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("不采纳时必须说明理由"),
    )

    def __init__(self, *args, item_id=0, **kwargs):
        kwargs.setdefault("auto_id", f"resp{item_id}_%s")
        super().__init__(*args, **kwargs)


class SignOffForm(forms.Form):
    outcome = forms.ChoiceField(label=_("审查结论"), choices=[("", _("— 请选择 —"))] + Outcome.choices)
    note = forms.CharField(label=_("签批意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "signoff_%s")
        super().__init__(*args, **kwargs)


class ChecklistItemForm(forms.Form):
    review_type = forms.ChoiceField(label=_("审查类型"), choices=ReviewType.choices)
    code = forms.SlugField(label=_("代码"), max_length=32)
    title = forms.CharField(label=_("审查要点"), max_length=200)
    basis = forms.CharField(label=_("依据"), max_length=300, required=False)
    order = forms.IntegerField(label=_("顺序"), min_value=0, max_value=999, initial=0)
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("要核对的文件"))
