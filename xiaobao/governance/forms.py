"""Forms of the governance pages. They check shapes and pick from what the user may see; the rules
(who, when, in which status) are the services'."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaobao.governance.models import (
    DrillScenario,
    PlanKind,
    QualityCategory,
    QualitySource,
    RuleCategory,
    Severity,
)


class DateInput(forms.DateInput):
    input_type = "date"


class CheckList(forms.CheckboxSelectMultiple):
    def __init__(self, attrs=None):
        super().__init__(attrs={"class": "checklist", **(attrs or {})})


def person_label(user) -> str:
    return f"{user} · {user.unit.name}" if user.unit else str(user)


def unit_choices(units) -> list[tuple[str, str]]:
    return [(u.code, f"{u.name} ({u.code})") for u in units]


class PageForm(forms.Form):
    """A form that shares its page with others: its own id prefix keeps labels on their fields."""

    id_prefix = "f"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class UnitPeopleForm(forms.Form):
    """A form with a unit choice and person choices, filled from the user's scope."""

    unit_fields: tuple[str, ...] = ("unit",)
    people_fields: tuple[str, ...] = ()
    person_fields: tuple[str, ...] = ()

    def __init__(self, *args, units=(), people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.units = {u.code: u for u in units}
        self.people = {str(p.pk): p for p in people}
        for name in self.unit_fields:
            self.fields[name].choices = unit_choices(units)
        for name in self.people_fields:
            self.fields[name].choices = [(str(p.pk), person_label(p)) for p in people]
        for name in self.person_fields:
            self.fields[name].choices = [("", _("— 请选择 —"))] + [
                (str(p.pk), person_label(p)) for p in people
            ]

    def unit(self, name: str = "unit"):
        return self.units.get(self.cleaned_data.get(name) or "")

    def person(self, name: str):
        return self.people.get(self.cleaned_data.get(name) or "")

    def persons(self, name: str) -> list:
        return [self.people[pk] for pk in self.cleaned_data.get(name) or [] if pk in self.people]


class MeetingForm(UnitPeopleForm):
    people_fields = ("attendees",)
    person_fields = ("chair",)

    unit = forms.ChoiceField(label=_("委员会所在机构"))
    title = forms.CharField(label=_("会议名称"), max_length=200)
    held_on = forms.DateField(label=_("会议日期"), widget=DateInput)
    place = forms.CharField(label=_("地点"), max_length=100, required=False)
    chair = forms.ChoiceField(label=_("主持人"), required=False)
    agenda = forms.CharField(label=_("会议议程"), widget=forms.Textarea(attrs={"rows": 4}))
    attendees = forms.MultipleChoiceField(label=_("参会人员"), required=False, widget=CheckList)
    other_attendees = forms.CharField(label=_("其他参会/列席人员"), max_length=300, required=False)
    minutes = forms.CharField(
        label=_("会议纪要"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("会议已召开时填写；留空则登记为计划召开"),
    )


class MinutesForm(UnitPeopleForm, PageForm):
    id_prefix = "minutes"
    unit_fields = ()
    people_fields = ("attendees",)

    minutes = forms.CharField(label=_("会议纪要"), widget=forms.Textarea(attrs={"rows": 5}))
    attendees = forms.MultipleChoiceField(label=_("参会人员"), required=False, widget=CheckList)
    other_attendees = forms.CharField(label=_("其他参会/列席人员"), max_length=300, required=False)


class ResolutionForm(PageForm):
    id_prefix = "resolution"
    text = forms.CharField(label=_("决议内容"), widget=forms.Textarea(attrs={"rows": 2}))


class ActionForm(UnitPeopleForm, PageForm):
    """督办事项: without an owner or a due date the form is refused (and so is the service)."""

    id_prefix = "action"
    unit_fields = ()
    person_fields = ("owner",)

    resolution = forms.ChoiceField(label=_("决议"))
    title = forms.CharField(label=_("督办事项"), max_length=300)
    owner = forms.ChoiceField(label=_("责任人"), error_messages={"required": _("督办事项必须指定责任人")})
    due_date = forms.DateField(
        label=_("完成期限"), widget=DateInput, error_messages={"required": _("督办事项必须设定完成期限")}
    )

    def __init__(self, *args, resolutions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if resolutions is None:  # a drill's follow-up action has no resolution
            del self.fields["resolution"]
        else:
            self.fields["resolution"].choices = [
                (str(r.pk), _("决议 %(n)s: %(t)s") % {"n": r.number, "t": r.text[:40]}) for r in resolutions
            ]


class EvidenceForm(PageForm):
    id_prefix = "evidence"
    file = forms.FileField(label=_("佐证材料"), help_text=_("PDF、图片、Office 文档或纯文本，不超过 20 MB"))


class NoteForm(PageForm):
    id_prefix = "note"
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TalkForm(UnitPeopleForm):
    person_fields = ("speaker",)

    unit = forms.ChoiceField(label=_("机构"))
    held_on = forms.DateField(label=_("日期"), widget=DateInput)
    topic = forms.CharField(label=_("主题"), max_length=200)
    speaker = forms.ChoiceField(label=_("主讲人 (系统用户)"), required=False)
    speaker_name = forms.CharField(
        label=_("主讲人姓名"), max_length=50, required=False, help_text=_("主讲人不是系统用户时填写")
    )
    speaker_title = forms.CharField(label=_("主讲人职务"), max_length=50, required=False)
    audience = forms.CharField(label=_("参加对象"), max_length=200, required=False)
    participants = forms.IntegerField(label=_("参加人数"), min_value=0, initial=0)
    summary = forms.CharField(label=_("内容摘要"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class PlanForm(UnitPeopleForm):
    unit = forms.ChoiceField(label=_("机构"))
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label=_("计划类型"), choices=PlanKind.choices)
    title = forms.CharField(label=_("名称"), max_length=200)
    content = forms.CharField(label=_("主要内容"), required=False, widget=forms.Textarea(attrs={"rows": 6}))
    file = forms.FileField(label=_("计划文件"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year


class PlanEditForm(PageForm):
    id_prefix = "edit"
    title = forms.CharField(label=_("名称"), max_length=200)
    content = forms.CharField(label=_("主要内容"), required=False, widget=forms.Textarea(attrs={"rows": 6}))


class DecideForm(PageForm):
    id_prefix = "decide"
    decision = forms.ChoiceField(
        label=_("审批结论"),
        choices=[("approve", _("批准")), ("return", _("退回修改"))],
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(label=_("审批意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RuleForm(UnitPeopleForm):
    unit = forms.ChoiceField(label=_("制定机构"))
    code = forms.CharField(label=_("文号"), max_length=64, required=False)
    title = forms.CharField(label=_("制度名称"), max_length=200)
    category = forms.ChoiceField(label=_("类别"), choices=RuleCategory.choices)
    department = forms.CharField(label=_("归口部门"), max_length=100, required=False)
    file = forms.FileField(label=_("制度文件"))
    effective_on = forms.DateField(label=_("生效日期"), widget=DateInput)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)


class RuleVersionForm(PageForm):
    id_prefix = "version"
    file = forms.FileField(label=_("修订后的制度文件"))
    effective_on = forms.DateField(label=_("生效日期"), widget=DateInput)
    note = forms.CharField(label=_("修订说明"), max_length=300)


class RepealForm(PageForm):
    id_prefix = "repeal"
    repealed_on = forms.DateField(label=_("废止日期"), widget=DateInput)
    reason = forms.CharField(label=_("废止原因"), max_length=300)


class DrillForm(UnitPeopleForm):
    people_fields = ("participants",)

    unit = forms.ChoiceField(label=_("机构"))
    title = forms.CharField(label=_("演练名称"), max_length=200)
    scenario_kind = forms.ChoiceField(label=_("场景类型"), choices=DrillScenario.choices)
    held_on = forms.DateField(label=_("演练日期"), widget=DateInput)
    scenario = forms.CharField(label=_("演练场景"), widget=forms.Textarea(attrs={"rows": 3}))
    participants = forms.MultipleChoiceField(label=_("参演人员"), required=False, widget=CheckList)
    other_participants = forms.CharField(label=_("其他参演人员"), max_length=300, required=False)
    findings = forms.CharField(
        label=_("发现的问题与评估"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("演练已开展时填写；留空则登记为计划"),
    )


class FindingsForm(UnitPeopleForm, PageForm):
    id_prefix = "findings"
    unit_fields = ()
    people_fields = ("participants",)

    findings = forms.CharField(label=_("发现的问题与评估"), widget=forms.Textarea(attrs={"rows": 4}))
    participants = forms.MultipleChoiceField(label=_("参演人员"), required=False, widget=CheckList)


class IssueForm(UnitPeopleForm):
    person_fields = ("owner",)

    unit = forms.ChoiceField(label=_("责任机构"))
    source = forms.ChoiceField(label=_("发现来源"), choices=QualitySource.choices)
    case_no = forms.CharField(
        label=_("关联工单号"), max_length=64, required=False, help_text=_("来源为热线工单或投诉台账时必填")
    )
    source_ref = forms.CharField(label=_("来源编号"), max_length=64, required=False)
    category = forms.ChoiceField(label=_("问题类型"), choices=QualityCategory.choices)
    severity = forms.ChoiceField(label=_("严重程度"), choices=Severity.choices)
    title = forms.CharField(label=_("问题"), max_length=200)
    found_on = forms.DateField(label=_("发现日期"), widget=DateInput)
    owner = forms.ChoiceField(label=_("责任人"))
    due_date = forms.DateField(label=_("整改期限"), widget=DateInput)
    description = forms.CharField(label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 4}))


class BulletinForm(UnitPeopleForm):
    unit_fields = ("unit", "recipients")

    unit = forms.ChoiceField(label=_("发文机构"))
    code = forms.CharField(label=_("文号"), max_length=64, required=False)
    title = forms.CharField(label=_("标题"), max_length=200)
    recipients = forms.MultipleChoiceField(label=_("主送机构"), required=False, widget=CheckList)
    issues = forms.MultipleChoiceField(label=_("通报问题"), required=False, widget=CheckList)
    body = forms.CharField(label=_("通报内容"), widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, issues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.issue_map = {str(i.pk): i for i in issues}
        self.fields["issues"].choices = [(str(i.pk), f"{i.ref} {i.title} · {i.unit.name}") for i in issues]

    def chosen_units(self) -> list:
        return [self.units[c] for c in self.cleaned_data.get("recipients") or [] if c in self.units]

    def chosen_issues(self) -> list:
        return [self.issue_map[pk] for pk in self.cleaned_data.get("issues") or [] if pk in self.issue_map]


class AcknowledgeForm(PageForm):
    id_prefix = "ack"
    unit = forms.CharField(widget=forms.HiddenInput)
