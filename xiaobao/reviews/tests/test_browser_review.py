"""Browser test: one 消保审查 round trip in Debian's chromium, by clicks and form fills only.

A handler of C1 (bob) submits a marketing leaflet; the C1 officer (alice), in a second browser,
goes through the checklist and writes three opinions; her sign-off is refused while an opinion has
no response; bob answers 采纳，部分采纳 and 不采纳 (refused without a reason, then with one); alice
signs off and the reviewed file's SHA-256 is recorded; bob's changed leaflet cannot replace the
reviewed file and goes to a new review of its own.
"""

import hashlib
import importlib

import pytest
from django.apps import apps
from playwright.sync_api import expect

from xiaobao.accounts.models import Role
from xiaobao.reviews.models import ChecklistItem, ReviewRequest
from xiaobao.tests import test_browser as shared
from xiaobao.tests.browser_support import PageWatch
from xiaobao.tests.test_browser import log_in

pytestmark = shared.pytestmark
browser, audit_log_flushable, page, watch, shot = (
    shared.browser,
    shared.audit_log_flushable,
    shared.page,
    shared.watch,
    shared.shot,
)

LEAFLET = "%PDF-1.4\n% 瀚海安康重大疾病保险 宣传折页 v1\n".encode()
CHANGED = "%PDF-1.4\n% 瀚海安康重大疾病保险 宣传折页 v2 (更换配图)\n".encode()
OPINIONS = {
    "no_misleading_returns": "“年化收益可达 5%”属演示利率，须注明不代表实际收益。",
    "risk_warning": "风险提示字号明显小于正文，请调整为同等显著。",
    "personal_info_consent": "报名二维码收集身份证号超出必要范围。",
}


@pytest.fixture
def checklist(transactional_db):
    """The default checklist is seeded by a migration, but a transactional test's flush empties it."""
    if not ChecklistItem.objects.exists():
        importlib.import_module("xiaobao.reviews.migrations.0002_default_checklist").seed(apps, None)


@pytest.fixture
def second(browser, live_server, shot):
    """second(user): another browser (own cookies) logged in as `user`; screenshots follow it until done()."""
    opened = []

    class Person:
        def __init__(self, user):
            self.context = browser.new_context(
                base_url=live_server.url,
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                viewport={"width": 1280, "height": 800},
            )
            self.context.set_default_timeout(30_000)
            opened.append(self.context)
            self.page = self.context.new_page()
            self.watch = PageWatch(self.page)
            log_in(self.page, self.watch, user.username)
            expect(self.page.get_by_role("heading", level=1)).to_have_text("工作台")
            self.back = (shot.page, shot.watch)
            shot.page, shot.watch = self.page, self.watch

        def done(self):
            shot.page, shot.watch = self.back

    yield Person
    for context in opened:
        context.close()


