"""Reads of 消保审查: the reviews a user may see, the list's views and filters."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from xiaobao.accounts import access
from xiaobao.reviews.access import can_review
from xiaobao.reviews.models import OPEN_STATUSES, ItemResult, ReviewRequest, ReviewStatus, ReviewType

VIEWS = ["all", "to_review", "mine", "open"]


def review_scope(user) -> QuerySet[ReviewRequest]:
    return access.scope(ReviewRequest.objects.all(), user)


def review_in_unit(reviews: QuerySet[ReviewRequest], code: str) -> QuerySet[ReviewRequest]:
    return reviews.filter(unit__path__contains=f"/{code}/")


@dataclass
class ReviewFilter:
    view: str = "all"
    status: str = ""
    review_type: str = ""
    q: str = ""

    @classmethod
    def from_params(cls, params) -> "ReviewFilter":
        f = cls()
        f.view = params.get("view") if params.get("view") in VIEWS else "all"
        f.status = params.get("status") if params.get("status") in ReviewStatus.values else ""
        f.review_type = params.get("type") if params.get("type") in ReviewType.values else ""
        f.q = (params.get("q") or "").strip()[:100]
        return f


def review_list(*, user, f: ReviewFilter) -> QuerySet[ReviewRequest]:
    reviews = review_scope(user)
    if f.view == "to_review":
        # Open reviews someone else submitted: what a reviewer has to do.
        reviews = reviews.filter(status__in=OPEN_STATUSES).exclude(submitter=user)
    elif f.view == "mine":
        reviews = reviews.filter(submitter=user)
    elif f.view == "open":
        reviews = reviews.filter(status__in=OPEN_STATUSES)
    if f.status:
        reviews = reviews.filter(status=f.status)
    if f.review_type:
        reviews = reviews.filter(review_type=f.review_type)
    if f.q:
        reviews = reviews.filter(Q(title__icontains=f.q) | Q(review_no__icontains=f.q))
    # An aggregate drops Meta.ordering (GROUP BY), so the order is spelled out for the pager.
    return (
        reviews.select_related("unit", "submitter", "reviewer")
        .annotate(
            opinions=Count("items", filter=Q(items__result=ItemResult.OPINION)),
            unanswered=Count("items", filter=Q(items__result=ItemResult.OPINION, items__adoption="")),
        )
        .order_by("-submitted_at", "-pk")
    )


def review_counts(user) -> dict[str, int]:
    reviews = review_scope(user)
    counts = reviews.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        mine=Count("pk", filter=Q(submitter=user)),
        to_review=Count("pk", filter=Q(status__in=OPEN_STATUSES) & ~Q(submitter=user)),
    )
    if not can_review(user):
        counts["to_review"] = 0
    return counts
