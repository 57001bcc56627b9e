"""The desk's rows are written in Python (xiaobao/cases/desk_rows.py) instead of a template loop:
the same markup, cell for cell, in both languages, escaped the same way."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.db.models import BooleanField, Value
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from xiaobao.cases import selectors, views
from xiaobao.cases.desk_rows import ROW_FIELDS, render_rows
from xiaobao.cases.models import Case
from xiaobao.cases.selectors import CaseFilter, case_list

from .conftest import at

# The loop of cases/_table.html before the rows moved to Python, verbatim.
TEMPLATE_ROWS = """{% load i18n %}
  {% for c in page %}
    <tr{% if c.due_date and c.due_date < today and c.status in "登记受理处理中核查中" %} class="overdue"{% endif %}>
      {% if can_write %}<td><input type="checkbox" name="ids" value="{{ c.pk }}" aria-label="{{ c.case_no }}"></td>{% endif %}
      <td><a href="{% url 'cases-detail' c.pk %}">{{ c.case_no }}</a>{% if c.urgent %} <span class="badge bad">{% translate "急" %}</span>{% endif %}{% if c.claims_related %} <span class="badge">{% translate "赔" %}</span>{% endif %}{% if c.risk_flagged %} <span class="badge bad" data-testid="risk-badge" title="{% translate '客户信息命中疑似退保黑产信息库' %}">{% translate "黑产库" %}</span>{% endif %}</td>
      <td>{{ c.get_kind_display }}</td><td>{{ c.get_channel_display }}</td><td><span class="status s-{{ c.status }}">{{ c.get_status_display }}</span></td>
      <td class="masked">{{ c.customer.name_masked|default:"—" }}</td><td>{{ c.get_category_display|default:"—" }}</td>
      <td>{{ c.unit.name }}</td><td>{{ c.handler|default:"—" }}</td>
      <td>{{ c.received_at|date:"Y-m-d H:i" }}</td>
      <td title="{{ c.deadline_rule }}">{{ c.due_date|date:"Y-m-d"|default:"—" }}{% if c.deadline_provisional %} <span class="badge warn">{% translate "暂定" %}</span>{% endif %}</td>
    </tr>
  {% endfor %}"""


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def _make_varied(make_case, bob, tree):
    """Cases that exercise every branch of a row: urgent, claims, no customer, no handler, a
    handler and unit whose names need escaping, a provisional deadline, overdue and paused,
    a work order without category, received just before midnight in Shanghai."""
    cases = [
        make_case(urgent=True, claims_related=True, category="理赔纠纷"),
        make_case(kind="咨询", category="", channel="柜面", customer_name="", customer_phone=""),
        make_case(received_at=at("2024-09-19 23:59")),
        make_case(),
        make_case(),
    ]
    bob.display_name = "<b>鲍&\"勃'</b>"
    bob.save(update_fields=["display_name"])
    Case.objects.filter(pk=cases[0].pk).update(handler=bob, deadline_provisional=True)
    Case.objects.filter(pk=cases[2].pk).update(due_date=dt.date(2024, 9, 1), deadline_rule='规则 "A" <15日>')
    Case.objects.filter(pk=cases[3].pk).update(due_date=dt.date(2024, 9, 1), status="暂停")
    Case.objects.filter(pk=cases[4].pk).update(due_date=None, status="已办结")
    unit = tree["C1"]
    unit.name = "中心支公司 <&>"
    unit.save(update_fields=["name"])
    return cases


@pytest.mark.parametrize("can_write", [True, False])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rows_are_the_markup_the_template_wrote(alice, make_case, bob, tree, clock, can_write, language):
    _make_varied(make_case, bob, tree)
    today = dt.date(2024, 9, 20)
    cases = list(
        case_list(user=alice, f=CaseFilter())
        .only(*ROW_FIELDS)
        .annotate(risk_flagged=Value(False, output_field=BooleanField()))
    )
    cases[1].risk_flagged = True
    with translation.override(language):
        expected = Template(TEMPLATE_ROWS).render(
            Context({"page": cases, "can_write": can_write, "today": today})
        )
        written = render_rows(cases, can_write=can_write, today=today)
    assert _tags(written) == _tags(expected)
    assert written.count("<tr") == 5 and 'class="overdue"' in written


def test_the_desk_shows_the_rows_and_an_empty_list_says_so(client, alice, make_case):
    client.force_login(alice)
    empty = client.get(reverse("cases-desk")).content.decode()
    assert "没有符合条件的工单" in empty
    case = make_case()
    page = client.get(reverse("cases-desk")).content.decode()
    assert "没有符合条件的工单" not in page
    assert f'<a href="{reverse("cases-detail", args=[case.pk])}">{case.case_no}</a>' in page
    assert "张*三" in page and "13812345678" not in page


def test_desk_counts_are_the_sizes_of_the_tabs_lists(alice, make_case, bob, tree, clock):
    _make_varied(make_case, bob, tree)
    extra = make_case(urgent=True)
    Case.objects.filter(pk=extra.pk).update(response_due_date=dt.date(2024, 9, 20), responded_at=None)
    make_case(urgent=True)
    Case.objects.filter(pk=make_case().pk).update(due_date=dt.date(2024, 9, 20), status="暂停")
    Case.objects.filter(pk=make_case().pk).update(due_date=dt.date(2024, 9, 20))
    Case.objects.filter(unit=tree["C1"]).exclude(status="暂停").update(handler=alice)
    counts = selectors.desk_counts(user=alice)
    for view in ("mine", "unit", "due_today", "overdue", "urgent"):
        assert counts[view] == case_list(user=alice, f=CaseFilter(view=view)).count(), view
    assert all(counts[v] for v in ("mine", "due_today", "overdue", "urgent")), counts


@pytest.mark.parametrize("sort", list(selectors.SORTS))
def test_a_page_read_by_id_has_the_rows_of_the_slice_in_order(alice, make_case, sort):
    for i in range(7):
        make_case(received_at=at(f"2024-09-1{i % 3} 10:00"))  # ties on received_at: the id decides
    cases = case_list(user=alice, f=CaseFilter(sort=sort))
    paginator = views.CappedPaginator(cases, 3, cap=100)
    for number in (1, 2, 3):
        expected = [c.pk for c in paginator.page(number).object_list]
        read = views._page_rows(paginator.page(number).object_list, cases.query.order_by)
        assert [c.pk for c in read] == expected
    assert len(expected) == 1


def test_a_filter_change_renders_the_table_only(client, alice, make_case):
    client.force_login(alice)
    case = make_case()
    response = client.get(
        reverse("cases-desk"), {"kind": "投诉"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="case-table"
    )
    body = response.content.decode()
    assert case.case_no in body and "共 1 条" in body
    assert 'class="tabs"' not in body and "<html" not in body


def test_postgresql_samples_the_searched_expression_finely(db):
    """Migrations 0006 and 0007: a rare phrase must look rare to the planner, a 2-character
    term of 1 % not like one of 0.01 % (see the migrations)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attnum = 1 "
            "AND attrelid = 'cases_case_description_upper_trgm'::regclass"
        )
        assert cursor.fetchone()[0] == 200
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attname = 'description' "
            "AND attrelid = 'cases_case'::regclass"
        )
        assert cursor.fetchone()[0] == 200


