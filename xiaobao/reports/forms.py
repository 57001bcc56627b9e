import re

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaobao.reports.models import ReportKind

PERIOD_PATTERNS = {
    ReportKind.YEAREND: (re.compile(r"^\d{4}$"), _("年度总结的期间写年份, 如 2024")),
    ReportKind.COMPLAINTS: (re.compile(r"^\d{4}Q[1-4]$"), _("季度投诉统计的期间写季度, 如 2024Q4")),
    ReportKind.COMMITTEE: (
        re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"),
        _("委员会月度材料的期间写月份, 如 2024-11"),
    ),
}
FORMATS = [("docx", "Word (.docx)"), ("xlsx", "Excel (.xlsx)")]


class GenerateForm(forms.Form):
    kind = forms.ChoiceField(label=_("报告类型"), choices=ReportKind.choices)
    period = forms.CharField(
        label=_("期间"), max_length=16, help_text=_("年份 2024 / 季度 2024Q4 / 月份 2024-11")
    )
    unit = forms.ChoiceField(label=_("机构"))
    fmt = forms.ChoiceField(label=_("格式"), choices=FORMATS)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]

    def clean(self):
        data = super().clean()
        kind, period = data.get("kind"), (data.get("period") or "").strip().upper().replace("q", "Q")
        if kind and period:
            pattern, message = PERIOD_PATTERNS[kind]
            if not pattern.match(period):
                self.add_error("period", message)
            data["period"] = period
        if kind == ReportKind.YEAREND and data.get("fmt") != "docx":
            self.add_error("fmt", _("年度总结只生成 Word (.docx)"))
        if kind == ReportKind.COMPLAINTS and data.get("fmt") != "xlsx":
            self.add_error("fmt", _("季度投诉统计只生成 Excel (.xlsx)"))
        return data


class TemplateForm(forms.Form):
    heading = forms.CharField(label=_("标题"), max_length=200, required=False)
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 8}))
