"""The REST API's shapes (接口数据格式): what a hotline/CTI system sends and what it gets back.

Input serializers only check types, lengths and choices, so that a malformed payload is a 400 with
per-field messages; every rule of the domain stays in xiaobao.cases.services. Output never
carries personal data in plain text: the customer is shown masked, as on the desk.
"""

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from xiaobao.cases.clocks import end_of_day
from xiaobao.cases.models import (
    TRANSITIONS,
    UNDECIDED_STATUSES,
    Case,
    CaseKind,
    Category,
    Channel,
    Contact,
    ContactMethod,
    PauseReason,
)
from xiaobao.customers.models import Customer
from xiaobao.lib.address import MAX_LENGTH as ADDRESS_LENGTH
from xiaobao.privacy.services import personal_normalize

# Datetimes outside this range are typing errors, and the extremes overflow when converted to UTC.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
TEXT_MAX = 10_000  # a description or decision longer than this is not a hotline record
MAX_VERSION = 2**31 - 1


def local_iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in the configured time zone, to the second: 2024-10-08T23:59:59+08:00."""
    if value is None:
        return None
    return timezone.localtime(value, timezone.get_default_timezone()).isoformat(timespec="seconds")


def _not_too_early(value: dt.datetime | None) -> None:
    if value is not None and value < EARLIEST:
        raise serializers.ValidationError(_("时间不能早于 2000-01-01"))


class LocalDateTimeField(serializers.DateTimeField):
    """Reads ISO 8601 (a value without offset is taken as local time) and writes +08:00."""

    def enforce_timezone(self, value):
        # DRF checks a naive value of year 1 against UTC and overflows; that is bad input, not a 500.
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")

    def to_representation(self, value):
        return local_iso(value)


class MaskedCustomerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="name_masked", help_text=_("姓名 (已脱敏)"))
    phone = serializers.CharField(source="phone_masked", help_text=_("电话 (已脱敏)"))
    address = serializers.CharField(source="address_masked", help_text=_("联系地址 (已脱敏, 未登记时为空)"))

    class Meta:
        model = Customer
        fields = ["name", "phone", "address"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    """One case as the API returns it. Deadlines end at 24:00 of the due day, local time."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: LocalDateTimeField,
    }

    unit = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=_("责任机构代码"))
    unit_name = serializers.CharField(source="unit.name", read_only=True, help_text=_("责任机构名称"))
    # Declared rather than derived from the model, where read-only fields lose blank and null and
    # the document would promise a string that a case without handler or category does not have.
    handler = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text=_("处理人用户名")
    )
    category = serializers.ChoiceField(choices=Category.choices, allow_blank=True, read_only=True)
    customer = MaskedCustomerSerializer(read_only=True, allow_null=True)
    deadline = serializers.SerializerMethodField(help_text=_("办理期限: 到期日 24:00 (ISO 8601, +08:00)"))
    response_due = serializers.SerializerMethodField(help_text=_("紧急件响应期限: 到期日 24:00"))
    overdue = serializers.SerializerMethodField(help_text=_("尚未决定且已过办理期限"))
    actions = serializers.SerializerMethodField(help_text=_("当前状态下可执行的操作"))
    merged_into = serializers.SlugRelatedField(slug_field="case_no", read_only=True, allow_null=True)
    review_unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Case
        fields = [
            "case_no",
            "status",
            "kind",
            "channel",
            "category",
            "unit",
            "unit_name",
            "handler",
            "customer",
            "policy_no",
            "description",
            "urgent",
            "claims_related",
            "regulator_ref",
            "regulator_complex",
            "received_at",
            "due_date",
            "deadline",
            "deadline_rule",
            "deadline_provisional",
            "response_due",
            "responded_at",
            "extension_level",
            "paused_days",
            "overdue",
            "decided_at",
            "notified_at",
            "closed_at",
            "on_time",
            "decision",
            "decision_amount",
            "remedy",
            "outcome",
            "merged_into",
            "review_unit",
            "actions",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_deadline(self, case: Case) -> str | None:
        return local_iso(end_of_day(case.due_date)) if case.due_date else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_response_due(self, case: Case) -> str | None:
        return local_iso(end_of_day(case.response_due_date)) if case.response_due_date else None

    def get_overdue(self, case: Case) -> bool:
        # The same rule as the desk's overdue view (selectors.overdue_q): a paused clock is stopped.
        today = self.context.get("today") or timezone.localdate()
        return case.status in UNDECIDED_STATUSES and case.due_date is not None and case.due_date < today

    # Plain strings: an enum here would be a second name for the transition request's action enum.
    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, case: Case) -> list[str]:
        return [action for action, (allowed, _to, _label) in TRANSITIONS.items() if case.status in allowed]


