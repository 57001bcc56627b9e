"""个人信息删除: a customer's personal data erased on request by crypto-shredding their data key and
scrubbing every version of the Parquet store, while statistics, snapshots and the audit chain stay."""

import datetime as dt
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.book import store
from xiaobao.book.erasure import ERASED
from xiaobao.cases.models import Case
from xiaobao.cases.services import case_create
from xiaobao.customers.models import Customer
from xiaobao.kpi import engine, services
from xiaobao.kpi.periods import parse_period
from xiaobao.kpi.tests.book import D, policy, surrender, write
from xiaobao.privacy.services import holder_decrypt, personal_token

pytestmark = pytest.mark.django_db

ID_NO = "11010519491231002X"
PHONE = "13812345678"
ACCOUNT = "6222020202026789"


@pytest.fixture
def person(tree, personas):
    """A customer with two complaints, two policies held (one insuring them too), a surrender paid
    into their account, and a bystander with a policy and a surrender of their own."""
    officer = personas[(Role.OFFICER, "inside")]
    cases = [
        case_create(
            actor=officer,
            unit=tree["C1"],
            kind="投诉",
            channel="4008热线",
            category="销售纠纷",
            description=f"第 {i} 次投诉: 要求全额退保",
            customer_name="张小三",
            customer_phone=PHONE,
            customer_id_no=ID_NO,
            received_at=dt.datetime(2024, 5, 6 + i, 9, tzinfo=dt.UTC),
        )
        for i in range(2)
    ]
    customer = cases[0].customer
    Customer.objects.filter(pk=customer.pk).update(account_token=personal_token("account", ACCOUNT))
    me = {
        "applicant_id_no_token": personal_token("id_no", ID_NO),
        "applicant_name_token": personal_token("name", "张小三"),
        "applicant_phone_token": personal_token("phone", PHONE),
        "applicant_id_no_masked": "1101**********002X",
        "applicant_id_no_enc": b"sealed-me",
    }
    policies = [
        policy("MINE1", effective_date=D(2023, 3, 1), insured_id_no_token=me["applicant_id_no_token"], **me),
        policy("MINE2", effective_date=D(2023, 4, 1), **me),
        policy(
            "OTHER", effective_date=D(2023, 5, 1), applicant_id_no_token="T-OTHER", applicant_id_no_enc=b"x"
        ),
    ]
    write("policies", policies)
    mine = {"contact_phone_token": me["applicant_phone_token"], "payee_name_enc": b"sealed-payee"}
    write(
        "surrenders",
        [
            surrender("MINE2", D(2024, 6, 3), full_refund=True, **mine),
            surrender("OTHER", D(2024, 6, 4), payee_account_token=personal_token("account", ACCOUNT)),
            surrender("OTHER", D(2024, 7, 4), payee_account_token="T-OTHER-ACCOUNT", payee_name_enc=b"y"),
        ],
    )
    # A second version of policies (a later import): erasure must reach both.
    write("policies", [*policies, policy("NEW", effective_date=D(2024, 2, 1))])
    return customer


def _erase(client, user, customer, reason="客户书面申请删除个人信息 (申请编号 SQ-2025-001)"):
    client.force_login(user)
    return client.post(reverse("customers-erase", args=[customer.pk]), {"reason": reason})


def _rows(table: str, version: str) -> list[dict]:
    return pq.read_table(store.table_dir(table) / version).to_pylist()


def test_erasure_shreds_the_key_scrubs_every_store_version_and_keeps_every_figure(
    client, person, personas, tree
):
    admin = personas[(Role.ADMIN, "outside")]
    period = parse_period("2024")
    before = engine.to_json(engine.compute(period=period, unit=tree["C1"]).results)
    snapshot = services.snapshot_freeze(actor=admin, period=period, unit=tree["C1"])
    ciphertext = bytes(person.phone_enc)

    response = _erase(client, admin, person)

    assert response.status_code == 302
    erased = Customer.objects.select_related("subject").get(pk=person.pk)
    assert erased.subject.erased_at is not None and erased.subject.wrapped_dek is None
    assert (erased.name_masked, erased.id_no_token, erased.phone_enc) == ("", "", None)
    erased.phone_enc = ciphertext  # as a backup would still hold it
    with pytest.raises(ValidationError, match="已按要求删除"):
        holder_decrypt(erased, "phone")
    for version in store.versions("policies"):
        rows = {r["policy_no"]: r for r in _rows("policies", version)}
        for no in ("MINE1", "MINE2"):
            assert rows[no]["applicant_id_no_enc"] is None and rows[no]["applicant_name_masked"] == ERASED
            assert rows[no]["applicant_id_no_token"].startswith("erased:")
        assert rows["MINE1"]["insured_id_no_token"] == rows["MINE1"]["applicant_id_no_token"]  # one pseudonym
        assert (
            rows["OTHER"]["applicant_id_no_enc"] == b"x"
            and rows["OTHER"]["applicant_id_no_token"] == "T-OTHER"
        )
    surrenders = _rows("surrenders", store.current_version("surrenders"))
    assert [r["payee_name_enc"] for r in surrenders] == [None, None, b"y"]
    assert [r["contact_phone_token"] or "" for r in surrenders][0].startswith("erased:")
    assert surrenders[2]["payee_account_token"] == "T-OTHER-ACCOUNT"
    # Statistics: the cases stay, every KPI and the frozen snapshot reproduce exactly.
    assert Case.objects.filter(customer=person).count() == 2
    assert engine.to_json(engine.compute(period=period, unit=tree["C1"]).results) == before
    assert services.snapshot_recompute(actor=admin, snapshot=snapshot).results == snapshot.results
    entry = AuditEntry.objects.filter(action="erase", object_type="customers.customer").get()
    assert entry.details["store_policies"] == 2 and entry.details["store_surrenders"] == 2
    call_command("audit", "verify")  # raises when the chain is broken


def test_only_an_administrator_erases_and_only_once_with_a_reason(client, person, personas):
    officer = personas[(Role.OFFICER, "inside")]
    assert _erase(client, officer, person).status_code == 403
    admin = personas[(Role.ADMIN, "outside")]
    short = _erase(client, admin, person, reason="删")
    assert short.status_code == 400 and "删除依据至少 4 个字" in short.content.decode()
    assert Customer.objects.get(pk=person.pk).subject.erased_at is None
    assert _erase(client, admin, person).status_code == 302
    again = _erase(client, admin, person)
    assert again.status_code == 400 and "的个人信息已于" in again.content.decode()
    page = client.get(reverse("customers-detail", args=[person.pk])).content.decode()
    assert "按要求删除" in page and 'data-testid="erase-link"' not in page


def test_amounts_and_counts_of_the_store_are_untouched(person, personas):
    before = {t: _rows(t, store.current_version(t)) for t in ("policies", "surrenders")}
    from xiaobao.customers.services import customer_erase

    customer_erase(actor=personas[(Role.ADMIN, "outside")], customer=person, reason="客户依法申请删除")
    for table, rows in before.items():
        after = _rows(table, store.current_version(table))
        assert len(after) == len(rows)
        for old, new in zip(rows, after, strict=True):
            kept = {k: v for k, v in old.items() if not k.endswith(("_enc", "_masked", "_token"))}
            assert {k: new[k] for k in kept} == kept
    assert sum(r["amount"] for r in after) == Decimal("1500.00")
