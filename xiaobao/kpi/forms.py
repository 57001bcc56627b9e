from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaobao.kpi.expressions import GROUPINGS
from xiaobao.kpi.models import Direction, KpiSettings, QualityIndicator
from xiaobao.kpi.periods import PeriodError, parse_period

BY_LABELS = {
    "": _("不分组"),
    "month": _("按月"),
    "channel": _("按渠道"),
    "product": _("按险种"),
    "agent": _("按业务员"),
    "policy_year": _("按保单年度"),
    "apply_channel": _("按退保申请渠道"),
}


class PeriodField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return parse_period(value)
        except PeriodError as exc:
            raise forms.ValidationError(str(exc)) from None


class KpiQueryForm(forms.Form):
    period = PeriodField(
        label=_("期间"), required=False, max_length=8, help_text=_("2024、2024Q3 或 2024-07")
    )
    unit = forms.CharField(label=_("机构代码"), required=False, max_length=32)
    by = forms.ChoiceField(label=_("分组"), required=False, choices=[(k, v) for k, v in BY_LABELS.items()])

    def clean_by(self):
        value = self.cleaned_data.get("by") or None
        if value and value not in GROUPINGS:
            raise forms.ValidationError(_("分组无效"))
        return value


class FreezeForm(KpiQueryForm):
    period = PeriodField(label=_("期间"), required=True, max_length=8)


class KpiSettingsForm(forms.ModelForm):
    class Meta:
        model = KpiSettings
        fields = ["premium_basis", "policy_basis", "insured_basis", "claims_target_days"]


class IndicatorForm(forms.Form):
    weight = forms.DecimalField(
        label=_("权重"), min_value=Decimal(0), max_value=Decimal(100), decimal_places=2
    )
    target = forms.DecimalField(label=_("目标值"), min_value=Decimal(0), decimal_places=4, max_digits=14)
    direction = forms.ChoiceField(label=_("方向"), choices=Direction.choices)


def indicator_forms(data=None) -> list[tuple[QualityIndicator, IndicatorForm]]:
    return [
        (
            ind,
            IndicatorForm(
                data,
                prefix=f"i{ind.pk}",
                initial={"weight": ind.weight, "target": ind.target, "direction": ind.direction},
            ),
        )
        for ind in QualityIndicator.objects.all()
    ]


class QualityValueForm(forms.Form):
    value = forms.DecimalField(
        label=_("数值"), required=False, min_value=Decimal(0), decimal_places=4, max_digits=14
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=200)
