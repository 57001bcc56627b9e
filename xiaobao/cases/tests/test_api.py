"""The REST API under /api/v1/, as a hotline/CTI system uses it, with the clock frozen at
2024-09-20 09:00 (Shanghai). Personas: alice (officer of C1), bob (handler of C1), auditors and
outsiders from the shared conftest."""

import json
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.cases import api
from xiaobao.cases.models import Case, CaseEvent, Contact
from xiaobao.cases.tests.conftest import at
from xiaobao.customers.models import Customer

CASES = reverse("api-cases")
PLAIN_PERSONAL_DATA = ("13812345678", "张小三", "11010519491231002X")
NEW_COMPLAINT = {
    "unit": "C1",
    "kind": "投诉",
    "channel": "4008热线",
    "category": "销售纠纷",
    "description": "客户来电反映业务员承诺保本高收益, 要求全额退保",
    "customer_name": "张小三",
    "customer_phone": "13812345678",
    "customer_id_no": "11010519491231002X",
    "policy_no": "P2023000123",
    "urgent": True,
}


def detail(case) -> str:
    return reverse("api-case-detail", kwargs={"case_no": case.case_no})


def transitions(case) -> str:
    return reverse("api-case-transitions", kwargs={"case_no": case.case_no})


def contacts(case) -> str:
    return reverse("api-case-contacts", kwargs={"case_no": case.case_no})


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the cache; a frozen clock would otherwise carry them between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(db):
    """An API client authenticated by the user's token, as the CTI system is."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token = Token.objects.get_or_create(user=user)[0]
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def auditor(personas):
    return personas[(Role.AUDITOR, "inside")]


@pytest.fixture
def outsider(personas):
    """An officer of C2: sees C2, not C1."""
    return personas[(Role.OFFICER, "outside")]


def assert_no_plain_personal_data(response):
    body = response.content.decode()
    for value in PLAIN_PERSONAL_DATA:
        assert value not in body


# Authentication and tokens


def test_token_auth_is_required(client_for, clock):
    response = client_for().get(CASES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "身份认证信息未提供。", "code": "not_authenticated"}
    bad = client_for()
    bad.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = bad.get(CASES)
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_the_api_token_command_issues_and_resets_a_working_token(alice, clock, client_for):
    out = StringIO()
    call_command("api-token", alice.username, stdout=out)
    key = out.getvalue().strip()
    assert Token.objects.get(user=alice).key == key
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(CASES).status_code == 200

    again = StringIO()
    call_command("api-token", alice.username, stdout=again)
    assert again.getvalue().strip() == key, "without --reset the same token is printed"

    fresh = StringIO()
    call_command("api-token", alice.username, "--reset", stdout=fresh)
    new_key = fresh.getvalue().strip()
    assert new_key != key and Token.objects.filter(user=alice).count() == 1
    assert client.get(CASES).status_code == 401, "the old token no longer works"
    issued = AuditEntry.objects.filter(object_id=str(alice.pk), action="update")
    assert sorted(e.details["api_token"] for e in issued) == ["issued", "reset"]
    assert not AuditEntry.objects.filter(details__icontains=new_key).exists()


def test_the_api_token_command_refuses_unknown_and_inactive_users(alice):
    with pytest.raises(CommandError, match="找不到用户"):
        call_command("api-token", "nobody", stdout=StringIO())
    alice.is_active = False
    alice.save()
    with pytest.raises(CommandError, match="已停用"):
        call_command("api-token", alice.username, stdout=StringIO())
    assert not Token.objects.exists()


def test_requests_beyond_the_rate_are_throttled(alice, client_for, clock, monkeypatch):
    monkeypatch.setattr(api.ApiUserThrottle, "rate", "2/min")
    client = client_for(alice)
    assert [client.get(CASES).status_code for _ in range(2)] == [200, 200]
    response = client.get(CASES)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled" and "Retry-After" in response


# Create


def test_a_created_complaint_has_the_deadline_at_the_end_of_the_due_day(alice, client_for, clock, tree):
    response = client_for(alice).post(CASES, NEW_COMPLAINT, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["case_no"] == "TS20240920-0001"
    assert response["Location"] == "/api/v1/cases/TS20240920-0001/"
    assert body["status"] == "登记" and body["kind"] == "投诉" and body["channel"] == "4008热线"
    assert (body["unit"], body["unit_name"]) == ("C1", "甲中心支公司")
    assert body["received_at"] == "2024-09-20T09:00:00+08:00"
    assert body["deadline"] == "2024-10-08T23:59:59+08:00"
    assert body["due_date"] == "2024-10-08"
    assert body["deadline_rule"] == "15日, 末日逢节假日顺延"
    assert body["deadline_provisional"] is False
    assert body["response_due"] == "2024-09-20T23:59:59+08:00", "urgent: a response the same working day"
    assert (body["decided_at"], body["closed_at"], body["on_time"], body["overdue"]) == (
        None,
        None,
        None,
        False,
    )
    assert body["customer"] == {"name": "张*三", "phone": "138****5678", "address": ""}
    assert body["version"] == 1 and body["actions"] == ["accept", "withdraw", "merge"]
    assert "customer_id_no" not in body
    assert_no_plain_personal_data(response)

    case = Case.objects.get(case_no="TS20240920-0001")
    assert case.unit == tree["C1"] and case.urgent and case.policy_no == "P2023000123"
    assert case.customer.name_masked == "张*三"
    assert CaseEvent.objects.filter(case=case, action="create", actor=alice).exists()
    assert AuditEntry.objects.filter(action="create", object_id=str(case.pk), actor=alice).exists()


def test_an_invalid_create_gets_chinese_field_errors_and_writes_nothing(alice, client_for, clock):
    payload = {
        "unit": "C1",
        "kind": "投诉",
        "channel": "传真",
        "description": "   ",
        "customer_name": "张小三",
        "customer_phone": "12345",
    }
    response = client_for(alice).post(CASES, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"channel", "description", "customer_phone"}
    assert body["errors"]["channel"] == ["“传真” 不是合法选项。"]
    assert body["errors"]["description"] == ["该字段不能为空。"]
    assert "电话号码" in body["errors"]["customer_phone"][0]
    assert body["detail"].startswith("提交的数据有误")
    assert_no_plain_personal_data(response)
    assert not Case.objects.exists() and not Customer.objects.exists()


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"category": ""}, "category", "投诉必须选择投诉事由"),
        ({"received_at": "2024-09-21T09:00:00+08:00"}, "received_at", "受理时间不能晚于现在"),
        ({"unit": "NOPE"}, "unit", "未知的机构代码, 或不在您的权限范围内: NOPE"),
        ({"unit": "C2"}, "unit", "未知的机构代码, 或不在您的权限范围内: C2"),
        ({"kind": ""}, "kind", "“” 不是合法选项。"),
    ],
)
def test_the_services_rules_come_back_as_field_errors(alice, client_for, clock, change, field, message):
    response = client_for(alice).post(CASES, {**NEW_COMPLAINT, **change}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert not Case.objects.exists()


def test_an_auditor_cannot_create(auditor, client_for, clock):
    response = client_for(auditor).post(CASES, NEW_COMPLAINT, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "只读账号不能修改数据", "code": "permission_denied"}
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[" * 100_000,
        '{"unit": ' * 50_000,
        "[1, 2, 3]",
        '"a string"',
        "null",
        json.dumps({**NEW_COMPLAINT, "urgent": "maybe"}),
        json.dumps({**NEW_COMPLAINT, "kind": 5}),
        json.dumps({**NEW_COMPLAINT, "description": {"a": 1}}),
        json.dumps({**NEW_COMPLAINT, "description": "诉" * 20_000}),
        json.dumps({**NEW_COMPLAINT, "customer_name": "张" * 1000}),
        json.dumps({**NEW_COMPLAINT, "policy_no": "P" * 100_000}),
        json.dumps({**NEW_COMPLAINT, "description": "含有\x00空字符"}),
        json.dumps({**NEW_COMPLAINT, "received_at": "0001-01-01T00:00:00"}),
        json.dumps({**NEW_COMPLAINT, "received_at": "9999-12-31T23:59:59+08:00"}),
        json.dumps({**NEW_COMPLAINT, "received_at": "昨天"}),
        json.dumps({**NEW_COMPLAINT, "unit": ["C1"]}),
        json.dumps({**NEW_COMPLAINT, "customer_id_no": "110105194912310021"}),
    ],
)
def test_malformed_create_payloads_are_400_never_500(alice, client_for, clock, body):
    response = client_for(alice).post(CASES, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert not Case.objects.exists()


def test_a_body_that_is_not_json_is_explained_in_chinese(alice, client_for, clock):
    response = client_for(alice).post(CASES, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["detail"].startswith("请求体无法解析: JSON parse error")


def test_a_payload_that_is_not_json_or_a_form_is_415(alice, client_for, clock):
    response = client_for(alice).post(CASES, "unit=C1", content_type="text/plain")
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"


# List and read


@pytest.fixture
def three_cases(make_case, tree, personas, bob):
    """A complaint of C1 handled by bob, an inquiry of C1's department, and a complaint of C2."""
    admin = personas[(Role.ADMIN, "outside")]
    return {
        "c1": make_case(urgent=True, handler=bob),
        "c1kf": make_case(
            unit=tree["C1KF"], kind="咨询", category="", description="咨询保单贷款利率", customer_phone=""
        ),
        "c2": make_case(actor=admin, unit=tree["C2"], description="乙地客户投诉理赔时效慢"),
    }


