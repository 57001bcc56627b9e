"""Permission-matrix rows for 消保审查 (see xiaobao/accounts/tests/test_permission_matrix.py).

The request under test is submitted by a handler of C1, so the C1 officer may review it.
"""

from xiaobao.accounts.models import Role
from xiaobao.accounts.tests.test_permission_matrix import ALL, WRITE, page, post_to_object, scoped_object

REVIEW = {Role.ADMIN, Role.OFFICER}


def review_post(ok_status):
    """Reviewer-only POST on a C1 request: outsiders 404, non-reviewers 403, reviewers the view's answer."""

    def rule(role, where):
        if where == "outside" and role != Role.ADMIN:
            return 404
        return ok_status if role in REVIEW else 403

    return rule


MATRIX = {
    "reviews-index": (lambda o: {}, "get", page(ALL)),
    "reviews-new": (lambda o: {}, "get", page(WRITE)),
    "reviews-stats": (lambda o: {}, "get", page(ALL)),
    "reviews-verify": (lambda o: {}, "get", page(ALL)),
    "reviews-checklist": (lambda o: {}, "get", page(ALL)),
    "reviews-detail": (lambda o: {"pk": o["review"].pk}, "get", scoped_object(ALL)),
    "reviews-upload": (lambda o: {"pk": o["review"].pk}, "post", post_to_object(400)),
    "reviews-document": (
        lambda o: {"pk": o["review"].pk, "did": o["review_document"].pk},
        "get",
        scoped_object(ALL),
    ),
    "reviews-opinions": (lambda o: {"pk": o["review"].pk}, "post", review_post(400)),
    "reviews-respond": (
        lambda o: {"pk": o["review"].pk, "iid": o["review_item"].pk},
        "post",
        post_to_object(400),
    ),
    "reviews-signoff": (lambda o: {"pk": o["review"].pk}, "post", review_post(400)),
    "reviews-withdraw": (lambda o: {"pk": o["review"].pk}, "post", review_post(302)),  # not the submitter
    "reviews-rereview": (lambda o: {"pk": o["review"].pk}, "post", post_to_object(400)),
}


def objects(base):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xiaobao.conftest import make_user
    from xiaobao.reviews.services import review_items_record, review_submit

    submitter = make_user("matrix_submitter", base["tree"]["C1"], [Role.HANDLER])
    review = review_submit(
        actor=submitter,
        unit=base["tree"]["C1"],
        title="重疾险宣传折页",
        review_type="营销宣传",
        upload=SimpleUploadedFile("折页.pdf", b"%PDF-1.4\nmatrix\n"),
    )
    item = review.items.first()
    review_items_record(
        actor=base["alice"], review=review, entries={item.pk: ("有意见", "收益表述需加风险提示")}
    )
    return {"review": review, "review_document": review.documents.get(), "review_item": item}
