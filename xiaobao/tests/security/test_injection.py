"""SQL injection through every filter and search, run on whichever database the suite runs on
(SQLite and PostgreSQL in CI).

A scoped user (the officer of unit A) sends each hostile value in each query parameter a page reads.
Nothing may answer 500; unit B's marker never appears (no row outside the scope); the page never
shows more of unit A's rows than without the parameter; and afterwards every table still holds
exactly what it held before.
"""

import io

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from xiaobao.accounts.models import Role
from xiaobao.tests.security.crawl import body_of, changed, fingerprint, matrix_urls
from xiaobao.tests.security.world import MARKS

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "' OR 1=1 --",
    "%' UNION SELECT username, password FROM accounts_user; DROP TABLE cases_case;--",
    '’ OR ＇1＇=＇1＇ -- %_\\" /C2/',  # curly and full-width quotes, LIKE wildcards, a unit path
    "a\x00b",
    "9" * 30,  # too large for any integer column
    "长" * 3000 + "'",
]
# The free-form parameters each filter or search reads (grep request.GET), by page. Parameters
# checked against a list of choices are covered by the sweep over every page below.
FILTERS = {
    ("cases-desk", ()): ["unit", "handler", "from", "q", "page"],
    ("cases-export", ()): ["q", "handler"],
    ("api-cases", ()): ["unit", "handler", "q"],
    ("cases-stats", ()): ["from", "to"],
    ("cases-rectification-new", ()): ["cases"],
    ("customers-list", ()): ["q", "page"],
    ("accounts-users", ()): ["q"],
    ("audit-list", ()): ["actor", "action", "object", "from"],
    ("imports-batches", ()): ["page"],
    ("book-table", ("policies",)): ["org", "from", "in_force", "policy_no", "product", "agent", "page"],
    ("book-table", ("premiums",)): ["year"],
    ("book-table", ("surrenders",)): ["complaint", "full_refund"],
    ("education-index", ()): ["year", "campaign", "unit", "q"],
    ("reviews-index", ()): ["q"],
    ("reviews-stats", ()): ["unit", "from"],
    ("governance-index", ()): ["unit"],
    ("governance-rules", ()): ["category"],
    ("governance-issues", ()): ["year"],
    ("governance-issue-new", ()): ["case"],
    ("governance-bulletin-new", ()): ["issue"],
    ("risk-alerts", ()): ["status", "kind"],
    ("training-index", ()): ["kind", "unit"],
    ("kpi-index", ()): ["period", "unit"],
    ("kpi-records", ("persistency_13m",)): ["unit", "page", "key"],
    ("kpi-snapshot-compare", ()): ["a"],
    ("kpi-quality-values", ()): ["unit", "period"],
    ("home-index", ()): ["period", "unit"],
}
# What the pages themselves need to show rows at all (kpi-records a period, the compare two snapshots).
NEEDS = {"kpi-records": {"period": "2024"}, "kpi-snapshot-compare": {"a": "1", "b": "1"}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def text_of(response) -> str:
    if response.get("Content-Type", "").startswith(XLSX):
        data = b"".join(response.streaming_content) if response.streaming else response.content
        book = load_workbook(io.BytesIO(data))
        return "\n".join(str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r if c.value)
    return body_of(response)


@pytest.fixture
def officer(world):
    client = Client(raise_request_exception=False)  # a crash is a 500 to count, not the test's end
    client.force_login(world["people"][(Role.OFFICER, "A")])
    return client


def probe(client, url, params, baseline: int, problems: list, label: str) -> None:
    response = client.get(url, params)
    if response.status_code >= 500:
        problems.append(f"{label}: {response.status_code}")
        return
    text = text_of(response)
    if MARKS["B"] in text:
        problems.append(f"{label}: unit B's records shown")
    if text.count(MARKS["A"]) > baseline:
        problems.append(f"{label}: {text.count(MARKS['A'])} rows of unit A > {baseline} without it")


def unchanged_but_exports(before: dict, last_audit: int) -> None:
    """Every table as it was; the audit trail only grew by the downloads it records."""
    from xiaobao.audit.models import AuditEntry

    assert changed(before, fingerprint()) in ([], ["audit.auditentry"])
    assert set(AuditEntry.objects.filter(seq__gt=last_audit).values_list("action", flat=True)) <= {
        "export",
        "report_download",
    }


def last_audit() -> int:
    from xiaobao.audit.models import AuditEntry

    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_every_filter_and_search_parameter_resists_injection(world, officer):
    before, audited = fingerprint(), last_audit()
    problems = []
    for (name, args), params in FILTERS.items():
        url = reverse(name, args=args)
        need = NEEDS.get(name, {})
        baseline = text_of(officer.get(url, need)).count(MARKS["A"])
        for param in params:
            for payload in PAYLOADS:
                label = f"{name}{list(args) or ''} {param}={payload[:30]!r}"
                probe(officer, url, need | {param: payload}, baseline, problems, label)
    assert not problems, "\n".join(problems)
    unchanged_but_exports(before, audited)


def test_every_page_resists_injection_in_any_parameter(world, officer):
    """Each page at all, every parameter name of the product at once, for the values most likely to
    break a query: quotes, a NUL byte, a number too large for any column."""
    from xiaobao.tests.security.test_xss import PARAMS

    before, audited = fingerprint(), last_audit()
    problems = []
    for name, url, _method in matrix_urls(world["A"], "get"):
        baseline = text_of(officer.get(url)).count(MARKS["A"])
        for payload in (PAYLOADS[0], PAYLOADS[3], PAYLOADS[4]):
            probe(officer, url, dict.fromkeys(PARAMS, payload), baseline, problems, f"{name} {payload!r}")
    assert not problems, "\n".join(problems)
    unchanged_but_exports(before, audited)


def test_posted_row_numbers_resist_injection(world):
    """Forms that post a row's number outside a Django form field (the calendar's and the work-order
    targets' delete buttons, the desk's bulk actions): as the administrator, who may use them all."""
    client = Client(raise_request_exception=False)
    client.force_login(world["people"][(Role.ADMIN, "A")])
    case = world["A"]["case"]
    posts = [
        ("cases-calendar", lambda p: {"delete": p}),
        ("cases-settings", lambda p: {"delete_target": p}),
        ("cases-bulk", lambda p: {"action": "assign", "ids": p}),
        ("cases-bulk", lambda p: {"action": "assign", "ids": case.pk, "handler": p}),
        ("cases-bulk", lambda p: {"action": "merge", "ids": case.pk, "merged_into": p}),
        ("cases-rectification-new", lambda p: {"title": "整改", "case_nos": p, "due_date": "2030-01-01"}),
    ]
    before = fingerprint()
    problems = []
    for name, data in posts:
        for payload in PAYLOADS:
            response = client.post(reverse(name), data(payload))
            if response.status_code >= 500:
                problems.append(f"{name} {sorted(data(payload))} {payload[:30]!r}: {response.status_code}")
    assert not problems, "\n".join(problems)
    assert changed(before, fingerprint()) == []


def test_a_nul_character_anywhere_is_refused_before_the_view(world, officer):
    """PostgreSQL cannot hold or compare text with a NUL: in a query, a form or the path it is a 400."""
    rect = world["A"]["rect"]
    submit = officer.post(reverse("cases-rectification-submit", args=[rect.pk]), {"measures": "培训\x00完毕"})
    unit = officer.get(reverse("org-unit-detail", args=["C1\x00"]))
    search = officer.get(reverse("customers-list"), {"q": "张\x00"})
    assert (submit.status_code, unit.status_code, search.status_code) == (400, 400, 400)
    assert "请求无效" in search.content.decode()
    rect.refresh_from_db()
    assert rect.status == "整改中" and "\x00" not in rect.measures


def test_the_search_finds_text_with_quotes_literally(world, officer):
    """The counter-proof that the payloads were searched for, not ignored: a description holding one
    of them is found by it, and only that one."""
    from xiaobao.cases.services import case_create

    payload = PAYLOADS[0]
    case = case_create(
        actor=world["people"][(Role.OFFICER, "A")],
        unit=world["A"]["unit"],
        kind="咨询",
        channel="4008热线",
        description=f"客户说 {payload} 是什么意思",
    )
    found = officer.get(reverse("cases-desk"), {"q": payload}).content.decode()
    assert case.case_no in found and world["A"]["case"].case_no not in found
    api = officer.get(reverse("api-cases"), {"q": payload}).json()
    assert [c["case_no"] for c in api["results"]] == [case.case_no]


def test_the_tables_are_intact(world):
    from xiaobao.accounts.models import User
    from xiaobao.cases.models import Case

    assert Case.objects.filter(unit__code__in=["C1", "C2"]).count() == 4
    assert User.objects.filter(username__startswith="officer_").count() == 2
    tables = set(connection.introspection.table_names())
    assert {"cases_case", "accounts_user", "audit_auditentry", "org_unit"} <= tables