def pdf(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": data}


def test_a_review_round_trip(page, watch, shot, second, personas, checklist):
    bob, alice = personas[(Role.HANDLER, "inside")], personas[(Role.OFFICER, "inside")]
    messages = page.locator("ul.messages")

    # 1. bob submits the leaflet.
    log_in(page, watch, bob.username)
    page.locator("nav.mainnav").get_by_role("link", name="消保审查").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("消保审查")
    page.get_by_test_id("review-new").click()
    page.get_by_label("审查事项", exact=True).fill("安康重疾险宣传折页")
    page.get_by_label("审查类型", exact=True).select_option("营销宣传")
    page.get_by_label("提交机构", exact=True).select_option(label="甲中心支公司 (C1)")
    page.get_by_label("送审文件", exact=True).set_input_files(pdf("宣传折页.pdf", LEAFLET))
    page.get_by_label("说明", exact=True).fill("用于 3·15 宣传周，投放朋友圈和网点")
    shot("submit-form")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_test_id("review-status")).to_have_text("待审查")
    review = ReviewRequest.objects.get()
    expect(messages).to_contain_text(f"已提交审查 {review.review_no}")
    expect(page.get_by_test_id("review-documents")).to_contain_text("宣传折页.pdf")
    shot("submitted")

    # 2. alice goes through the checklist: three opinions, the rest 符合.
    officer = second(alice)
    other = officer.page
    other.goto("/reviews/?view=to_review")
    other.get_by_role("link", name=review.review_no).click()
    items = other.get_by_test_id("review-items")
    for item in review.items.all():
        row = other.get_by_test_id(f"item-{item.code}")
        if item.code in OPINIONS:
            row.locator("select").select_option("有意见")
            row.locator("textarea").fill(OPINIONS[item.code])
        else:
            row.locator("select").select_option("符合")
    shot("checklist-filled")
    items.get_by_role("button", name="保存审查意见").click()
    expect(other.get_by_test_id("review-status")).to_have_text("审查中")
    expect(other.get_by_test_id("blockers")).to_contain_text("尚有 3 条审查意见未回复，不能签批")

    # 3. Her sign-off is refused while an opinion has no response (a 400 page: chromium logs it).
    officer.watch.expect_console_error(rf"status of 400 .*/reviews/{review.pk}/signoff/\)$")
    signoff = other.get_by_test_id("signoff")
    signoff.get_by_label("审查结论", exact=True).select_option("通过")
    signoff.get_by_role("button", name="签批", exact=True).click()
    expect(other.get_by_test_id("signoff").get_by_role("alert")).to_contain_text("未回复，不能签批")
    expect(other.get_by_test_id("review-status")).to_have_text("审查中")
    shot("sign-off-refused")
    officer.done()

    # 4. bob answers: 采纳，部分采纳, and 不采纳, which needs a reason.
    page.reload()
    answers = [
        ("no_misleading_returns", "采纳", ""),
        ("risk_warning", "部分采纳", "已加粗；版面所限字号为正文的九成"),
    ]
    for code, adoption, text in answers:
        card = page.get_by_test_id(f"respond-{code}")
        card.get_by_label("采纳情况", exact=True).select_option(adoption)
        card.get_by_label("回复说明", exact=True).fill(text)
        card.get_by_role("button", name="回复", exact=True).click()
        expect(messages).to_contain_text("已回复意见")
        expect(page.get_by_test_id(f"adoption-{code}")).to_have_text(adoption)
    watch.expect_console_error(rf"status of 400 .*/reviews/{review.pk}/items/\d+/respond/\)$")
    watch.expect_console_error(rf"status of 400 .*/reviews/{review.pk}/rereview/\)$")
    card = page.get_by_test_id("respond-personal_info_consent")
    card.get_by_label("采纳情况", exact=True).select_option("不采纳")
    card.get_by_role("button", name="回复", exact=True).click()
    card = page.get_by_test_id("respond-personal_info_consent")
    expect(card.get_by_role("alert")).to_contain_text("不采纳时必须说明理由")
    shot("no-reason-refused")
    card.get_by_label("采纳情况", exact=True).select_option("不采纳")
    card.get_by_label("回复说明", exact=True).fill("报名页沿用总公司统一模板，已报总公司修改")
    card.get_by_role("button", name="回复", exact=True).click()
    expect(page.get_by_test_id("adoption-personal_info_consent")).to_have_text("不采纳")
    expect(page.get_by_test_id("blockers")).to_have_count(0)
    shot("answered")

    # 5. alice signs off; the reviewed file's hash is recorded and shown.
    officer = second(alice)
    other = officer.page
    other.goto(f"/reviews/{review.pk}/")
    signoff = other.get_by_test_id("signoff")
    signoff.get_by_label("审查结论", exact=True).select_option("通过")
    signoff.get_by_label("签批意见", exact=True).fill("同意使用")
    signoff.get_by_role("button", name="签批", exact=True).click()
    expect(other.get_by_test_id("review-status")).to_have_text("已签批")
    expect(other.get_by_test_id("review-outcome")).to_have_text("审查通过")
    expect(other.get_by_test_id("review-hash")).to_have_text(hashlib.sha256(LEAFLET).hexdigest())
    shot("signed-off")
    officer.done()

    # 6. The changed leaflet cannot replace the reviewed one: it needs a new review.
    page.reload()
    expect(page.get_by_test_id("upload-form")).to_have_count(0)
    rereview = page.get_by_test_id("rereview-form")
    rereview.get_by_label("变更后的文件", exact=True).set_input_files(pdf("宣传折页.pdf", LEAFLET))
    rereview.get_by_role("button", name="提交重新审查").click()
    expect(page.get_by_test_id("rereview-form").get_by_role("alert")).to_contain_text("无需重新审查")
    rereview = page.get_by_test_id("rereview-form")
    rereview.get_by_label("变更后的文件", exact=True).set_input_files(pdf("宣传折页-v2.pdf", CHANGED))
    rereview.get_by_label("变更说明", exact=True).fill("更换封面配图")
    rereview.get_by_role("button", name="提交重新审查").click()
    expect(page.get_by_test_id("review-status")).to_have_text("待审查")
    expect(messages).to_contain_text("文件已变更，已提交重新审查")
    expect(page.get_by_role("link", name=review.review_no)).to_be_visible()
    shot("rereview")

    review.refresh_from_db()
    assert review.status == "已签批" and review.outcome == "通过"
    assert review.reviewed_sha256 == hashlib.sha256(LEAFLET).hexdigest()
    assert dict(review.items.exclude(adoption="").values_list("code", "adoption")) == {
        "no_misleading_returns": "采纳",
        "risk_warning": "部分采纳",
        "personal_info_consent": "不采纳",
    }
    assert review.items.get(code="personal_info_consent").response.startswith("报名页沿用")
    new = review.rereviews.get()
    assert new.status == "待审查" and new.documents.get().sha256 == hashlib.sha256(CHANGED).hexdigest()
    assert list(review.events.values_list("action", flat=True)) == [
        "submit",
        "review",
        "respond",
        "respond",
        "respond",
        "sign_off",
        "rereview",
    ]
