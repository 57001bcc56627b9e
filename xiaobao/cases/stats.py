"""Case statistics: counts, closure, median days to close, on-time rate, overdue, extensions,
regulator-forwarded. Aggregated in the database; only the durations for medians come back."""

import datetime as dt
import statistics
from collections import defaultdict

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from xiaobao.cases.models import OPEN_STATUSES
from xiaobao.cases.selectors import overdue_q

GROUPINGS = {
    "unit": "unit__code",
    "channel": "channel",
    "category": "category",
    "kind": "kind",
    "month": "month",
}


def _keyed(cases, by: str | None):
    if by == "month":
        return cases.annotate(
            month=TruncMonth("received_at", tzinfo=timezone.get_current_timezone())
        ), "month"
    if by:
        return cases, GROUPINGS[by]
    return cases, None


def _label(value) -> str:
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m}"
    return "" if value is None else str(value)


def case_stats(cases, *, by: str | None = None, today: dt.date | None = None) -> dict:
    """{"groups": [...], "total": {...}}; each has key, count, closed, open, median_days_to_close,
    on_time_rate, overdue_now, extended, regulator_forwarded."""
    today = today or timezone.localdate()
    keyed, key = _keyed(cases, by)
    aggregates = dict(
        count=Count("pk"),
        closed=Count("pk", filter=Q(closed_at__isnull=False)),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        decided=Count("pk", filter=Q(on_time__isnull=False)),
        decided_on_time=Count("pk", filter=Q(on_time=True)),
        overdue_now=Count("pk", filter=overdue_q(today)),
        extended=Count("pk", filter=Q(extension_level__gt=0)),
        regulator_forwarded=Count("pk", filter=Q(channel="监管转办")),
    )
    durations = defaultdict(list)
    closed = keyed.filter(closed_at__isnull=False).annotate(
        took=ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField())
    )
    for group, took in closed.values_list(key or "pk", "took").iterator(chunk_size=20000):
        days = took.total_seconds() / 86400
        durations[_label(group) if key else None].append(days)
        if key:
            durations[None].append(days)

    def shape(label, row, days):
        return {
            "key": label,
            "count": row["count"],
            "closed": row["closed"],
            "open": row["open"],
            "median_days_to_close": round(statistics.median(days), 2) if days else None,
            "on_time_rate": round(row["decided_on_time"] / row["decided"], 4) if row["decided"] else None,
            "overdue_now": row["overdue_now"],
            "extended": row["extended"],
            "regulator_forwarded": row["regulator_forwarded"],
        }

    groups = []
    if key:
        for row in keyed.values(key).annotate(**aggregates).order_by(key):
            label = _label(row[key])
            groups.append(shape(label, row, durations.get(label, [])))
    total_row = cases.aggregate(**aggregates)
    return {"groups": groups, "total": shape("合计", total_row, durations.get(None, []))}


def case_period(cases, date_from: dt.date | None, date_to: dt.date | None):
    """Cases received between the two days, both included (Asia/Shanghai days)."""
    if date_from:
        cases = cases.filter(
            received_at__gte=timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
        )
    if date_to:
        cases = cases.filter(
            received_at__lt=timezone.make_aware(
                dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min)
            )
        )
    return cases