def case_nos(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["case_no"] for row in response.json()["results"]}


def test_the_list_is_scoped_and_paginated(three_cases, alice, outsider, client_for):
    response = client_for(alice).get(CASES)
    assert set(response.json()) == {"count", "next", "previous", "results"}
    assert case_nos(response) == {three_cases["c1"].case_no, three_cases["c1kf"].case_no}
    assert case_nos(client_for(outsider).get(CASES)) == {three_cases["c2"].case_no}
    assert_no_plain_personal_data(response)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"kind": "咨询"}, {"c1kf"}),
        ({"kind": "投诉", "status": "登记"}, {"c1"}),
        ({"unit": "C1KF"}, {"c1kf"}),
        ({"unit": "C1"}, {"c1", "c1kf"}),
        ({"urgent": "true"}, {"c1"}),
        ({"urgent": "false"}, {"c1", "c1kf"}),
        ({"handler": "handler_in"}, {"c1"}),
        ({"q": "贷款利率"}, {"c1kf"}),
        ({"from": "2024-09-20", "to": "2024-09-20"}, {"c1", "c1kf"}),
        ({"from": "2024-09-21"}, set()),
        ({"view": "urgent", "sort": "no"}, {"c1"}),
        ({"overdue": "1"}, set()),
    ],
)
def test_the_list_takes_the_desks_filters(three_cases, alice, client_for, params, expected):
    response = client_for(alice).get(CASES, params)
    assert case_nos(response) == {three_cases[key].case_no for key in expected}


