from django import forms
from django.utils.translation import gettext_lazy as _

from xiaobao.assessment.models import Direction, Element


class AssessmentForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    unit = forms.ChoiceField(label=_("机构"))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]


class ScoreForm(forms.Form):
    score = forms.DecimalField(label=_("得分"), required=False, max_digits=6, decimal_places=2, min_value=0)
    comment = forms.CharField(label=_("自评说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, indicator_id=0, **kwargs):
        kwargs.setdefault("auto_id", f"s{indicator_id}_%s")
        super().__init__(*args, **kwargs)


class EvidenceForm(forms.Form):
    label = forms.CharField(label=_("佐证说明"), max_length=200, required=False)
    url = forms.CharField(
        label=_("链接"), max_length=500, help_text=_("本系统页面 (以 / 开头) 或 http(s):// 地址")
    )

    def __init__(self, *args, indicator_id=0, **kwargs):
        kwargs.setdefault("auto_id", f"e{indicator_id}_%s")
        super().__init__(*args, **kwargs)


class SubmitForm(forms.Form):
    summary = forms.CharField(label=_("自评总结"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CatalogueForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("名称"), max_length=200, required=False, help_text=_("留空自动命名"))


class WeightsForm(forms.Form):
    """One weight per element, each at least the measures' minimum, 100 in total (checked by the service)."""

    def __init__(self, *args, weights=None, **kwargs):
        kwargs.setdefault("auto_id", "w_%s")
        super().__init__(*args, **kwargs)
        for index, (value, label) in enumerate(Element.choices):
            self.fields[f"w{index}"] = forms.DecimalField(
                label=label,
                max_digits=5,
                decimal_places=2,
                min_value=0,
                max_value=100,
                initial=(weights or {}).get(value),
            )

    def weights(self) -> dict:
        return {value: self.cleaned_data[f"w{i}"] for i, (value, _label) in enumerate(Element.choices)}


class IndicatorForm(forms.Form):
    element = forms.ChoiceField(label=_("评价要素"), choices=Element.choices)
    code = forms.CharField(label=_("代码"), max_length=16)
    name = forms.CharField(label=_("指标"), max_length=200)
    points = forms.DecimalField(label=_("分值"), max_digits=6, decimal_places=2, min_value=0.01, initial=10)
    source = forms.CharField(
        label=_("预填来源"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"list": "source-keys"}),
    )
    target = forms.DecimalField(label=_("目标值"), max_digits=14, decimal_places=4, required=False)
    direction = forms.ChoiceField(label=_("方向"), choices=Direction.choices)
    order = forms.IntegerField(label=_("顺序"), min_value=0, max_value=999, initial=0)
    criteria = forms.CharField(label=_("评分标准"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "i_%s")
        super().__init__(*args, **kwargs)
