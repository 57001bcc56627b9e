"""The unit's dashboard in Debian's chromium: the trend charts draw (ECharts from local files, data
from json_script), no CSP violation or console error, and a click on a tile's figure drills down."""

import re

import pytest
from playwright.sync_api import expect

from xiaobao.accounts.models import Role
from xiaobao.kpi.tests.scenario import make_scenario_cases, write_scenario
from xiaobao.tests.browser_support import CHROMIUM
from xiaobao.tests.test_browser import audit_log_flushable, browser, log_in, page, shot, watch  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed: apt-get install chromium"
    ),
]


def test_the_dashboard_draws_its_trends_and_drills_down(page, watch, shot, personas, make_case):  # noqa: F811
    write_scenario()
    make_scenario_cases(make_case)
    officer = personas[(Role.OFFICER, "inside")]
    log_in(page, watch, officer.username)
    page.goto("/?period=2024")
    expect(page.get_by_test_id("tile-persistency_13m")).to_contain_text("66.67%")
    expect(page.locator("[data-chart='trend-complaints_count'] svg")).to_have_count(1)
    assert page.locator(".kpi-chart svg").count() == 8
    shot("dashboard")
    page.get_by_test_id("drill-complaints_count").click()
    expect(page).to_have_url(
        re.compile(r"/cases/\?kind=%E6%8A%95%E8%AF%89&from=2024-01-01&to=2024-12-31&unit=C1$")
    )
    shot("drilled-to-cases")
    page.goto("/kpi/?period=2024Q4&by=month")
    expect(page.get_by_test_id("kpi-persistency_13m")).to_contain_text("13个月保费继续率")
    shot("kpi-page")
    page.get_by_test_id("freeze").click()
    expect(page.get_by_test_id("snapshot-meta")).to_contain_text("v000001")
    shot("snapshot")