def test_the_handler_filter_also_takes_the_desks_numeric_id(three_cases, alice, bob, client_for):
    assert case_nos(client_for(alice).get(CASES, {"handler": bob.pk})) == {three_cases["c1"].case_no}


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"status": "飞走"}, "status", "筛选条件「status」的值无效: 飞走"),
        ({"kind": "投拆"}, "kind", "筛选条件「kind」的值无效: 投拆"),
        ({"from": "2024-13-01"}, "from", "日期格式应为 YYYY-MM-DD: 2024-13-01"),
        ({"to": "9999-12-31"}, "to", "日期超出范围: 9999-12-31"),
        ({"overdue": "maybe"}, "overdue", "应为 true 或 false: maybe"),
        ({"sort": "price"}, "sort", "可选值为 received, received_asc, due, due_desc, no: price"),
        ({"view": "everything"}, "view", "可选值为 all, mine, unit, due_today, overdue, urgent: everything"),
        ({"handler": "nobody"}, "handler", "未知的处理人: nobody"),
        ({"handler": "²"}, "handler", "未知的处理人: ²"),
        ({"unit": "C2"}, "unit", "未知的机构代码, 或不在您的权限范围内: C2"),
        ({"q": "退" * 101}, "q", "检索词最多 100 个字"),
        ({"q": "a\x00b"}, "q", "参数中不能含有空字符"),
    ],
)
def test_invalid_filters_are_a_400_naming_the_parameter(
    three_cases, alice, client_for, params, field, message
):
    response = client_for(alice).get(CASES, params)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {field: [message]}
    assert message in body["detail"]


