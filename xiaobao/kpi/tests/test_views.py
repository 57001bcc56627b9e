"""The unit's dashboard (the home page), the KPI page, drill-downs, snapshots and the quality index
pages over HTTP, with scope and constant query counts."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.kpi.models import KpiSnapshot, QualityIndicator, QualityValue
from xiaobao.kpi.tests.scenario import make_scenario_cases, write_scenario

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 1, 15, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def frozen_clock():
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


@pytest.fixture
def scenario(tree, make_case):
    write_scenario()
    make_scenario_cases(make_case)
    return tree


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    return response, response.content.decode()


def test_the_home_page_is_the_units_dashboard_with_drill_down_links(client, scenario, alice):
    response, html = page(client, alice, reverse("home-index") + "?period=2024")
    assert response.status_code == 200
    for kpi in (
        "complaints_count",
        "complaint_on_time_rate",
        "overdue_count",
        "persistency_13m",
        "persistency_25m",
        "surrender_rate_policies",
        "claims_median_days_to_pay",
        "quality_index",
    ):
        assert f'data-testid="tile-{kpi}"' in html, kpi
        assert f'id="trend-{kpi}" type="application/json"' in html, kpi
    complaints = re.search(r'data-testid="drill-complaints_count">(\d+)<', html)
    assert complaints.group(1) == "3"  # C1: K1, K2, K6
    assert "/cases/?kind=%E6%8A%95%E8%AF%89&amp;from=2024-01-01&amp;to=2024-12-31&amp;unit=C1" in html
    assert "/book/surrenders/?org=C1&amp;from=2024-01-01&amp;to=2024-12-31" in html
    assert "/book/policies/?org=C1&amp;from=2022-12-01&amp;to=2023-11-30" in html  # the 13-month cohort
    assert "/book/claims/?org=C1&amp;from=2024-01-01&amp;to=2024-12-31&amp;date=payment_date" in html
    assert "66.67%" in html  # persistency 13m for C1: 4000 / 6000
    # The CSP allows no inline script: every script is a file or JSON data.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "kpi/kpi.js" in html and "vendor/echarts.min.js" in html


def test_the_default_period_is_the_current_year_and_overdue_is_as_of_today(client, scenario, alice):
    _response, html = page(client, alice, reverse("home-index"))
    assert "2025" in html and "截至今天" in html
    assert re.search(r'data-testid="drill-overdue_count">(\d+)<', html).group(1) == "3"  # O2 O5 K6


def test_each_user_sees_their_units_figures(client, scenario, personas):
    outsider = personas[(Role.OFFICER, "outside")]
    _response, html = page(client, outsider, reverse("home-index") + "?period=2024")
    assert re.search(r'data-testid="drill-complaints_count">(\d+)<', html).group(1) == "1"  # C2: K7
    assert client.get(reverse("home-index") + "?unit=C1").status_code == 404
    admin = personas[(Role.ADMIN, "outside")]
    _response, html = page(client, admin, reverse("home-index") + "?period=2024")
    assert re.search(r'data-testid="drill-complaints_count">(\d+)<', html).group(1) == "4"  # the company


def test_a_bad_period_on_the_dashboard_is_a_400_in_chinese(client, tree, alice):
    response, html = page(client, alice, reverse("home-index") + "?period=2024Q9")
    assert response.status_code == 400 and "期间格式应为" in html


def test_the_dashboard_runs_a_constant_number_of_queries(client, tree, alice, make_case):
    write_scenario()
    client.force_login(alice)
    url = reverse("home-index") + "?period=2024"

    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first request creates the settings row
    few = count()
    make_scenario_cases(make_case)
    for i in range(30):
        make_case(received=dt.datetime(2024, 1 + i % 12, 3, 9), policy_no="A", on_time=True)
    assert count() == few
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)  # cached: no export, no engine
    assert len(ctx.captured_queries) < few


def test_the_kpi_page_lists_every_figure_with_its_definition_and_groups(client, scenario, alice):
    response, html = page(client, alice, reverse("kpi-index") + "?period=2024&by=channel")
    assert response.status_code == 200
    assert 'data-testid="kpi-persistency_13m"' in html and "13个月保费继续率" in html
    assert "剔除评估日或之前犹豫期撤单、理赔终止的保单" in html
    assert "个险" in html and "银保" in html
    assert 'data-testid="freeze"' in html  # an officer may freeze
    bad = client.get(reverse("kpi-index") + "?period=2024-00")
    assert bad.status_code == 400 and "期间格式应为" in bad.content.decode()
    assert client.get(reverse("kpi-index") + "?unit=C2").status_code == 404


def test_every_drill_link_into_the_core_data_pages_is_a_filter_those_pages_accept(client, scenario, alice):
    html = page(client, alice, reverse("kpi-index") + "?period=2024")[1]
    links = sorted(set(re.findall(r'href="(/book/[a-z]+/\?[^"]+)"', html)))
    assert {link.split("?")[0] for link in links} == {
        "/book/policies/",
        "/book/surrenders/",
        "/book/claims/",
    }, links
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        body = response.content.decode()
        assert response.status_code == 200 and 'role="alert"' not in body, (link, body[:2000])
    claims = client.get("/book/claims/?org=C1&from=2024-01-01&to=2024-12-31&status=paid").content.decode()
    assert 'role="alert"' in claims  # the filter the links used to carry is refused


def test_drill_down_lists_the_exact_population_masked(client, scenario, alice):
    response, html = page(client, alice, reverse("kpi-records", args=["persistency_13m"]) + "?period=2024")
    assert response.status_code == 200
    assert "共 3 条" in html  # C1's cohort: A, B, D
    assert "张*三" in html and "张小三" not in html
    response, html = page(
        client, alice, reverse("kpi-records", args=["surrender_rate_policies"]) + "?period=2024"
    )
    assert "共 10 条" in html  # in force at the start in C1
    url = reverse("kpi-records", args=["persistency_13m"]) + "?period=2024&by=channel&key=银保"
    assert "共 1 条" in client.get(url).content.decode()  # D (I is in C2)
    redirect = client.get(reverse("kpi-records", args=["complaints_count"]) + "?period=2024")
    assert redirect.status_code == 302 and redirect["Location"].startswith("/cases/?kind=")
    assert client.get(reverse("kpi-records", args=["no_such_kpi"]) + "?period=2024").status_code == 404


def test_freeze_recompute_and_compare_over_http(client, scenario, alice, personas):
    client.force_login(alice)
    response = client.post(reverse("kpi-freeze"), {"period": "2024", "unit": "C1"})
    snapshot = KpiSnapshot.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "kpi-snapshot-detail", args=[snapshot.pk]
    )
    assert snapshot.unit == scenario["C1"] and snapshot.computed_by == alice
    html = client.get(response["Location"]).content.decode()
    assert "v000001" in html and 'data-testid="recompute"' in html
    response = client.post(reverse("kpi-snapshot-recompute", args=[snapshot.pk]))
    fresh = KpiSnapshot.objects.latest("pk")
    assert response.status_code == 302 and f"a={snapshot.pk}&b={fresh.pk}" in response["Location"]
    html = client.get(response["Location"]).content.decode()
    assert "0 项指标不同" in html and "工单数据相同" in html
    handler = personas[(Role.HANDLER, "inside")]
    client.force_login(handler)
    assert client.post(reverse("kpi-freeze"), {"period": "2024"}).status_code == 403
    assert client.get(reverse("kpi-snapshot-detail", args=[snapshot.pk])).status_code == 200
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert client.get(reverse("kpi-snapshot-detail", args=[snapshot.pk])).status_code == 404


def test_the_administrator_edits_weights_targets_and_denominators(client, tree, personas):
    admin = personas[(Role.ADMIN, "inside")]
    client.force_login(admin)
    indicators = list(QualityIndicator.objects.all())
    data = {
        "premium_basis": "first_year",
        "policy_basis": "in_force_end",
        "insured_basis": "in_force_end",
        "claims_target_days": "5",
    }
    for ind in indicators:
        data |= {
            f"i{ind.pk}-weight": str(ind.weight),
            f"i{ind.pk}-target": str(ind.target),
            f"i{ind.pk}-direction": ind.direction,
        }
    delivery = next(i for i in indicators if i.code == "policy_delivery")
    wrong = data | {f"i{delivery.pk}-weight": "20"}
    response = client.post(reverse("kpi-quality-settings"), wrong)
    assert response.status_code == 400 and "权重合计应为 100" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.weight == Decimal("15.00")
    complaint_rate = next(i for i in indicators if i.code == "complaint_rate")
    ok = data | {
        f"i{delivery.pk}-weight": "20",
        f"i{complaint_rate.pk}-weight": "7.5",
        f"i{delivery.pk}-target": "0.99",
    }
    assert client.post(reverse("kpi-quality-settings"), ok).status_code == 302
    delivery.refresh_from_db()
    assert delivery.weight == Decimal("20.00") and delivery.target == Decimal("0.9900")
    from xiaobao.kpi.models import KpiSettings

    assert (
        KpiSettings.current().premium_basis == "first_year" and KpiSettings.current().claims_target_days == 5
    )
    client.force_login(personas[(Role.OFFICER, "inside")])
    assert client.post(reverse("kpi-quality-settings"), ok).status_code == 403


def test_an_officer_enters_hand_values_and_the_index_uses_them(client, scenario, alice, personas):
    client.force_login(alice)
    manual = QualityIndicator.objects.filter(source="")
    data = {"unit": "C1", "period": "2024"}
    for ind in manual:
        data |= {f"v{ind.pk}-value": "0.95", f"v{ind.pk}-note": "客服系统报表"}
    response = client.post(reverse("kpi-quality-values"), data)
    assert response.status_code == 302
    assert QualityValue.objects.filter(unit=scenario["C1"], period="2024").count() == manual.count() == 4
    html = client.get(reverse("home-index") + "?period=2024").content.decode()
    assert re.search(r'data-testid="grade">([A-D]+)<', html)
    # C2 is outside alice's units
    assert client.post(reverse("kpi-quality-values"), {**data, "unit": "C2"}).status_code == 404
    client.force_login(personas[(Role.UNIT_HEAD, "inside")])
    assert client.get(reverse("kpi-quality-values")).status_code == 403


def test_numerators_read_as_numbers_not_as_float_noise():
    from xiaobao.kpi.registry import format_value
    from xiaobao.kpi.templatetags.kpi_numbers import kpi_number

    assert kpi_number(8609.625468384722) == "8,609.6255"
    assert kpi_number(100.0) == "100" and kpi_number(-0.00001) == "0"
    assert kpi_number(Decimal("909316730.00")) == "909,316,730.00"
    assert kpi_number(121452) == "121,452" and kpi_number(150) == "150" and kpi_number(None) == "—"
    assert format_value("regulator_forwarded_count", 1234) == "1,234"