def test_the_count_of_a_search_counts_the_listed_cases(alice, make_case, monkeypatch):
    """On PostgreSQL the count of a phrase without cased letters adds a plain LIKE; on SQLite the
    count of a common term is driven by rowid; same cases."""
    for i in range(3):
        make_case(description=f"第 {i} 位客户反映退保损失过大")
    make_case(description="客户反映退保 损失")
    for q in ("退保损失", "APP", "损失"):
        f = CaseFilter(q=q)
        listed = set(case_list(user=alice, f=f).values_list("pk", flat=True))
        assert set(case_list(user=alice, f=f, counting=True).values_list("pk", flat=True)) == listed
        # SQLite: every term its index serves (3 characters, or 2 without case) may count by rowid.
        assert selectors.counts_differently(q) == (connection.vendor == "sqlite" or q == "退保损失")
    monkeypatch.setattr(views, "COUNT_CAP", 10)
    page = views.CappedPaginator(
        case_list(user=alice, f=CaseFilter(q="退保损失")),
        50,
        cap=10,
        count_list=case_list(user=alice, f=CaseFilter(q="退保损失"), counting=True),
    ).get_page(1)
    assert page.paginator.count == 3 == len(page.object_list)


def test_the_overdue_view_lists_what_overdue_q_selects(alice, make_case, bob, tree, clock):
    """On SQLite the desk compares the deadline through a unary plus (index choice only)."""
    from django.db import connection

    _make_varied(make_case, bob, tree)
    Case.objects.filter(pk=make_case().pk).update(due_date=dt.date(2024, 9, 20))  # due today: not yet
    today = dt.date(2024, 9, 20)
    expected = set(
        selectors.case_scope(alice).filter(selectors.overdue_q(today)).values_list("pk", flat=True)
    )
    for f in (CaseFilter(view="overdue"), CaseFilter(overdue=True)):
        cases = case_list(user=alice, f=f, today=today)
        assert set(cases.values_list("pk", flat=True)) == expected and len(expected) == 1
        assert ("(+" in str(cases.query)) == (connection.vendor == "sqlite")


def test_a_short_term_found_often_lists_the_same_cases_in_its_walking_form(
    client, alice, make_case, monkeypatch
):
    """On PostgreSQL a short term over its count cap is matched with strpos() for the page (plan only)."""
    cases = [make_case(description=f"第 {i} 位客户称小腿骨折后申请理赔") for i in range(5)]
    make_case(description="客户咨询保单贷款")
    f = CaseFilter(q="骨折")
    listed = list(case_list(user=alice, f=f).values_list("pk", flat=True))
    assert list(case_list(user=alice, f=f, many=True).values_list("pk", flat=True)) == listed
    assert selectors.short_search_plan_differs("骨折") == (connection.vendor == "postgresql")
    assert not selectors.short_search_plan_differs("ap") and not selectors.short_search_plan_differs("骨折了")
    monkeypatch.setattr(views, "SHORT_SEARCH_COUNT_CAP", 2)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client.force_login(alice)
    newest_first = sorted(cases, key=lambda c: (c.received_at, c.pk), reverse=True)
    # Counted up to cap + 1 = 3 rows: page 2 holds the third (test_pages_past_the_cap_stay_reachable).
    for number, expected in ((1, newest_first[:2]), (2, newest_first[2:3])):
        # One character: short on either database (SQLite's index serves two, test_desk_at_scale).
        page = client.get(reverse("cases-desk"), {"q": "骨", "page": number}).content.decode()
        assert "超过 2 条" in page
        shown = [c.case_no for c in cases if c.case_no in page]
        assert sorted(shown) == sorted(c.case_no for c in expected)