def test_a_page_past_the_end_is_a_json_404(three_cases, alice, client_for):
    response = client_for(alice).get(CASES, {"page": 9})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_reading_a_case_outside_the_scope_is_404(three_cases, alice, outsider, auditor, client_for):
    case = three_cases["c1"]
    response = client_for(outsider).get(detail(case))
    assert response.status_code == 404
    assert response.json() == {"detail": "找不到该工单, 或它不在您的权限范围内", "code": "not_found"}
    assert client_for(alice).get(reverse("api-case-detail", kwargs={"case_no": "TS-NONE"})).status_code == 404
    assert client_for(alice).get("/api/v1/cases/TS%00X/").status_code == 404

    response = client_for(auditor).get(detail(case))
    assert response.status_code == 200
    body = response.json()
    assert body["case_no"] == case.case_no and body["handler"] == "handler_in"
    assert body["deadline"] == "2024-10-08T23:59:59+08:00"
    assert_no_plain_personal_data(response)


def test_an_undecided_case_past_its_deadline_is_overdue(three_cases, alice, client_for, clock):
    clock.move_to(at("2024-10-09 00:00:01"))
    client = client_for(alice)
    assert client.get(detail(three_cases["c1"])).json()["overdue"] is True
    assert three_cases["c1"].case_no in case_nos(client.get(CASES, {"overdue": "true"}))


def test_the_list_costs_the_same_number_of_queries_for_1_or_30_cases(make_case, alice, bob, client_for):
    client = client_for(alice)
    first = make_case(handler=bob)

    def count_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CASES, {"unit": "C1", "handler": "handler_in"})
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    one = count_queries()
    for n in range(29):
        case = make_case(handler=bob, description=f"第{n}次来电催办")
    merged = client.post(
        transitions(case), {"action": "merge", "version": 1, "merged_into": first.case_no}, format="json"
    )
    assert merged.status_code == 200, "a merged case makes merged_into a related row to read"
    thirty = count_queries()
    assert (one[1], thirty[1]) == (1, 30)
    assert thirty[0] == one[0] <= 6  # token, unit, handler, count, page (+ savepoints on some backends)


# Transitions


