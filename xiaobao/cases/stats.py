"""Case statistics: counts, closure, median days to close, on-time rate, overdue, extensions,
regulator-forwarded. Aggregated in the database; PostgreSQL also takes the medians
(percentile_cont), elsewhere only the durations for the medians come back.

On SQLite the month keys and the durations come from SQLite's own strftime() and julianday():
Django's time-zone-aware TruncMonth and DurationField subtraction run there as Python functions
per row, with a Python converter per result (bench/results/cases-list.md, finding 7: 16 s → 2 s
at a million cases). Same output; used when the time zone keeps one UTC offset all year
(Asia/Shanghai: +08:00 since 1992), otherwise the generic expressions run.
"""

import datetime as dt
import statistics
from collections import defaultdict

from django.db import connections
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Value,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from xiaobao.cases.models import OPEN_STATUSES, CaseStatus
from xiaobao.cases.selectors import overdue_q

GROUPINGS = {
    "unit": "unit__code",
    "channel": "channel",
    "category": "category",
    "kind": "kind",
    "month": "month",
}


# Ended cases. Imported ones may be 已办结 without a closing date (the CFPB file has none): they
# are closed all the same, only without a duration for the median.
ENDED_STATUSES = [CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.MERGED]


class _SqliteMillis(Func):
    """SQLite: milliseconds from the second datetime to the first, as an integer. julianday()
    keeps milliseconds internally; rounding undoes the float error of the subtraction."""

    arg_joiner = ") - julianday("
    template = "CAST(ROUND((julianday(%(expressions)s)) * 86400000) AS INTEGER)"
    output_field = IntegerField()


class _PgMedianDays(Aggregate):
    """PostgreSQL: the median of an interval in days, computed by the database (percentile_cont
    interpolates between the two middle values, as statistics.median does)."""

    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)"
    output_field = FloatField()


def _sqlite_offset_minutes(cases) -> int | None:
    """On SQLite, the current time zone's UTC offset in minutes when it has no daylight saving
    (the same offset in January and July of this year and last); None otherwise."""
    if connections[cases.db].vendor != "sqlite":
        return None
    tz = timezone.get_current_timezone()
    year = timezone.now().year
    offsets = {tz.utcoffset(dt.datetime(y, m, 1)) for y in (year - 1, year) for m in (1, 7)}
    if len(offsets) != 1:
        return None
    return int(offsets.pop().total_seconds() // 60)


def _keyed(cases, by: str | None, offset_minutes: int | None = None):
    if by == "month":
        if offset_minutes is not None:
            month = Func(
                Value("%Y-%m"),
                F("received_at"),
                Value(f"{offset_minutes:+d} minutes"),
                function="strftime",
                output_field=CharField(),
            )
            return cases.annotate(month=month), "month"
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
    offset = _sqlite_offset_minutes(cases)
    keyed, key = _keyed(cases, by, offset)
    aggregates = dict(
        count=Count("pk"),
        closed=Count("pk", filter=Q(closed_at__isnull=False) | Q(status__in=ENDED_STATUSES)),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        decided=Count("pk", filter=Q(on_time__isnull=False)),
        decided_on_time=Count("pk", filter=Q(on_time=True)),
        overdue_now=Count("pk", filter=overdue_q(today)),
        extended=Count("pk", filter=Q(extension_level__gt=0)),
        regulator_forwarded=Count("pk", filter=Q(channel="监管转办")),
    )
    medians = _medians(cases, keyed, key, offset)

    def shape(label, row, median):
        return {
            "key": label,
            "count": row["count"],
            "closed": row["closed"],
            "open": row["open"],
            "median_days_to_close": round(median, 2) if median is not None else None,
            "on_time_rate": round(row["decided_on_time"] / row["decided"], 4) if row["decided"] else None,
            "overdue_now": row["overdue_now"],
            "extended": row["extended"],
            "regulator_forwarded": row["regulator_forwarded"],
        }

    groups = []
    if key:
        rows = list(keyed.values(key).annotate(**aggregates).order_by(key))
        for row in rows:
            label = _label(row[key])
            groups.append(shape(label, row, medians.get(label)))
        # Every case is in exactly one group, so the total of each count is the sum of the groups':
        # one pass over the period instead of two.
        total_row = {name: sum(row[name] for row in rows) for name in aggregates}
    else:
        total_row = cases.aggregate(**aggregates)
    return {"groups": groups, "total": shape("合计", total_row, medians.get(None))}


def _medians(cases, keyed, key: str | None, offset: int | None) -> dict:
    """Median days from receipt to closure of the closed cases, per group label and for all (None).

    PostgreSQL computes them (percentile_cont); elsewhere the durations come back, a column at a
    time, and Python takes the medians."""
    if connections[cases.db].vendor == "postgresql":
        took = ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField())
        closed = keyed.filter(closed_at__isnull=False)
        medians = {None: closed.aggregate(m=_PgMedianDays(took))["m"]}
        if key:
            for row in closed.values(key).annotate(m=_PgMedianDays(took)).order_by(key):
                medians[_label(row[key])] = row["m"]
        return medians
    durations = defaultdict(list)
    if offset is None:
        took = ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField())
    else:  # SQLite's window functions sort slower than Python takes the medians (1.9 s vs 0.8 s at 125k)
        took = _SqliteMillis(F("closed_at"), F("received_at"))
    closed = keyed.filter(closed_at__isnull=False).annotate(took=took)
    for group, took in closed.values_list(key or "pk", "took").iterator(chunk_size=20000):
        # The same float as timedelta.total_seconds() for whole milliseconds.
        seconds = took.total_seconds() if offset is None else took * 1000 / 10**6
        days = seconds / 86400
        durations[_label(group) if key else None].append(days)
        if key:
            durations[None].append(days)
    return {label: statistics.median(days) for label, days in durations.items()}


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