class CaseCreateSerializer(serializers.Serializer):
    """登记: the unit is given by its code; personal data is write-only and stored encrypted."""

    unit = serializers.CharField(max_length=32, help_text=_("责任机构代码"))
    kind = serializers.ChoiceField(choices=CaseKind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    category = serializers.ChoiceField(
        choices=Category.choices, required=False, allow_blank=True, default="", help_text=_("投诉必填")
    )
    description = serializers.CharField(max_length=TEXT_MAX)
    received_at = LocalDateTimeField(
        required=False, allow_null=True, default=None, validators=[_not_too_early], help_text=_("默认为现在")
    )
    customer_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="", write_only=True
    )
    customer_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", write_only=True
    )
    customer_id_no = serializers.CharField(
        max_length=18, required=False, allow_blank=True, default="", write_only=True
    )
    customer_address = serializers.CharField(
        max_length=ADDRESS_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        help_text=_("联系地址, 选填 (用于识别退保黑产)"),
    )
    policy_no = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    urgent = serializers.BooleanField(required=False, default=False)
    claims_related = serializers.BooleanField(required=False, default=False)
    regulator_ref = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    regulator_complex = serializers.BooleanField(required=False, default=False)

    def validate_unit(self, code: str):
        from xiaobao.accounts import access

        unit = access.visible_units(self.context["request"].user).filter(code=code).first()
        if unit is None:
            raise serializers.ValidationError(_("未知的机构代码, 或不在您的权限范围内: %(c)s") % {"c": code})
        return unit

    def validate_customer_phone(self, value: str) -> str:
        return _personal("phone", value)

    def validate_customer_id_no(self, value: str) -> str:
        return _personal("id_no", value)

    def validate_customer_address(self, value: str) -> str:
        return _personal("address", value)


def _personal(kind: str, value: str) -> str:
    """Check a phone, ID number or address here so its message lands on its field (the service
    checks again)."""
    if not value:
        return value
    try:
        personal_normalize(kind, value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None
    return value


class TransitionSerializer(serializers.Serializer):
    """A transition of the one table (models.TRANSITIONS) with the facts its action needs."""

    action = serializers.ChoiceField(choices=list(TRANSITIONS))
    version = serializers.IntegerField(
        min_value=1, max_value=MAX_VERSION, help_text=_("读取工单时的 version, 用于防止并发修改")
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    pause_reason = serializers.ChoiceField(
        choices=PauseReason.choices, required=False, allow_blank=True, default="", help_text=_("pause 必填")
    )
    decision = serializers.CharField(
        max_length=TEXT_MAX, required=False, allow_blank=True, default="", help_text=_("decide 必填")
    )
    decision_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    remedy = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    outcome = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True, default="")
    merged_into = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text=_("merge 必填: 目标工单号")
    )


class ContactCreateSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=ContactMethod.choices)
    outcome = serializers.CharField(max_length=300)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    at = LocalDateTimeField(
        required=False, allow_null=True, default=None, validators=[_not_too_early], help_text=_("默认为现在")
    )


class ContactSerializer(serializers.ModelSerializer):
    serializer_field_mapping = CaseSerializer.serializer_field_mapping
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Contact
        fields = ["id", "at", "method", "outcome", "note", "actor"]
        read_only_fields = fields


class ErrorSerializer(serializers.Serializer):
    """Every 4xx answer: a message for people, a code for programs, field errors on a 400."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("字段 → 错误信息; non_field_errors 为整体错误"),
    )