def test_a_transition_returns_the_case_and_writes_the_event(make_case, alice, client_for):
    case = make_case()
    response = client_for(alice).post(
        transitions(case), {"action": "accept", "version": 1, "reason": "来电受理"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["version"]) == ("受理", 2)
    assert body["actions"] == ["start", "decide", "withdraw", "merge"]
    event = CaseEvent.objects.get(case=case, action="accept")
    assert (event.actor, event.reason, event.to_status) == (alice, "来电受理", "受理")


def test_the_whole_path_through_the_api(make_case, alice, client_for, clock):
    case, duplicate = make_case(), make_case(description="同一诉求重复来电")
    client = client_for(alice)

    def step(target, version, **data):
        response = client.post(transitions(target), {"version": version, **data}, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    step(case, 1, action="accept")
    step(case, 2, action="start")
    clock.move_to(at("2024-09-23 10:00"))
    step(case, 3, action="pause", pause_reason="外部鉴定", reason="伤残鉴定")
    clock.move_to(at("2024-09-28 10:00"))
    body = step(case, 4, action="resume")
    assert body["deadline"] == "2024-10-10T23:59:59+08:00" and "暂停5日不计入" in body["deadline_rule"]
    clock.move_to(at("2024-10-08 20:00"))
    body = step(
        case, 5, action="decide", decision="同意按现金价值退保", decision_amount="1200.50", remedy="退还保费"
    )
    assert body["decided_at"] == "2024-10-08T20:00:00+08:00"
    assert (body["on_time"], body["decision_amount"], body["status"]) == (True, "1200.50", "已决定")
    body = step(duplicate, 1, action="merge", merged_into=case.case_no, reason="重复件")
    assert (body["status"], body["merged_into"]) == ("已合并", case.case_no)
    assert body["closed_at"] == "2024-10-08T20:00:00+08:00"


def test_an_illegal_transition_is_a_400_in_chinese_and_changes_nothing(make_case, alice, client_for):
    case = make_case()
    response = client_for(alice).post(
        transitions(case), {"action": "decide", "version": 1, "decision": "同意退保"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "当前状态「登记」不能执行「作出决定」",
        "code": "invalid",
        "errors": {"non_field_errors": ["当前状态「登记」不能执行「作出决定」"]},
    }
    case.refresh_from_db()
    assert (case.status, case.version) == ("登记", 1)
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_stale_version_is_a_409_and_changes_nothing(make_case, alice, bob, client_for):
    case = make_case()
    assert client_for(alice).post(transitions(case), {"action": "accept", "version": 1}).status_code == 200
    response = client_for(bob).post(
        transitions(case), {"action": "withdraw", "version": 1, "reason": "客户撤诉"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert body["detail"] == "该工单已被他人修改 (版本 1 → 2), 请刷新页面后重试; 您的输入未保存。"
    case.refresh_from_db()
    assert (case.status, case.version) == ("受理", 2)


def test_an_auditor_cannot_transition_and_an_outsider_cannot_see(make_case, auditor, outsider, client_for):
    case = make_case()
    response = client_for(auditor).post(transitions(case), {"action": "accept", "version": 1}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "只读账号不能修改数据"
    response = client_for(outsider).post(transitions(case), {"action": "accept", "version": 1}, format="json")
    assert response.status_code == 404
    case.refresh_from_db()
    assert (case.status, case.version) == ("登记", 1)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "action"),
        ({"action": "fly", "version": 1}, "action"),
        ({"action": "accept"}, "version"),
        ({"action": "accept", "version": "abc"}, "version"),
        ({"action": "accept", "version": 10**30}, "version"),
        ({"action": "accept", "version": 0}, "version"),
        ({"action": "accept", "version": 1, "reason": "因" * 3000}, "reason"),
        ({"action": "pause", "version": 1, "pause_reason": "喝茶"}, "pause_reason"),
        ({"action": "decide", "version": 1, "decision": "x", "decision_amount": "NaN"}, "decision_amount"),
        ({"action": "decide", "version": 1, "decision": "x", "decision_amount": "1e400"}, "decision_amount"),
        ({"action": "decide", "version": 1, "decision": "x", "decision_amount": "1.005"}, "decision_amount"),
        ({"action": "merge", "version": 1, "merged_into": "TS-NONE"}, "merged_into"),
        ({"action": "merge", "version": 1}, "merged_into"),
    ],
)
def test_malformed_transitions_are_400_with_the_field(make_case, alice, client_for, payload, field):
    case = make_case()
    response = client_for(alice).post(transitions(case), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    case.refresh_from_db()
    assert case.version == 1


def test_the_services_field_errors_come_through(make_case, alice, client_for):
    case = make_case()
    client = client_for(alice)
    client.post(transitions(case), {"action": "accept", "version": 1}, format="json")
    response = client.post(transitions(case), {"action": "decide", "version": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"decision": ["请填写处理决定"]}
    response = client.post(
        transitions(case),
        {"action": "decide", "version": 2, "decision": "x", "decision_amount": -5},
        format="json",
    )
    assert response.json()["errors"] == {"decision_amount": ["金额不能为负数"]}


def test_merging_into_a_case_outside_the_scope_is_refused(three_cases, alice, client_for):
    case = three_cases["c1"]
    response = client_for(alice).post(
        transitions(case),
        {"action": "merge", "version": 1, "merged_into": three_cases["c2"].case_no},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"merged_into": [f"找不到工单号 {three_cases['c2'].case_no}"]}


# Contacts


def test_a_contact_is_added_and_is_the_first_response(make_case, alice, client_for, clock):
    case = make_case(kind="咨询", category="")
    clock.move_to(at("2024-09-20 11:00"))
    response = client_for(alice).post(
        contacts(case),
        {"method": "电话", "outcome": "已电话解释保单现金价值", "note": "客户表示理解"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["at"] == "2024-09-20T11:00:00+08:00"
    assert (body["method"], body["outcome"], body["actor"]) == (
        "电话",
        "已电话解释保单现金价值",
        alice.username,
    )
    contact = Contact.objects.get(case=case)
    assert contact.note == "客户表示理解" and contact.actor == alice
    case.refresh_from_db()
    assert case.responded_at == at("2024-09-20 11:00")
    assert client_for(alice).get(detail(case)).json()["responded_at"] == "2024-09-20T11:00:00+08:00"


@pytest.mark.parametrize(
    "payload, errors",
    [
        ({"method": "飞鸽", "outcome": "x"}, {"method": ["“飞鸽” 不是合法选项。"]}),
        ({"method": "电话", "outcome": ""}, {"outcome": ["该字段不能为空。"]}),
        (
            {"method": "电话", "outcome": "x", "at": "2024-09-21T09:00:00+08:00"},
            {"at": ["联系时间不能晚于现在"]},
        ),
        (
            {"method": "电话", "outcome": "x", "at": "1999-12-31T23:00:00+08:00"},
            {"at": ["时间不能早于 2000-01-01"]},
        ),
        ({"method": "电话", "outcome": "结" * 301}, {"outcome": ["请确保这个字段不能超过 300 个字符。"]}),
    ],
)
def test_an_invalid_contact_is_a_400_and_nothing_is_written(make_case, alice, client_for, payload, errors):
    case = make_case()
    response = client_for(alice).post(contacts(case), payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert not Contact.objects.exists()


def test_an_auditor_cannot_add_a_contact_and_an_outsider_cannot_see(make_case, auditor, outsider, client_for):
    case = make_case()
    payload = {"method": "电话", "outcome": "已联系"}
    assert client_for(auditor).post(contacts(case), payload, format="json").status_code == 403
    assert client_for(outsider).post(contacts(case), payload, format="json").status_code == 404
    assert not Contact.objects.exists()


# Schema


def test_the_schema_is_valid_openapi_3_with_every_path(alice, client_for):
    assert client_for().get(reverse("api-schema")).status_code == 401
    response = client_for(alice).get(reverse("api-schema"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/cases/",
        "/api/v1/cases/{case_no}/",
        "/api/v1/cases/{case_no}/transitions/",
        "/api/v1/cases/{case_no}/contacts/",
    }
    cases = schema["paths"]["/api/v1/cases/"]
    assert {p["name"] for p in cases["get"]["parameters"]} >= {"status", "unit", "from", "to", "q", "page"}
    assert set(cases["post"]["responses"]) == {"201", "400", "401", "403", "404", "415", "429"}
    case_schema = schema["components"]["schemas"]["Case"]["properties"]
    assert case_schema["deadline"]["format"] == "date-time"
    assert "customer_phone" not in case_schema
    create = schema["components"]["schemas"]["CaseCreate"]["properties"]
    assert create["customer_phone"]["writeOnly"] is True
    transition = schema["paths"]["/api/v1/cases/{case_no}/transitions/"]["post"]
    assert "409" in transition["responses"]


def test_the_schema_admits_a_case_without_handler_category_or_merge(make_case, alice, client_for):
    """Found by the fuzzer (xiaobao/tests/test_api_fuzz.py): the document promised strings where a
    fresh inquiry has null or ""; a generated client would refuse such a case."""
    client = client_for(alice)
    case = make_case(kind="咨询", category="")
    body = client.get(detail(case)).json()
    assert (body["handler"], body["merged_into"], body["review_unit"], body["category"]) == (
        None,
        None,
        None,
        "",
    )
    contact = client.post(contacts(case), {"method": "电话", "outcome": "已联系"}, format="json").json()
    schemas = json.loads(client.get(reverse("api-schema")).content)["components"]["schemas"]
    case_schema = schemas["Case"]["properties"]
    assert all(case_schema[name]["nullable"] for name in ("handler", "merged_into", "review_unit"))
    assert {"$ref": "#/components/schemas/BlankEnum"} in case_schema["category"]["oneOf"]
    assert schemas["BlankEnum"]["enum"] == [""]
    assert contact["actor"] == alice.username and schemas["Contact"]["properties"]["actor"]["nullable"]


def test_a_body_without_content_type_is_a_documented_415(make_case, alice, client_for):
    """Found by the fuzzer: the 415 of a body that is neither JSON nor a form was not in the document."""
    case = make_case()
    client = client_for(alice)
    response = client.generic("POST", transitions(case), b"--x\r\n\xb1wNB--x--\r\n", content_type="")
    assert response.status_code == 415
    assert response.json() == {"detail": "不支持请求中的媒体类型 “”。", "code": "unsupported_media_type"}
    paths = json.loads(client.get(reverse("api-schema")).content)["paths"]
    for path in (
        "/api/v1/cases/",
        "/api/v1/cases/{case_no}/transitions/",
        "/api/v1/cases/{case_no}/contacts/",
    ):
        assert "415" in paths[path]["post"]["responses"], path
    assert "415" not in paths["/api/v1/cases/"]["get"]["responses"]


def test_the_api_answers_json_only(three_cases, alice, client_for):
    """DRF's browsable HTML page (English) answered 500 on the list, which has no queryset for its
    forms; the API now speaks JSON only, and a 404 that is not about a case does not claim to be."""
    client = client_for(alice)
    for response in (
        client.get(CASES, HTTP_ACCEPT="text/html"),
        client.get(detail(three_cases["c1"]), HTTP_ACCEPT="text/html"),
    ):
        assert response.status_code == 406
        assert response.json() == {"detail": "无法满足Accept HTTP头的请求。", "code": "not_acceptable"}
    response = client.get(CASES, {"format": "api"})
    assert response.status_code == 404
    assert response.json() == {"detail": "找不到请求的资源", "code": "not_found"}
    assert case_nos(client.get(CASES, {"format": "json"})) == {
        three_cases["c1"].case_no,
        three_cases["c1kf"].case_no,
    }


def test_a_session_without_csrf_token_is_refused_in_chinese(alice, clock):
    """The desk's session works for its own scripts with the CSRF token; without it DRF said
    "CSRF Failed: CSRF cookie not set." in English."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(CASES, NEW_COMPLAINT, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "CSRF 校验失败 (CSRF cookie not set.): 请刷新页面后重试; 系统对接请使用令牌 (Token) 认证",
        "code": "permission_denied",
    }
    assert not Case.objects.exists()
    client.cookies["csrftoken"] = secret = "a" * 32
    response = client.post(CASES, NEW_COMPLAINT, format="json", HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 201, response.content


# Addresses that are not endpoints


def test_an_unknown_address_under_the_api_is_a_json_404(alice, client_for, clock):
    for method in ("get", "post", "delete"):
        response = getattr(client_for(alice), method)("/api/v1/no-such-thing/")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "接口不存在: /api/v1/no-such-thing/", "code": "not_found"}


def test_a_post_without_the_final_slash_is_sent_on_with_its_method_and_body(alice, client_for, clock):
    """308, not Django's 301: a client repeats a 301 as a GET and the new case would be lost."""
    client = client_for(alice)
    response = client.post("/api/v1/cases?x=1", NEW_COMPLAINT, format="json")
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/cases/?x=1"
    assert response.json()["code"] == "redirect"
    assert not Case.objects.exists(), "nothing is written at the wrong address"
    followed = client.post(response["Location"], NEW_COMPLAINT, format="json")
    assert followed.status_code == 201
    assert Case.objects.count() == 1


def test_a_cases_contact_address_comes_back_masked(alice, client_for, clock):
    from xiaobao.lib.masking import mask

    address = "广东省深圳市南山区科技园南区高新南七道18号"
    response = client_for(alice).post(CASES, {**NEW_COMPLAINT, "customer_address": address}, format="json")
    assert response.status_code == 201, response.content
    shown = response.json()["customer"]["address"]
    assert shown == mask("address", address) and shown != address
    assert "科技园" not in response.content.decode()
    read = client_for(alice).get(response["Location"])
    assert read.json()["customer"]["address"] == shown
