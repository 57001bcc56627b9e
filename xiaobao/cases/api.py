"""REST API v1 (接口): a hotline/CTI system creates, lists and reads cases, moves them through the
transition table and adds contact-log entries.

The API is another door to the same rooms: scope and write rights come from
xiaobao.accounts.access, every write goes through xiaobao.cases.services, and the list reuses the
desk's filter (selectors.CaseFilter). Every 4xx answers JSON {"detail", "code"[, "errors"]} with a
Chinese message; the exception handler below maps the services' Django exceptions onto it.
"""

import datetime as dt

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import Resolver404, path, re_path, resolve, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from xiaobao.accounts import access
from xiaobao.accounts.models import User
from xiaobao.cases import selectors, services
from xiaobao.cases.models import Case, CaseKind, CaseStatus, Category, Channel
from xiaobao.cases.serializers import (
    CaseCreateSerializer,
    CaseSerializer,
    ContactCreateSerializer,
    ContactSerializer,
    ErrorSerializer,
    TransitionSerializer,
)

# Names of the services' error keys where the API calls the field differently.
FIELD_ALIASES = {
    "name": "customer_name",
    "phone": "customer_phone",
    "id_no": "customer_id_no",
    NON_FIELD_ERRORS: "non_field_errors",
}
FLAGS = {"": False, "0": False, "false": False, "off": False, "1": True, "true": True, "on": True}
EARLIEST_DAY, LATEST_DAY = dt.date(2000, 1, 1), dt.date(2999, 12, 31)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def api_exception_handler(exc, context):
    """DRF's handler, after turning the services' Django exceptions into API exceptions, with one
    body shape for every error. Anything else stays a 500: it is a bug, not bad input."""
    if isinstance(exc, services.CaseConflict):
        exc = Conflict(" ".join(exc.messages))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_field_errors(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        # A case not found is said by get_case; this is any other 404 (e.g. an unknown ?format=).
        exc = exceptions.NotFound(_("找不到请求的资源"))
    elif isinstance(exc, exceptions.ParseError):
        # DRF's parse errors are English whatever the language; the parser's reason stays appended.
        exc = exceptions.ParseError(_("请求体无法解析: %(e)s") % {"e": exc.detail})
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _error_body(exc, response.data)
    return response


def _field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {FIELD_ALIASES.get(k, k): v for k, v in exc.message_dict.items()}
    return {"non_field_errors": exc.messages}


def _error_body(exc: exceptions.APIException, data) -> dict:
    if not isinstance(exc, exceptions.ValidationError):
        return {"detail": str(exc.detail), "code": exc.get_codes()}
    if not isinstance(data, dict):
        data = {"non_field_errors": data}
    errors = {name: [str(m) for m in _flatten(messages)] for name, messages in data.items()}
    general = errors.get("non_field_errors", [])
    detail = "; ".join(general) or _("提交的数据有误: %(e)s") % {
        "e": "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    }
    return {"detail": detail, "code": "invalid", "errors": errors}


def _flatten(messages):
    if isinstance(messages, dict):
        for value in messages.values():
            yield from _flatten(value)
    elif isinstance(messages, list):
        for value in messages:
            yield from _flatten(value)
    else:
        yield messages


class ApiJSONParser(JSONParser):
    """DRF's JSON parser lets a deeply nested body escape as RecursionError, which would be a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON 嵌套层数过多")) from None


class ApiSessionAuthentication(SessionAuthentication):
    """The desk's session, for its own pages' scripts. DRF refuses a missing CSRF token in English;
    the refusal is said again in Chinese, Django's reason kept for whoever debugs the call."""

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            reason = str(exc.detail).removeprefix("CSRF Failed: ")
            raise exceptions.PermissionDenied(
                _("CSRF 校验失败 (%(reason)s): 请刷新页面后重试; 系统对接请使用令牌 (Token) 认证")
                % {"reason": reason}
            ) from None


class ApiUserThrottle(UserRateThrottle):
    # Two calls a second per account: ample for a CTI system, a brake on a runaway script.
    rate = "120/min"


class ApiAnonThrottle(AnonRateThrottle):
    # Every endpoint refuses anonymous requests (401) before throttles run; this is the backstop
    # for the day one of them does not.
    rate = "30/min"


class ApiView(GenericAPIView):
    """Base of every API view: JSON answers and errors in Chinese, authentication required, rate-limited."""

    authentication_classes = [TokenAuthentication, ApiSessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [ApiUserThrottle, ApiAnonThrottle]
    parser_classes = [ApiJSONParser, FormParser, MultiPartParser]
    # JSON only: DRF's browsable HTML pages are English, and answered 500 on the list.
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return api_exception_handler


def api_cases(user):
    return selectors.case_scope(user).select_related(
        "unit", "handler", "customer", "merged_into", "review_unit"
    )


def get_case(request, case_no: str) -> Case:
    """The case by its number, or 404 when it is outside the user's scope (or no number at all)."""
    if "\x00" not in case_no:
        try:
            return access.get_for_user(request.user, api_cases(request.user), case_no=case_no)
        except Http404:
            pass
    raise exceptions.NotFound(_("找不到该工单, 或它不在您的权限范围内"))


def _reply(case: Case, request, code=status.HTTP_200_OK) -> Response:
    """Serialize a freshly read case (the services return it without its related rows)."""
    case = get_case(request, case.case_no)
    return Response(CaseSerializer(case, context={"request": request}).data, status=code)


ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    429: ErrorSerializer,
}
# A request body neither JSON nor a form (or with no Content-Type at all) is refused before parsing.
WRITE_ERRORS = {**ERRORS, 415: ErrorSerializer}
FILTER_PARAMETERS = [
    OpenApiParameter("status", enum=CaseStatus.values, description="状态"),
    OpenApiParameter("kind", enum=CaseKind.values, description="工单类型"),
    OpenApiParameter("channel", enum=Channel.values, description="来源渠道"),
    OpenApiParameter("category", enum=Category.values, description="投诉事由"),
    OpenApiParameter("unit", str, description="机构代码 (含下级机构)"),
    OpenApiParameter("handler", str, description="处理人用户名或编号"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="受理日期起 (含)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="受理日期止 (含)"),
    OpenApiParameter("overdue", bool, description="只看已超期"),
    OpenApiParameter("urgent", bool, description="只看紧急件"),
    OpenApiParameter("claims", bool, description="只看理赔相关"),
    OpenApiParameter("q", str, description="诉求内容全文检索 (最多 100 字)"),
    OpenApiParameter("sort", enum=list(selectors.SORTS), description="排序"),
    OpenApiParameter("view", enum=selectors.VIEWS, description="工作台视图"),
]


def case_filter_from_query(request) -> selectors.CaseFilter:
    """The desk's filter, but strict: a value the desk would quietly ignore is a 400 here, keyed by
    the parameter, so that an integration learns of its typo instead of getting the wrong list."""
    params = request.query_params
    errors = {}
    for name, value in params.items():
        if "\x00" in value:
            errors[name] = [_("参数中不能含有空字符")]
    if errors:
        raise exceptions.ValidationError(errors)
    cleaned = {}
    for name in ("status", "kind", "channel", "category", "from", "to"):
        value = params.get(name, "")
        problems = selectors.CaseFilter.from_params({name: value}).errors
        if problems:
            errors[name] = problems
        elif value:
            cleaned[name] = value
    for name in ("from", "to"):
        if name in cleaned and not EARLIEST_DAY <= dt.date.fromisoformat(cleaned[name]) <= LATEST_DAY:
            errors[name] = [_("日期超出范围: %(v)s") % {"v": cleaned[name]}]
    for name in ("overdue", "urgent", "claims"):
        value = params.get(name, "").lower()
        if value not in FLAGS:
            errors[name] = [_("应为 true 或 false: %(v)s") % {"v": value}]
        elif FLAGS[value]:
            cleaned[name] = "1"
    for name, allowed in (("sort", selectors.SORTS), ("view", selectors.VIEWS)):
        value = params.get(name, "")
        if value and value not in allowed:
            errors[name] = [_("可选值为 %(a)s: %(v)s") % {"a": ", ".join(allowed), "v": value}]
        elif value:
            cleaned[name] = value
    q = params.get("q", "")
    if len(q) > 100:
        errors["q"] = [_("检索词最多 100 个字")]
    cleaned["q"] = q
    unit = params.get("unit", "")
    if unit and not access.visible_units(request.user).filter(code=unit).exists():
        errors["unit"] = [_("未知的机构代码, 或不在您的权限范围内: %(c)s") % {"c": unit[:32]}]
    cleaned["unit"] = unit
    handler = params.get("handler", "")
    if handler:
        handler_id = _handler_id(handler)
        if handler_id is None:
            errors["handler"] = [_("未知的处理人: %(h)s") % {"h": handler[:150]}]
        cleaned["handler"] = str(handler_id)
    if errors:
        raise exceptions.ValidationError(errors)
    return selectors.CaseFilter.from_params(cleaned)


def _handler_id(handler: str) -> int | None:
    """A handler by username, or by number as the desk's links give it."""
    if handler.isascii() and handler.isdigit() and len(handler) <= 18:
        return int(handler)
    return User.objects.filter(username=handler[:150]).values_list("pk", flat=True).first()


class CaseListView(ApiView):
    """List the cases in the user's scope with the desk's filters (paginated), or register one."""

    serializer_class = CaseSerializer

    @extend_schema(
        operation_id="cases_list",
        summary="工单列表",
        parameters=FILTER_PARAMETERS,
        responses={200: CaseSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        f = case_filter_from_query(request)
        cases = selectors.case_list(user=request.user, f=f).select_related("merged_into", "review_unit")
        page = self.paginate_queryset(cases)
        return self.get_paginated_response(CaseSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="cases_create",
        summary="登记工单",
        request=CaseCreateSerializer,
        responses={201: CaseSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        access.require_write(request.user)
        form = CaseCreateSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        case = services.case_create(actor=request.user, request=request, **form.validated_data)
        response = _reply(case, request, status.HTTP_201_CREATED)
        response["Location"] = reverse("api-case-detail", kwargs={"case_no": case.case_no})
        return response


class CaseDetailView(ApiView):
    """One case by its number; 404 when it is outside the user's scope."""

    serializer_class = CaseSerializer

    @extend_schema(operation_id="cases_read", summary="读取工单", responses={200: CaseSerializer, **ERRORS})
    def get(self, request, case_no: str):
        case = get_case(request, case_no)
        return Response(CaseSerializer(case, context={"request": request}).data)


class CaseTransitionView(ApiView):
    """Move a case through the transition table. A stale version is a 409; nothing is changed."""

    serializer_class = TransitionSerializer

    @extend_schema(
        operation_id="cases_transition",
        summary="执行状态变更",
        request=TransitionSerializer,
        responses={200: CaseSerializer, 409: ErrorSerializer, **WRITE_ERRORS},
    )
    def post(self, request, case_no: str):
        case = get_case(request, case_no)
        access.require_write(request.user)
        form = TransitionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        action, version, reason = data.pop("action"), data.pop("version"), data.pop("reason")
        merged_no = data.pop("merged_into").strip()
        if action == "merge" and merged_no:
            target = access.scope(Case.objects.all(), request.user).filter(case_no=merged_no).first()
            if target is None:
                raise exceptions.ValidationError(
                    {"merged_into": [_("找不到工单号 %(no)s") % {"no": merged_no}]}
                )
            data["merged_into"] = target
        case = services.case_transition(
            actor=request.user,
            case=case,
            action=action,
            reason=reason,
            version=version,
            request=request,
            **data,
        )
        return _reply(case, request)


class CaseContactView(ApiView):
    """Add a contact-log entry (联系记录); the first one is the case's first response."""

    serializer_class = ContactCreateSerializer

    @extend_schema(
        operation_id="cases_contact_add",
        summary="添加联系记录",
        request=ContactCreateSerializer,
        responses={201: ContactSerializer, **WRITE_ERRORS},
    )
    def post(self, request, case_no: str):
        case = get_case(request, case_no)
        access.require_write(request.user)
        form = ContactCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        contact = services.contact_add(actor=request.user, case=case, request=request, **form.validated_data)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class SchemaView(SpectacularJSONAPIView):
    """The OpenAPI 3 document, for signed-in users and token holders only (intranet product)."""

    authentication_classes = [TokenAuthentication, ApiSessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [ApiUserThrottle, ApiAnonThrottle]

    def get_exception_handler(self):
        return api_exception_handler


@csrf_exempt  # it changes nothing, and a token client POSTing to a wrong address needs the answer
def api_unknown(request, rest: str = "") -> HttpResponse:
    """Every other address under /api/v1/: JSON like every other API error, never the site's HTML
    404. An address missing only its final slash is sent on with 308, which keeps the method and
    the body (Django's APPEND_SLASH answers a POST with 301, which clients repeat as a GET)."""
    slashed = request.path + "/"
    try:
        found = resolve(slashed)
    except Resolver404:
        found = None
    if found is not None and found.func is not api_unknown:
        query = request.META.get("QUERY_STRING", "")
        response = JsonResponse(
            {"detail": _("接口地址应以 / 结尾: %(path)s") % {"path": slashed}, "code": "redirect"}, status=308
        )
        response["Location"] = slashed + (f"?{query}" if query else "")
        return response
    return JsonResponse(
        {"detail": _("接口不存在: %(path)s") % {"path": request.path}, "code": "not_found"}, status=404
    )


urlpatterns = [
    path("cases/", CaseListView.as_view(), name="api-cases"),
    path("cases/<str:case_no>/", CaseDetailView.as_view(), name="api-case-detail"),
    path("cases/<str:case_no>/transitions/", CaseTransitionView.as_view(), name="api-case-transitions"),
    path("cases/<str:case_no>/contacts/", CaseContactView.as_view(), name="api-case-contacts"),
    path("openapi.json", SchemaView.as_view(), name="api-schema"),
    re_path(r"^(?P<rest>.*)$", api_unknown, name="api-unknown"),
]
