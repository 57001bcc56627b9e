"""Browser test: an officer records an education activity (an absurd reach is refused first), links
its evidence, reads the statistics chart, then starts the year's self-assessment, sees the pre-filled
figure with its source, and scores an indicator by hand."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from xiaobao.accounts.models import Role
from xiaobao.assessment.models import Assessment
from xiaobao.assessment.services import catalogue_create
from xiaobao.education.models import Activity
from xiaobao.tests import test_browser as shared
from xiaobao.tests.test_browser import log_in

pytestmark = shared.pytestmark
browser, audit_log_flushable, page, watch, shot = (
    shared.browser,
    shared.audit_log_flushable,
    shared.page,
    shared.watch,
    shared.shot,
)


@pytest.fixture
def catalogue(transactional_db):
    return catalogue_create(actor=None, year=timezone.localdate().year)


def test_an_activity_its_statistics_and_the_self_assessment(page, watch, shot, personas, catalogue):
    alice = personas[(Role.OFFICER, "inside")]
    year = timezone.localdate().year
    messages = page.locator("ul.messages")
    log_in(page, watch, alice.username)
    page.locator("nav.mainnav").get_by_role("link", name="金融教育").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("金融教育")
    page.get_by_test_id("education-new").click()
    page.get_by_label("机构", exact=True).select_option(label="甲中心支公司 (C1)")
    page.get_by_label("形式", exact=True).select_option("线下")
    page.get_by_label("所属活动", exact=True).fill("守住钱袋子")
    page.get_by_label("主题", exact=True).fill("金融知识下乡 守住钱袋子")
    page.get_by_label("地点", exact=True).fill("甲市幸福村村委会")
    page.get_by_label("受众", exact=True).select_option("农村居民")
    page.get_by_label("触达人数", exact=True).fill("30000000")
    watch.expect_console_error(r"status of 400 .*/education/new/\)$")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_test_id("activity-form").get_by_role("alert")).to_contain_text("辖区人口上限")
    shot("absurd-reach-refused")
    page.get_by_label("触达人数", exact=True).fill("260")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(messages).to_contain_text("已登记活动")
    page.get_by_label("链接", exact=True).fill("https://www.example.com/news/1")
    page.get_by_label("说明", exact=True).fill("宣传稿")
    page.get_by_role("button", name="添加链接").click()
    expect(page.get_by_test_id("activity-evidence")).to_contain_text("宣传稿")
    shot("activity")

    page.get_by_role("link", name="返回台账").click()
    page.get_by_role("link", name="统计", exact=True).click()
    expect(page.get_by_test_id("education-headlines")).to_contain_text("260")
    expect(page.locator("#education-chart svg")).to_have_count(1)
    shot("stats")

    page.locator("nav.mainnav").get_by_role("link", name="消保自评").click()
    page.get_by_label("机构", exact=True).select_option(label="甲中心支公司 (C1)")
    page.get_by_role("button", name="建立并预填").click()
    expect(messages).to_contain_text("已建立自评并预填系统数据")
    figure = page.get_by_test_id("figure-EDU-02")
    expect(figure).to_contain_text("1 场")
    expect(figure).to_contain_text("线下金融教育活动场次")
    block = page.get_by_test_id("indicator-GOV-02")
    block.get_by_label("得分", exact=True).fill("9")
    block.get_by_label("自评说明", exact=True).fill("年度计划经委员会审议")
    block.get_by_role("button", name="保存得分").click()
    expect(page.get_by_test_id("score-GOV-02")).to_have_text("9.00")
    shot("self-assessment")

    activity = Activity.objects.get()
    assert (activity.reach, activity.unit.code, activity.evidence.count()) == (260, "C1", 1)
    assessment = Assessment.objects.get(catalogue__year=year)
    assert assessment.scores.get(indicator__code="GOV-02").comment == "年度计划经委员会审议"
