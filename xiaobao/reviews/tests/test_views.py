import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.reviews.models import ReviewRequest
from xiaobao.reviews.services import review_items_record, review_sign_off
from xiaobao.reviews.tests.conftest import opinions, pdf


@pytest.fixture
def as_bob(client, bob, clock):
    client.force_login(bob)
    return client


def test_submitting_through_the_form(as_bob, tree):
    response = as_bob.post(
        reverse("reviews-new"),
        {"title": "年金险海报", "review_type": "营销宣传", "unit": "C1", "file": pdf(), "description": ""},
    )
    review = ReviewRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reviews-detail", args=[review.pk])
    bad = as_bob.post(
        reverse("reviews-new"),
        {
            "title": "x",
            "review_type": "营销宣传",
            "unit": "C1",
            "file": SimpleUploadedFile("a.svg", b"<svg></svg>"),
        },
    )
    assert bad.status_code == 400 and "不接受网页或脚本类文件" in bad.content.decode()


def test_the_reviewer_records_the_checklist_in_one_form(client, submit, alice):
    review = submit()
    client.force_login(alice)
    items = list(review.items.all())
    data = {f"result-{i.pk}": "符合" for i in items}
    data[f"result-{items[0].pk}"] = "有意见"
    data[f"opinion-{items[0].pk}"] = ""
    bad = client.post(reverse("reviews-opinions", args=[review.pk]), data)
    assert bad.status_code == 400 and "有意见时请填写审查意见" in bad.content.decode()
    data[f"opinion-{items[0].pk}"] = "请补充公司全称"
    assert client.post(reverse("reviews-opinions", args=[review.pk]), data).status_code == 302
    review.refresh_from_db()
    assert review.status == "审查中" and review.items.filter(result="有意见").count() == 1
    page = client.get(reverse("reviews-detail", args=[review.pk])).content.decode()
    assert "尚有 1 条审查意见未回复，不能签批" in page
    refused = client.post(reverse("reviews-signoff", args=[review.pk]), {"outcome": "通过"})
    assert refused.status_code == 400 and "未回复，不能签批" in refused.content.decode()


def test_the_submitter_answers_and_the_reviewer_signs_off(client, submit, alice, bob, personas):
    review = submit()
    review_items_record(actor=alice, review=review, entries=opinions(review, disclosure="补充公司全称"))
    item = review.items.get(code="disclosure")
    client.force_login(bob)
    page = client.get(reverse("reviews-detail", args=[review.pk])).content.decode()
    assert f'action="{reverse("reviews-respond", args=[review.pk, item.pk])}"' in page
    assert reverse("reviews-opinions", args=[review.pk]) not in page  # the submitter sees no reviewer form
    no_reason = client.post(reverse("reviews-respond", args=[review.pk, item.pk]), {"adoption": "不采纳"})
    assert no_reason.status_code == 400 and "不采纳时必须说明理由" in no_reason.content.decode()
    ok = client.post(
        reverse("reviews-respond", args=[review.pk, item.pk]),
        {"adoption": "不采纳", "response": "沿用总公司模板"},
    )
    assert ok.status_code == 302
    client.force_login(alice)
    assert (
        client.post(
            reverse("reviews-signoff", args=[review.pk]), {"outcome": "通过", "note": "同意"}
        ).status_code
        == 302
    )
    review.refresh_from_db()
    assert review.status == "已签批" and review.reviewed_sha256 == review.documents.get().sha256
    page = client.get(reverse("reviews-detail", args=[review.pk])).content.decode()
    assert review.reviewed_sha256 in page and reverse("reviews-rereview", args=[review.pk]) in page
    client.force_login(personas[(Role.AUDITOR, "inside")])
    page = client.get(reverse("reviews-detail", args=[review.pk])).content.decode()
    assert review.reviewed_sha256 in page and reverse("reviews-rereview", args=[review.pk]) not in page


def test_a_changed_file_goes_to_a_new_review_from_the_page(as_bob, submit, alice):
    review = submit()
    review_items_record(actor=alice, review=review, entries=opinions(review))
    review_sign_off(actor=alice, review=review, outcome="通过")
    refused = as_bob.post(reverse("reviews-upload", args=[review.pk]), {"file": pdf("v2")})
    assert refused.status_code == 400 and "文件有变更时请提交重新审查" in refused.content.decode()
    response = as_bob.post(
        reverse("reviews-rereview", args=[review.pk]), {"file": pdf("v2"), "reason": "改配图"}
    )
    new = ReviewRequest.objects.exclude(pk=review.pk).get()
    assert response["Location"] == reverse("reviews-detail", args=[new.pk]) and new.previous == review


def test_verify_tells_whether_a_file_was_signed_off(as_bob, submit, alice):
    review = submit()
    review_items_record(actor=alice, review=review, entries=opinions(review))
    review_sign_off(actor=alice, review=review, outcome="通过")
    page = as_bob.post(reverse("reviews-verify"), {"file": pdf()}).content.decode()
    assert "已审查" in page and review.review_no in page
    page = as_bob.post(reverse("reviews-verify"), {"file": pdf("改过")}).content.decode()
    assert "未找到" in page


def test_outsiders_see_nothing_and_the_list_queries_are_constant(client, submit, personas, alice):
    review = submit()
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert review.review_no not in client.get(reverse("reviews-index")).content.decode()
    assert client.get(reverse("reviews-detail", args=[review.pk])).status_code == 404
    client.force_login(alice)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("reviews-index")).status_code == 200
    for i in range(10):
        submit(title=f"材料 {i}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("reviews-index"), {"view": "to_review"}).content.decode()
    assert len(many.captured_queries) == len(one.captured_queries)
    assert "材料 9" in page


def test_the_stats_page_and_the_checklist_page(client, submit, alice, personas):
    submit()
    client.force_login(alice)
    page = client.get(reverse("reviews-stats"), {"by": "type"}).content.decode()
    assert 'id="review-data"' in page and "营销宣传" in page
    checklist = client.get(reverse("reviews-checklist")).content.decode()
    assert "三适当" in checklist and "新增或修改要点" not in checklist
    assert client.post(reverse("reviews-checklist"), {"review_type": "营销宣传"}).status_code == 403
    client.force_login(personas[(Role.ADMIN, "outside")])
    response = client.post(
        reverse("reviews-checklist"),
        {
            "review_type": "营销宣传",
            "code": "ai_label",
            "title": "AI 生成内容须标识",
            "order": "90",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert "AI 生成内容须标识" in client.get(reverse("reviews-checklist")).content.decode()
