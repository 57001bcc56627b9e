from django import forms
from django.utils.translation import gettext_lazy as _

from xiaobao.education.models import Audience, Dimension, Mode


class DateInput(forms.DateInput):
    """An HTML date input: its value must be ISO (2024-03-15), whatever the locale's date format."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ActivityForm(forms.Form):
    unit = forms.ChoiceField(label=_("机构"))
    date = forms.DateField(label=_("活动日期"), widget=DateInput)
    mode = forms.ChoiceField(label=_("形式"), choices=Mode.choices)
    campaign = forms.CharField(
        label=_("所属活动"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"list": "campaigns"}),
        help_text=_("如 3·15、金融教育宣传周、守住钱袋子、金融知识万里行；可留空"),
    )
    title = forms.CharField(label=_("主题"), max_length=200)
    location = forms.CharField(label=_("地点"), max_length=200, required=False, help_text=_("线下活动必填"))
    audience = forms.ChoiceField(label=_("受众"), choices=[("", "—")] + Audience.choices, required=False)
    reach = forms.IntegerField(label=_("触达人数"), min_value=0)
    cost = forms.DecimalField(
        label=_("费用 (元)"), required=False, max_digits=12, decimal_places=2, min_value=0
    )

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]


class EvidenceFileForm(forms.Form):
    file = forms.FileField(label=_("照片或文件"))


class EvidenceLinkForm(forms.Form):
    url = forms.CharField(label=_("链接"), max_length=500)
    label = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "link_%s")
        super().__init__(*args, **kwargs)


class PlanForm(forms.Form):
    unit = forms.ChoiceField(label=_("机构"))
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("计划名称"), max_length=200)
    notes = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]


class TargetForm(forms.Form):
    dimension = forms.ChoiceField(label=_("维度"), choices=Dimension.choices)
    key = forms.CharField(
        label=_("项目"),
        max_length=50,
        widget=forms.TextInput(attrs={"list": "target-keys"}),
        help_text=_("形式、活动名称或受众"),
    )
    count = forms.IntegerField(label=_("目标次数"), min_value=0, required=False)
    reach = forms.IntegerField(label=_("目标触达人数"), min_value=0, required=False)


class ReachLimitForm(forms.Form):
    unit = forms.ChoiceField(label=_("机构"))
    population = forms.IntegerField(label=_("辖区人口 (人)"), min_value=1)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]
