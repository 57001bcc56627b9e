import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.reviews.models import ChecklistItem, ReviewEvent, ReviewRequest
from xiaobao.reviews.services import (
    checklist_item_save,
    review_blockers,
    review_find_by_file,
    review_items_record,
    review_rereview,
    review_respond,
    review_sign_off,
    review_upload,
    review_withdraw,
)
from xiaobao.reviews.tests.conftest import at, opinions, pdf


def test_the_default_checklists_come_from_the_2022_measures(db):
    codes = dict.fromkeys(
        ["新产品", "营销宣传", "合同条款", "销售话术", "内部制度"],
    )
    for review_type in codes:
        codes[review_type] = set(
            ChecklistItem.objects.filter(review_type=review_type).values_list("code", flat=True)
        )
    assert {
        "disclosure",
        "suitability",
        "fair_terms",
        "no_misleading_returns",
        "personal_info_consent",
    } <= codes["新产品"]
    assert {"no_misleading_returns", "risk_warning", "personal_info_consent"} <= codes["营销宣传"]
    assert {"fair_terms", "complaint_channel"} <= codes["合同条款"]
    assert {"no_induced_surrender", "traceable"} <= codes["销售话术"]
    assert "第十一条" in ChecklistItem.objects.get(review_type="新产品", code="suitability").basis


def test_submission_numbers_stores_the_file_and_snapshots_the_checklist(submit, bob):
    review = submit()
    assert review.review_no == "XBSC2024-0001" and review.status == "待审查"
    document = review.documents.get()
    assert document.version == 1 and document.content_type == "application/pdf" and len(document.sha256) == 64
    assert review.items.count() == ChecklistItem.objects.filter(review_type="营销宣传", active=True).count()
    # Editing the checklist later leaves this review's snapshot alone.
    ChecklistItem.objects.filter(review_type="营销宣传").update(title="改过的要点")
    assert not review.items.filter(title="改过的要点").exists()
    assert ReviewEvent.objects.get(request=review).action == "submit"
    assert AuditEntry.objects.filter(object_type="reviews.reviewrequest", action="create").count() == 1


