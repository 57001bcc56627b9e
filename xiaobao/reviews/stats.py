"""消保审查 statistics: volumes, turnaround time and the adoption rate of opinions.

Counts are aggregated in the database; only the (submitted, signed off) pairs come back, for the
median turnaround. Reviews belong to a period by the day they were submitted.
"""

import datetime as dt
import statistics
from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from xiaobao.reviews.models import (
    OPEN_STATUSES,
    Adoption,
    ItemResult,
    Outcome,
    ReviewItem,
    ReviewRequest,
    ReviewStatus,
)

GROUPINGS = {"type": "review_type", "unit": "unit__code", "month": "month"}
DEFINITION = (
    "按提交日期统计；办理时长 = 签批时间 − 提交时间 (自然日); "
    "意见采纳率 = (采纳 + 部分采纳) ÷ 已回复的意见；完全采纳率 = 采纳 ÷ 已回复的意见"
)


def review_period(reviews: QuerySet[ReviewRequest], date_from: dt.date | None, date_to: dt.date | None):
    """Reviews submitted between the two days, both included (Asia/Shanghai days)."""
    if date_from:
        reviews = reviews.filter(
            submitted_at__gte=timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
        )
    if date_to:
        reviews = reviews.filter(
            submitted_at__lt=timezone.make_aware(
                dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min)
            )
        )
    return reviews


def _keyed(queryset, by: str | None, prefix: str = ""):
    if by == "month":
        return queryset.annotate(
            month=TruncMonth(f"{prefix}submitted_at", tzinfo=timezone.get_current_timezone())
        ), "month"
    if by:
        return queryset, f"{prefix}{GROUPINGS[by]}"
    return queryset, None


def _label(value) -> str:
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m}" if timezone.is_aware(value) else f"{value:%Y-%m}"
    return "" if value is None else str(value)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def review_stats(reviews: QuerySet[ReviewRequest], *, by: str | None = None) -> dict:
    """{"groups": [...], "total": {...}, "definition": str}; each has key, submitted, signed_off,
    open, withdrawn, approved, not_approved, rereviews, median_days, mean_days, opinions, answered,
    adopted, partly_adopted, not_adopted, adoption_rate, full_adoption_rate."""
    keyed, key = _keyed(reviews, by)
    review_aggregates = dict(
        submitted=Count("pk"),
        signed_off=Count("pk", filter=Q(status=ReviewStatus.SIGNED_OFF)),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        withdrawn=Count("pk", filter=Q(status=ReviewStatus.WITHDRAWN)),
        approved=Count("pk", filter=Q(status=ReviewStatus.SIGNED_OFF, outcome=Outcome.APPROVED)),
        not_approved=Count("pk", filter=Q(status=ReviewStatus.SIGNED_OFF, outcome=Outcome.REJECTED)),
        rereviews=Count("pk", filter=Q(previous__isnull=False)),
    )
    items = ReviewItem.objects.filter(request__in=reviews.values("pk"), result=ItemResult.OPINION)
    item_keyed, item_key = _keyed(items, by, "request__")
    item_aggregates = dict(
        opinions=Count("pk"),
        answered=Count("pk", filter=~Q(adoption="")),
        adopted=Count("pk", filter=Q(adoption=Adoption.ADOPTED)),
        partly_adopted=Count("pk", filter=Q(adoption=Adoption.PARTLY)),
        not_adopted=Count("pk", filter=Q(adoption=Adoption.REJECTED)),
    )
    durations: dict[str | None, list[float]] = defaultdict(list)
    signed = keyed.filter(status=ReviewStatus.SIGNED_OFF, signed_off_at__isnull=False)
    for group, submitted, signed_off in signed.values_list(key or "pk", "submitted_at", "signed_off_at"):
        days = (signed_off - submitted).total_seconds() / 86400
        durations[None].append(days)
        if key:
            durations[_label(group)].append(days)

    def shape(label: str, row: dict, opinion_row: dict, days: list[float]) -> dict:
        answered = opinion_row.get("answered", 0)
        return {
            "key": label,
            **{name: row[name] for name in review_aggregates},
            "median_days": round(statistics.median(days), 2) if days else None,
            "mean_days": round(statistics.fmean(days), 2) if days else None,
            **{name: opinion_row.get(name, 0) for name in item_aggregates},
            "adoption_rate": _rate(
                opinion_row.get("adopted", 0) + opinion_row.get("partly_adopted", 0), answered
            ),
            "full_adoption_rate": _rate(opinion_row.get("adopted", 0), answered),
        }

    groups = []
    if key:
        opinion_rows = {
            _label(row[item_key]): row
            for row in item_keyed.values(item_key).annotate(**item_aggregates).order_by(item_key)
        }
        for row in keyed.values(key).annotate(**review_aggregates).order_by(key):
            label = _label(row[key])
            groups.append(shape(label, row, opinion_rows.get(label, {}), durations.get(label, [])))
    total = shape(
        "合计", reviews.aggregate(**review_aggregates), items.aggregate(**item_aggregates), durations[None]
    )
    return {"groups": groups, "total": total, "definition": DEFINITION}
