"""Forms of the training pages: shapes and choices from the user's scope; the rules are the services'."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaobao.lib.uploads import check_table_upload
from xiaobao.training.models import TrainingKind, TrainingMode


class DateInput(forms.DateInput):
    input_type = "date"


class SessionForm(forms.Form):
    unit = forms.ChoiceField(label=_("组织机构"))
    ref = forms.CharField(
        label=_("培训编号"), max_length=32, required=False, help_text=_("留空自动编号，如 PX2024-001")
    )
    topic = forms.CharField(label=_("培训主题"), max_length=200)
    kind = forms.ChoiceField(label=_("培训类型"), choices=TrainingKind.choices)
    mode = forms.ChoiceField(label=_("培训形式"), choices=TrainingMode.choices)
    trainer = forms.CharField(label=_("讲师"), max_length=100)
    held_on = forms.DateField(label=_("培训日期"), widget=DateInput)
    hours = forms.DecimalField(label=_("学时"), max_digits=4, decimal_places=1, min_value=0.5, initial=2)
    audience = forms.CharField(label=_("培训对象"), max_length=200, required=False)
    description = forms.CharField(
        label=_("培训内容"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.units = {u.code: u for u in units}
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]
        self.fields["held_on"].initial = timezone.localdate()


class AttendanceForm(forms.Form):
    users = forms.MultipleChoiceField(
        label=_("参训人员"), required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"})
    )

    def __init__(self, *args, people=(), **kwargs):
        kwargs.setdefault("auto_id", "att_%s")
        super().__init__(*args, **kwargs)
        self.people = {str(p.pk): p for p in people}
        self.fields["users"].choices = [
            (str(p.pk), f"{p} · {p.unit.name}" if p.unit else str(p)) for p in people
        ]

    def chosen(self) -> list:
        return [self.people[pk] for pk in self.cleaned_data.get("users") or [] if pk in self.people]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("签到表 (.xlsx / .csv)"), help_text=_("列：培训编号、姓名，可选用户名、机构、考试成绩")
    )
    dry_run = forms.BooleanField(label=_("只校验，不写入"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "imp_%s")
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_table_upload(upload)  # a page or a script is refused before any row is read
        return upload
