from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaobao.cases.models import CaseKind, Category, Channel, ContactMethod, PauseReason, RootCause
from xiaobao.lib.address import MAX_LENGTH as ADDRESS_LENGTH


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value):
        if hasattr(value, "strftime"):
            return (
                timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
                if timezone.is_aware(value)
                else value.strftime("%Y-%m-%dT%H:%M")
            )
        return value


class CaseForm(forms.Form):
    kind = forms.ChoiceField(label=_("工单类型"), choices=CaseKind.choices)
    channel = forms.ChoiceField(label=_("来源渠道"), choices=Channel.choices)
    unit = forms.ChoiceField(label=_("责任机构"))
    category = forms.ChoiceField(label=_("投诉事由"), choices=[("", "—")] + Category.choices, required=False)
    received_at = forms.DateTimeField(
        label=_("受理时间"), widget=DateTimeInput, required=False, help_text=_("留空为当前时间")
    )
    customer_name = forms.CharField(label=_("客户姓名"), max_length=50, required=False)
    customer_phone = forms.CharField(label=_("客户电话"), max_length=20, required=False)
    customer_id_no = forms.CharField(label=_("证件号码"), max_length=18, required=False)
    customer_address = forms.CharField(
        label=_("联系地址"), max_length=ADDRESS_LENGTH, required=False, help_text=_("选填, 用于识别退保黑产")
    )
    policy_no = forms.CharField(label=_("保单号"), max_length=64, required=False)
    urgent = forms.BooleanField(label=_("紧急"), required=False)
    claims_related = forms.BooleanField(label=_("理赔相关"), required=False)
    regulator_ref = forms.CharField(label=_("监管转办编号"), max_length=64, required=False)
    regulator_complex = forms.BooleanField(label=_("监管复杂件 (7 个工作日)"), required=False)
    description = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]


class PageForm(forms.Form):
    """A form that shares the case page with others: its own id prefix keeps labels on their fields."""

    id_prefix = "f"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class VersionedForm(PageForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class TransitionForm(VersionedForm):
    id_prefix = "t"

    reason = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    pause_reason = forms.ChoiceField(
        label=_("暂停原因"), choices=[("", "—")] + PauseReason.choices, required=False
    )
    decision = forms.CharField(label=_("处理决定"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    decision_amount = forms.DecimalField(
        label=_("决定金额 (元)"), required=False, max_digits=14, decimal_places=2, min_value=0
    )
    remedy = forms.CharField(label=_("补救措施"), required=False, max_length=200)
    outcome = forms.CharField(label=_("处理结果"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    merged_into = forms.CharField(label=_("合并至工单号"), required=False, max_length=64)


class ExtendForm(VersionedForm):
    id_prefix = "extend"
    reason = forms.CharField(label=_("延期原因"), min_length=4, widget=forms.Textarea(attrs={"rows": 2}))
    approver = forms.ChoiceField(label=_("审批人"))

    def __init__(self, *args, approvers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approver"].choices = [
            (u.pk, f"{u} · {u.unit.name if u.unit else ''}") for u in approvers
        ]


class AssignForm(VersionedForm):
    id_prefix = "assign"
    handler = forms.ChoiceField(label=_("处理人"))

    def __init__(self, *args, handlers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].choices = [("", _("— 请选择 —"))] + [
            (u.pk, f"{u} · {u.unit.name if u.unit else ''}") for u in handlers
        ]


class PlanStepForm(PageForm):
    id_prefix = "plan"

    due_date = forms.DateField(label=_("计划日期"), widget=DateInput)
    action = forms.CharField(label=_("措施"), max_length=300)


class ContactForm(PageForm):
    id_prefix = "contact"

    method = forms.ChoiceField(label=_("方式"), choices=ContactMethod.choices)
    at = forms.DateTimeField(label=_("联系时间"), widget=DateTimeInput, required=False)
    outcome = forms.CharField(label=_("结果"), max_length=300)
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RootCauseForm(VersionedForm):
    id_prefix = "root"
    root_cause = forms.ModelChoiceField(
        label=_("问题根因"), queryset=RootCause.objects.filter(active=True), empty_label=_("— 请选择 —")
    )
    agent_code = forms.CharField(label=_("责任业务员代码"), max_length=32, required=False)
    product_code = forms.CharField(label=_("涉及产品代码"), max_length=32, required=False)


class CallbackForm(PageForm):
    id_prefix = "callback"

    result = forms.ChoiceField(
        label=_("回访结果"),
        choices=[("满意", _("满意")), ("基本满意", _("基本满意")), ("不满意", _("不满意"))],
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=300)


class RectificationForm(forms.Form):
    title = forms.CharField(label=_("整改事项"), max_length=200)
    root_cause = forms.ModelChoiceField(label=_("问题根因"), queryset=RootCause.objects.filter(active=True))
    unit = forms.ChoiceField(label=_("责任单位"))
    owner = forms.ChoiceField(label=_("整改负责人"))
    due_date = forms.DateField(label=_("整改期限"), widget=DateInput)
    product_code = forms.CharField(label=_("涉及产品代码"), max_length=32, required=False)
    agent_code = forms.CharField(label=_("涉及业务员代码"), max_length=32, required=False)
    measures = forms.CharField(label=_("整改措施"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    case_nos = forms.CharField(
        label=_("关联工单号 (逗号分隔)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    watch_days = forms.IntegerField(label=_("复发观察期 (天)"), min_value=1, max_value=730, initial=180)

    def __init__(self, *args, units=(), owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, u.name) for u in units]
        self.fields["owner"].choices = [(u.pk, f"{u} · {u.unit.name if u.unit else ''}") for u in owners]


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("佐证文件"))


class VerifyForm(forms.Form):
    accepted = forms.ChoiceField(
        label=_("验证结论"), choices=[("1", _("整改有效")), ("0", _("退回重新整改"))]
    )
    note = forms.CharField(label=_("验证意见"), widget=forms.Textarea(attrs={"rows": 2}))


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=DateInput)
    is_workday = forms.ChoiceField(
        label=_("类型"), choices=[("0", _("休息日")), ("1", _("工作日 (调休上班)"))]
    )
    note = forms.CharField(label=_("说明"), max_length=100, required=False)


class TargetForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("工单类型"), choices=[c for c in CaseKind.choices if c[0] != CaseKind.COMPLAINT]
    )
    channel = forms.ChoiceField(
        label=_("来源渠道"), choices=[("", _("全部渠道"))] + Channel.choices, required=False
    )
    response_workdays = forms.IntegerField(label=_("响应时限 (工作日)"), min_value=0, max_value=30)
    resolution_workdays = forms.IntegerField(label=_("办结时限 (工作日)"), min_value=1, max_value=60)

    def clean(self):
        data = super().clean()
        if data.get("response_workdays") is not None and data.get("resolution_workdays") is not None:
            if data["response_workdays"] > data["resolution_workdays"]:
                raise forms.ValidationError(_("响应时限不能长于办结时限"))
        return data


class RootCauseAdminForm(forms.Form):
    code = forms.SlugField(label=_("代码"), max_length=32)
    name = forms.CharField(label=_("名称"), max_length=50)
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)
