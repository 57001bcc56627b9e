"""The customer's 联系地址 through the three ways a case is registered: the form, the API and the
cases import (an optional column). Stored on the customer encrypted, tokenised and masked; a listed
address flags the case at intake (xiaobao.risk)."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from xiaobao.cases.models import Case
from xiaobao.customers.models import Customer
from xiaobao.imports.models import ImportChange
from xiaobao.imports.tests.files import read_errors, run_import, write_csv
from xiaobao.privacy.services import holder_decrypt, personal_token
from xiaobao.risk.models import WatchKind, WatchlistHit
from xiaobao.risk.services import watch_add

pytestmark = pytest.mark.django_db

ADDRESS = "山东省青岛市市南区香港中路10号3号楼1203室"
SPELLED_OTHERWISE = "山东省青岛市市南区香港中路 １０ 号 3#楼 1203 室。"
HEADER = [
    "工单号",
    "受理时间",
    "工单类型",
    "来源渠道",
    "客户姓名",
    "来电号码",
    "联系地址",
    "责任机构",
    "投诉事由",
    "诉求内容",
]


def row(case_no, name="张小三", phone="13812345678", address=ADDRESS, description="要求全额退保"):
    return [
        case_no,
        "2024-09-19 10:00",
        "投诉",
        "4008热线",
        name,
        phone,
        address,
        "C1",
        "销售纠纷",
        description,
    ]


def address_token(case_no: str) -> str:
    return Case.objects.select_related("customer").get(case_no=case_no).customer.address_token


def test_the_import_records_the_address_on_the_customer(tree, clock, tmp_path):
    rows = [HEADER, row("TS-1"), row("TS-2", name="李四", phone="13900001111", address=SPELLED_OTHERWISE)]
    rows += [
        row("TS-3", name="", phone="", address=ADDRESS),
        row("TS-4", name="王五", phone="13700001111", address="不详"),
    ]

    summary = run_import("cases", write_csv(tmp_path / "cases.csv", rows))

    assert (summary["created"], summary["rejected"]) == (3, 1)
    (error,) = read_errors(summary["errors_file"])
    assert error["工单号"] == "TS-3" and "联系地址须与客户姓名、电话或证件号码一同填写" in error["错误原因"]
    first = Case.objects.select_related("customer").get(case_no="TS-1").customer
    assert first.address_masked == "山东省青岛市****"
    assert holder_decrypt(first, "address") == ADDRESS
    # Two people at one address: one token, two customers.
    assert address_token("TS-1") == address_token("TS-2") == personal_token("address", ADDRESS)
    assert address_token("TS-4") == ""  # 不详 is no address


def test_an_address_changes_the_customer_not_who_the_customer_is(tree, clock, tmp_path):
    run_import("cases", write_csv(tmp_path / "v1.csv", [HEADER, row("TS-1")]))
    customer = Case.objects.get(case_no="TS-1").customer_id

    again = run_import(
        "cases", write_csv(tmp_path / "v2.csv", [HEADER, row("TS-1", address=SPELLED_OTHERWISE)])
    )
    blank = run_import("cases", write_csv(tmp_path / "v3.csv", [HEADER, row("TS-1", address="")]))
    moved = run_import(
        "cases", write_csv(tmp_path / "v4.csv", [HEADER, row("TS-1", address="青岛市崂山区海尔路1号")])
    )

    assert (again["unchanged"], blank["unchanged"]) == (1, 1)  # the same address; no address given
    assert moved["updated"] == 1
    case = Case.objects.select_related("customer").get(case_no="TS-1")
    assert case.customer_id == customer and Customer.objects.count() == 1
    assert case.customer.address_token == personal_token("address", "青岛市崂山区海尔路1号")
    change = ImportChange.objects.get()
    assert change.changes == {"customer_address": ["山东省青岛市****", "青岛市****"]}


def test_an_imported_case_at_a_listed_address_is_flagged(tree, clock, tmp_path, alice):
    entry = watch_add(
        actor=alice,
        kind=WatchKind.ADDRESS,
        token=personal_token("address", ADDRESS),
        masked="山东省青岛市****",
        reason="代办机构的通讯地址",
        unit=tree["C1"],
    )
    rows = [
        HEADER,
        row("TS-1", address=SPELLED_OTHERWISE),
        row("TS-2", name="李四", phone="13900001111", address=""),
    ]

    run_import("cases", write_csv(tmp_path / "cases.csv", rows))

    assert list(WatchlistHit.objects.values_list("case__case_no", "entry")) == [("TS-1", entry.pk)]


def test_the_form_takes_an_address(client, alice, tree, clock):
    client.force_login(alice)
    response = client.post(
        reverse("cases-new"),
        {
            "kind": "投诉",
            "channel": "4008热线",
            "unit": "C1",
            "category": "销售纠纷",
            "customer_name": "张小三",
            "customer_phone": "13812345678",
            "customer_address": SPELLED_OTHERWISE,
            "description": "要求全额退保",
        },
    )
    assert response.status_code == 302
    assert Case.objects.get().customer.address_token == personal_token("address", ADDRESS)
    assert "联系地址" in client.get(reverse("cases-new")).content.decode()


def test_the_api_takes_an_address_and_refuses_one_too_long(alice, tree, clock):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=alice)[0].key}")
    complaint = {
        "unit": "C1",
        "kind": "投诉",
        "channel": "4008热线",
        "category": "销售纠纷",
        "description": "要求全额退保",
        "customer_name": "张小三",
        "customer_phone": "13812345678",
        "customer_address": ADDRESS,
    }

    created = client.post(reverse("api-cases"), complaint, format="json")
    refused = client.post(reverse("api-cases"), {**complaint, "customer_address": "㍿" * 60}, format="json")

    assert created.status_code == 201, created.content
    assert ADDRESS not in created.content.decode()
    assert Case.objects.get().customer.address_masked == "山东省青岛市****"
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"customer_address"}
