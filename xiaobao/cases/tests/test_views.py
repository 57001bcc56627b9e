import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiaobao.audit.models import AuditEntry
from xiaobao.cases.models import Case, CaseEvent
from xiaobao.cases.tests.conftest import at


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def test_an_idle_session_times_out(logged_in, clock):
    assert logged_in.get(reverse("cases-desk")).status_code == 200
    clock.move_to(at("2024-09-20 09:31"))
    response = logged_in.get(reverse("cases-desk"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts-login"))


def test_the_desk_runs_a_constant_number_of_queries(logged_in, make_case):
    make_case()
    with CaptureQueriesContext(connection) as one:
        assert logged_in.get(reverse("cases-desk")).status_code == 200
    for i in range(25):
        make_case(description=f"第 {i} 位客户反映销售误导", customer_phone=f"139{i:08d}")
    with CaptureQueriesContext(connection) as many:
        response = logged_in.get(reverse("cases-desk"))
    assert response.status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)


def test_filters_views_and_full_text_search(logged_in, alice, make_case, clock):
    sales = make_case(description="业务员承诺保本高收益, 客户要求全额退保")
    claims = make_case(
        category="理赔纠纷", description="重疾理赔资料已提交二十天仍未结案", claims_related=True
    )
    inquiry = make_case(kind="咨询", category="", description="咨询保单贷款利率", urgent=True)
    page = logged_in.get(reverse("cases-desk"), {"q": "保本高收益"}).content.decode()
    assert sales.case_no in page and claims.case_no not in page
    page = logged_in.get(reverse("cases-desk"), {"q": "理赔"}).content.decode()  # two characters: LIKE
    assert claims.case_no in page and sales.case_no not in page
    page = logged_in.get(reverse("cases-desk"), {"claims": "1"}).content.decode()
    assert claims.case_no in page and inquiry.case_no not in page
    page = logged_in.get(reverse("cases-desk"), {"view": "urgent"}).content.decode()
    assert inquiry.case_no in page and sales.case_no not in page
    clock.move_to(at("2024-10-09 09:00"))
    logged_in.force_login(alice)  # three weeks later the session has long timed out
    page = logged_in.get(reverse("cases-desk"), {"view": "overdue"}).content.decode()
    assert sales.case_no in page and claims.case_no in page
    page = logged_in.get(reverse("cases-desk"), {"status": "不存在"}).content.decode()
    assert "筛选条件" in page


def test_outsiders_see_none_of_the_units_cases(client, personas, make_case):
    from xiaobao.accounts.models import Role

    case = make_case()
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert case.case_no not in client.get(reverse("cases-desk")).content.decode()
    assert client.get(reverse("cases-detail", args=[case.pk])).status_code == 404


def test_export_is_masked_neutralises_formulas_and_is_audited(logged_in, make_case):
    from openpyxl import load_workbook

    make_case(description="=cmd|' /C calc'!A0 客户反映")
    response = logged_in.get(reverse("cases-export"))
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header, row = rows[0], rows[1]
    record = dict(zip(header, row, strict=True))
    assert record["客户姓名"] == "张*三" and record["客户电话"] == "138****5678"
    assert record["诉求内容"].startswith("'=cmd")
    assert b"13812345678" not in response.content
    assert AuditEntry.objects.filter(action="export", details__rows=1).exists()


def test_registering_through_the_form(logged_in, alice, clock):
    url = reverse("cases-new")
    bad = logged_in.post(
        url,
        {
            "kind": "投诉",
            "channel": "4008热线",
            "unit": "C1",
            "category": "销售纠纷",
            "description": "x",
            "customer_phone": "12345",
        },
    )
    assert bad.status_code == 400
    assert "电话号码" in bad.content.decode()
    assert Case.objects.count() == 0
    ok = logged_in.post(
        url,
        {
            "kind": "投诉",
            "channel": "4008热线",
            "unit": "C1",
            "category": "销售纠纷",
            "description": "客户反映销售误导",
            "customer_name": "李四",
            "customer_phone": "13900001111",
        },
    )
    assert ok.status_code == 302
    case = Case.objects.get()
    assert ok["Location"] == reverse("cases-detail", args=[case.pk])
    detail = logged_in.get(ok["Location"]).content.decode()
    assert "2024年10月8日 24:00" in detail and "15日, 末日逢节假日顺延" in detail
    assert "13900001111" not in detail and "139****1111" in detail


def test_a_transition_over_http_and_a_conflicting_second_edit(client, alice, bob, make_case):
    case = make_case()
    client.force_login(alice)
    url = reverse("cases-transition", args=[case.pk, "accept"])
    assert client.post(url, {"version": case.version}).status_code == 302
    client.force_login(bob)
    stale = client.post(
        reverse("cases-transition", args=[case.pk, "withdraw"]), {"version": case.version, "reason": "撤诉"}
    )
    assert stale.status_code == 409
    assert "已被他人修改" in stale.content.decode()
    case.refresh_from_db()
    assert case.status == "受理"
    illegal = client.post(reverse("cases-transition", args=[case.pk, "notify"]), {"version": case.version})
    assert illegal.status_code == 400 and "不能执行" in illegal.content.decode()


def test_the_decision_notice_states_the_remedies(logged_in, alice, make_case):
    from docx import Document

    from xiaobao.cases.services import case_transition

    case = case_transition(actor=alice, case=make_case(), action="accept")
    case = case_transition(
        actor=alice, case=case, action="decide", decision="同意按现金价值退保", decision_amount="8800"
    )
    response = logged_in.get(reverse("cases-notice", args=[case.pk]))
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    for phrase in (
        "投诉处理决定告知书",
        case.case_no,
        "同意按现金价值退保",
        "8,800.00",
        "30 日内",
        "核查",
        "调解",
        "仲裁",
        "诉讼",
        "测试分公司",
    ):
        assert phrase in text
    assert "13812345678" not in text


def test_bulk_assign_and_bulk_merge(logged_in, alice, bob, make_case):
    first, second, original = (
        make_case(),
        make_case(description="重复来电一"),
        make_case(description="原始工单"),
    )
    response = logged_in.post(
        reverse("cases-bulk"), {"action": "assign", "handler": bob.pk, "ids": [first.pk, second.pk]}
    )
    assert response.status_code == 302
    assert set(Case.objects.filter(handler=bob).values_list("pk", flat=True)) == {first.pk, second.pk}
    logged_in.post(
        reverse("cases-bulk"),
        {"action": "merge", "merged_into": original.case_no, "ids": [first.pk, second.pk]},
    )
    assert set(Case.objects.filter(status="已合并", merged_into=original).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert CaseEvent.objects.filter(action="merge").count() == 2


def test_a_holiday_override_moves_open_deadlines(client, personas, make_case):
    from xiaobao.accounts.models import Role

    case = make_case()
    client.force_login(personas[(Role.ADMIN, "inside")])
    response = client.post(
        reverse("cases-calendar"), {"date": "2024-10-08", "is_workday": "0", "note": "测试调整"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert str(case.due_date) == "2024-10-09"


def test_stats_command_json_shape(make_case, clock):
    import json
    from io import StringIO

    from django.core.management import call_command

    make_case()
    make_case(kind="咨询", category="", channel="微信")
    out = StringIO()
    call_command("cases", "stats", "--from", "2024-09-20", "--to", "2024-09-20", "--by", "kind", stdout=out)
    data = json.loads(out.getvalue())
    keys = {
        "key",
        "count",
        "closed",
        "open",
        "median_days_to_close",
        "on_time_rate",
        "overdue_now",
        "extended",
        "regulator_forwarded",
    }
    assert set(data["total"]) == keys and all(set(g) == keys for g in data["groups"])
    assert {g["key"]: g["count"] for g in data["groups"]} == {"投诉": 1, "咨询": 1}
    out = StringIO()
    call_command("cases", "stats", "--from", "2024-09-21", stdout=out)
    assert json.loads(out.getvalue())["total"]["count"] == 0


def test_an_administrator_sets_work_order_targets_and_open_deadlines_follow(client, personas, make_case):
    from xiaobao.accounts.models import Role

    inquiry = make_case(kind="咨询", category="")  # received Friday 2024-09-20: 5 working days → 2024-09-27
    assert str(inquiry.due_date) == "2024-09-27"
    client.force_login(personas[(Role.OFFICER, "inside")])
    refused = client.post(
        reverse("cases-settings"),
        {"form": "target", "kind": "咨询", "channel": "", "response_workdays": 1, "resolution_workdays": 2},
    )
    assert refused.status_code == 403
    client.force_login(personas[(Role.ADMIN, "inside")])
    bad = client.post(
        reverse("cases-settings"),
        {"form": "target", "kind": "咨询", "channel": "", "response_workdays": 5, "resolution_workdays": 2},
    )
    assert bad.status_code == 400 and "响应时限不能长于办结时限" in bad.content.decode()
    ok = client.post(
        reverse("cases-settings"),
        {"form": "target", "kind": "咨询", "channel": "", "response_workdays": 1, "resolution_workdays": 2},
    )
    assert ok.status_code == 302
    inquiry.refresh_from_db()
    assert str(inquiry.due_date) == "2024-09-24"
    assert inquiry.deadline_rule == "咨询: 2个工作日办结"
    client.post(
        reverse("cases-settings"),
        {"form": "root", "code": "agent_fraud", "name": "代理退保黑产", "active": "on"},
    )
    from xiaobao.cases.models import RootCause

    assert RootCause.objects.get(code="agent_fraud").name == "代理退保黑产"


def test_the_stats_page_names_units_and_gives_days_to_one_decimal(client, personas, tree, make_case):
    import datetime as dt
    import json
    import re

    from xiaobao.accounts.models import Role
    from xiaobao.cases.models import Case, CaseStatus

    first = make_case(unit=tree["C1"])
    make_case(unit=tree["C1"])
    make_case(unit=tree["C2"], actor=personas[(Role.ADMIN, "outside")])
    Case.objects.filter(pk=first.pk).update(
        status=CaseStatus.CLOSED, closed_at=first.received_at + dt.timedelta(days=10, hours=8)
    )
    client.force_login(personas[(Role.ADMIN, "outside")])

    html = client.get(
        reverse("cases-stats"), {"by": "unit", "from": "2024-09-01", "to": "2024-09-30"}
    ).content
    html = html.decode()

    assert "<td>甲中心支公司 (C1)</td>" in html and "<td>乙中心支公司 (C2)</td>" in html
    assert '<td class="num">10.3</td>' in html  # 10 days 8 hours, not 10.33
    chart = json.loads(re.search(r'<script id="stats-data" type="application/json">(.*?)</script>', html)[1])
    assert chart["labels"] == ["甲中心支公司 (C1)", "乙中心支公司 (C2)"]  # the chart's too


def test_the_stats_page_reads_in_english_too(client, personas, make_case):
    from xiaobao.accounts.models import Role

    make_case()
    client.force_login(personas[(Role.ADMIN, "outside")])
    client.cookies["django_language"] = "en"

    html = client.get(
        reverse("cases-stats"), {"by": "channel", "from": "2024-09-01", "to": "2024-09-30"}
    ).content
    html = html.decode()

    assert ">By channel<" in html and "按渠道" not in html  # the grouping choices
    assert "<td>Total</td>" in html and "合计" not in html
    assert 'data-series-count="Cases"' in html and 'data-series-closed="Closed"' in html