def test_only_writers_in_scope_submit(submit, personas):
    with pytest.raises(PermissionDenied):
        submit(actor=personas[(Role.AUDITOR, "inside")])
    with pytest.raises(PermissionDenied):
        submit(actor=personas[(Role.HANDLER, "outside")])
    with pytest.raises(ValidationError, match="网页或脚本"):
        submit(upload=SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script>"))
    assert not ReviewRequest.objects.exists()


def test_the_round_trip_opinion_response_sign_off(submit, alice, bob, clock):
    review = submit()
    clock.move_to(at("2024-05-07 10:00"))
    review_items_record(
        actor=alice,
        review=review,
        entries=opinions(
            review,
            no_misleading_returns="“年化 5%”须注明为演示利率",
            risk_warning="风险提示字号过小",
            personal_info_consent="报名二维码收集身份证号超出必要",
        ),
    )
    review.refresh_from_db()
    assert review.status == "审查中" and review.reviewer == alice
    with pytest.raises(ValidationError, match="尚有 3 条审查意见未回复，不能签批"):
        review_sign_off(actor=alice, review=review, outcome="通过")
    items = {i.code: i for i in review.items.all()}
    with pytest.raises(ValidationError, match="不采纳时必须说明理由"):
        review_respond(actor=bob, review=review, item_id=items["risk_warning"].pk, adoption="不采纳")
    review_respond(actor=bob, review=review, item_id=items["no_misleading_returns"].pk, adoption="采纳")
    review_respond(
        actor=bob,
        review=review,
        item_id=items["risk_warning"].pk,
        adoption="部分采纳",
        response="已加粗，字号受限",
    )
    review_respond(
        actor=bob,
        review=review,
        item_id=items["personal_info_consent"].pk,
        adoption="不采纳",
        response="总公司统一模板，由总公司修改",
    )
    review_upload(actor=bob, review=review, upload=pdf("折页 v2"))
    clock.move_to(at("2024-05-09 16:00"))
    review = review_sign_off(actor=alice, review=review, outcome="通过", note="同意使用")
    assert review.status == "已签批" and review.signed_off_at == at("2024-05-09 16:00")
    assert review.reviewed_sha256 == review.documents.get(version=2).sha256
    actions = list(review.events.values_list("action", flat=True))
    assert actions == ["submit", "review", "respond", "respond", "respond", "upload", "sign_off"]


def test_sign_off_needs_every_item_reviewed(submit, alice):
    review = submit()
    first = review.items.first()
    review_items_record(actor=alice, review=review, entries={first.pk: ("符合", "")})
    assert "未审查" in review_blockers(review)[0]
    with pytest.raises(ValidationError, match="个审查要点未审查"):
        review_sign_off(actor=alice, review=review, outcome="通过")
    review_items_record(actor=alice, review=review, entries=opinions(review))
    assert review_sign_off(actor=alice, review=review, outcome="通过").status == "已签批"


def test_the_submitter_never_reviews_and_the_reviewer_never_answers_himself(submit, alice, bob, personas):
    own = submit(actor=alice)
    with pytest.raises(PermissionDenied, match="提交人不能审查"):
        review_items_record(actor=alice, review=own, entries=opinions(own))
    review = submit()
    with pytest.raises(PermissionDenied, match="消保管理岗"):
        review_items_record(actor=bob, review=review, entries=opinions(review))
    review_items_record(actor=alice, review=review, entries=opinions(review, disclosure="补充公司全称"))
    item = review.items.get(code="disclosure")
    with pytest.raises(PermissionDenied, match="审查人不能回复"):
        review_respond(actor=alice, review=review, item_id=item.pk, adoption="采纳")
    with pytest.raises(PermissionDenied):
        review_respond(
            actor=personas[(Role.AUDITOR, "inside")], review=review, item_id=item.pk, adoption="采纳"
        )


def test_an_opinion_needs_text_and_an_answered_one_is_fixed(submit, alice, bob):
    review = submit()
    item = review.items.get(code="disclosure")
    with pytest.raises(ValidationError, match="有意见时请填写审查意见"):
        review_items_record(actor=alice, review=review, entries={item.pk: ("有意见", "  ")})
    review_items_record(actor=alice, review=review, entries={item.pk: ("有意见", "补充公司全称")})
    review_respond(actor=bob, review=review, item_id=item.pk, adoption="采纳")
    with pytest.raises(ValidationError, match="已回复，不能再修改"):
        review_items_record(actor=alice, review=review, entries={item.pk: ("符合", "")})


def test_a_signed_off_file_is_fixed_and_a_changed_file_needs_a_new_review(submit, alice, bob):
    review = submit()
    review_items_record(actor=alice, review=review, entries=opinions(review))
    review = review_sign_off(actor=alice, review=review, outcome="通过")
    with pytest.raises(ValidationError, match="已签批的审查不能更换文件|已审文件不能更换"):
        review_upload(actor=bob, review=review, upload=pdf("折页 v2"))
    with pytest.raises(ValidationError, match="完全相同，无需重新审查"):
        review_rereview(actor=bob, review=review, upload=pdf())
    new = review_rereview(actor=bob, review=review, upload=pdf("折页 v2: 换了一张图"), reason="更换配图")
    assert new.previous == review and new.status == "待审查" and new.review_no == "XBSC2024-0002"
    assert new.documents.get().sha256 != review.reviewed_sha256
    assert new.description == "更换配图"
    review.refresh_from_db()
    assert review.status == "已签批" and review.events.last().action == "rereview"
    # Which reviews cover a file: only the exact bytes signed off.
    digest, found = review_find_by_file(
        ReviewRequest.objects.all(), b"%PDF-1.4\n\xe6\x8a\x98\xe9\xa1\xb5 v1\n"
    )
    assert found == [review] and digest == review.reviewed_sha256
    assert review_find_by_file(ReviewRequest.objects.all(), b"%PDF-1.4\nother\n")[1] == []


def test_withdrawal_ends_the_review(submit, bob, alice, personas):
    review = submit()
    with pytest.raises(PermissionDenied, match="只有提交人"):
        review_withdraw(actor=personas[(Role.UNIT_HEAD, "inside")], review=review)
    review = review_withdraw(actor=bob, review=review, reason="产品暂缓上市")
    assert review.status == "已撤回"
    with pytest.raises(ValidationError, match="不能执行"):
        review_sign_off(actor=alice, review=review, outcome="通过")


def test_the_administrator_manages_the_checklist(db, personas, alice):
    admin = personas[(Role.ADMIN, "outside")]
    with pytest.raises(PermissionDenied):
        checklist_item_save(actor=alice, review_type="营销宣传", code="ai_content", title="AI 生成内容标识")
    item = checklist_item_save(
        actor=admin, review_type="营销宣传", code="ai_content", title="AI 生成内容标识", order=99
    )
    assert item.active and ChecklistItem.objects.filter(code="ai_content").count() == 1
    checklist_item_save(
        actor=admin, review_type="营销宣传", code="ai_content", title="AI 生成内容标识", active=False
    )
    assert not ChecklistItem.objects.get(code="ai_content").active
