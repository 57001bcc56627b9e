"""What-if patches for bench/cases_list.py (`--what-if NAME`): a proposed query change applied
in-process, so it is measured through the full Django stack without editing the product code.
Index what-ifs need no patch: apply the DDL to a scratch copy (`--data-dir` / `--pg-name`,
`--setup-sql`) and measure that.
"""

import datetime as dt


def desk_counts_open() -> str:
    """desk_counts(): every tab counts open cases only, so restrict the scope to open statuses
    first. Same numbers; the (status, due_date) index then reads ~2 % of the table instead of all."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from xiaobao.cases import selectors, views
    from xiaobao.cases.models import OPEN_STATUSES, UNDECIDED_STATUSES

    def desk_counts(*, user, today: dt.date | None = None) -> dict[str, int]:
        today = today or timezone.localdate()
        scope = selectors.case_scope(user).filter(status__in=OPEN_STATUSES)
        return scope.aggregate(
            mine=Count("pk", filter=Q(handler=user)),
            unit=Count("pk", filter=Q(unit_id=user.unit_id)),
            due_today=Count(
                "pk",
                filter=Q(status__in=UNDECIDED_STATUSES)
                & (Q(due_date=today) | Q(response_due_date=today, responded_at=None)),
            ),
            overdue=Count("pk", filter=selectors.overdue_q(today)),
            urgent=Count("pk", filter=Q(urgent=True)),
        )

    views.desk_counts = selectors.desk_counts = desk_counts
    return "desk_counts() filters status IN OPEN_STATUSES before aggregating"


def scope_unit_ids() -> str:
    """case_scope(): filter unit_id IN (the visible unit ids, fetched once per request) instead of
    joining org_unit on path LIKE. The planner then estimates from cases_case.unit_id's own
    statistics; org_unit, a 27-row table that autovacuum never analyzes (threshold 50 rows),
    no longer steers the plan."""
    from xiaobao.accounts import access
    from xiaobao.cases import selectors
    from xiaobao.cases.models import Case
    from xiaobao.org.models import Unit

    def case_scope(user):
        cases = Case.objects.all()
        if access.is_admin(user):
            return cases
        if not user.is_authenticated or user.unit_id is None:
            return cases.none()
        ids = getattr(user, "_visible_unit_ids", None)
        if ids is None:
            ids = list(Unit.objects.filter(path__startswith=user.unit.path).values_list("pk", flat=True))
            user._visible_unit_ids = ids
        return cases.filter(unit_id__in=ids)

    selectors.case_scope = case_scope
    return "case_scope() filters unit_id IN (visible unit ids) instead of JOIN org_unit ON path LIKE"


def stats_sqlite_builtin() -> str:
    """case_stats() on SQLite: month keys and days-to-close from SQLite's own strftime() and
    julianday() instead of Django's time-zone-aware Python functions (TruncMonth(tzinfo=…) and the
    DurationField subtraction run as Python UDFs per row, and their results go through Python
    converters). Valid for a time zone without daylight saving (Asia/Shanghai: +08:00 since 1991)."""
    import statistics
    from collections import defaultdict

    from django.db import connection
    from django.db.models import CharField, Count, FloatField, Q
    from django.db.models.expressions import RawSQL
    from django.utils import timezone

    from xiaobao.cases import stats
    from xiaobao.cases.models import OPEN_STATUSES
    from xiaobao.cases.selectors import overdue_q

    original = stats.case_stats

    def case_stats(cases, *, by: str | None = None, today: dt.date | None = None) -> dict:
        if connection.vendor != "sqlite":
            return original(cases, by=by, today=today)
        today = today or timezone.localdate()
        minutes = int(timezone.localtime().utcoffset().total_seconds() // 60)
        if by == "month":
            keyed = cases.annotate(
                month=RawSQL(
                    "strftime(%s, cases_case.received_at, %s)",
                    ["%Y-%m", f"{minutes:+d} minutes"],
                    output_field=CharField(),
                )
            )
            key = "month"
        else:
            keyed, key = stats._keyed(cases, by)
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
            took=RawSQL(
                "julianday(cases_case.closed_at) - julianday(cases_case.received_at)",
                [],
                output_field=FloatField(),
            )
        )
        for group, days in closed.values_list(key or "pk", "took").iterator(chunk_size=20000):
            durations[stats._label(group) if key else None].append(days)
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
                label = stats._label(row[key])
                groups.append(shape(label, row, durations.get(label, [])))
        total_row = cases.aggregate(**aggregates)
        return {"groups": groups, "total": shape("合计", total_row, durations.get(None, []))}

    stats.case_stats = case_stats
    from xiaobao.cases.management.commands import cases as command

    command.case_stats = case_stats
    return "case_stats() on SQLite uses strftime()/julianday() instead of Python UDFs and converters"


COMMON_HITS = 2_000


def fts_order_by_date() -> str:
    """search_q() on SQLite: probe the FTS index for up to COMMON_HITS matches first (cheap: FTS5
    streams rowids). A common phrase is filtered with `+id IN (…)` so SQLite walks received_at
    backwards and stops at the 50th hit, instead of fetching every matching row by rowid and
    sorting them all; a rare phrase keeps the rowid lookups."""
    from django.db import connection
    from django.db.models import BooleanField, Q
    from django.db.models.expressions import RawSQL

    from xiaobao.cases import selectors

    original = selectors.search_q
    fts = "SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s"

    def search_q(text: str) -> Q:
        text = text.strip()
        if len(text) < 3 or connection.vendor != "sqlite":
            return original(text)
        phrase = '"' + text.replace('"', '""') + '"'
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM ({fts} LIMIT {COMMON_HITS})", [phrase])
            common = cur.fetchone()[0] >= COMMON_HITS
        if not common:
            return original(text)
        return Q(RawSQL(f'+"cases_case"."id" IN ({fts})', [phrase], output_field=BooleanField()))

    selectors.search_q = search_q
    return f"SQLite search: phrases with ≥ {COMMON_HITS:,} FTS hits filter with +id IN (…) (walk received_at)"


COUNT_CAP = 10_000


def capped_count() -> str:
    """The desk's Paginator counts at most COUNT_CAP + 1 rows (SELECT COUNT(*) FROM (… LIMIT 10001),
    unordered);
    the page would show "10,000+ 条". 200 pages of 50 stay reachable. A product decision, not a
    pure optimisation: the exact total of a broad list is no longer shown."""
    from functools import cached_property

    from django.core.paginator import Paginator

    from xiaobao.cases import views

    class CappedPaginator(Paginator):
        @cached_property
        def count(self) -> int:
            # order_by(): without it Django keeps ORDER BY in the counted subquery and the database
            # walks received_at row by row instead of counting from an index.
            return self.object_list.order_by()[: COUNT_CAP + 1].count()

    views.Paginator = CappedPaginator
    return f"desk Paginator counts at most {COUNT_CAP + 1:,} rows"


def search_cap_1000() -> str:
    """A full-text search counts its matches up to 1,000 (+1) instead of 10,000: the page says
    "超过 1,000 条". A product decision: who searches a phrase found in a tenth of the cases reads
    the newest pages, not the total (the statistics page counts by category)."""
    from xiaobao.cases import views

    views.COUNT_CAP = 1_000
    return "desk count cap 1,000 (search scenarios only are meaningful)"


PATCHES = {
    "search_cap_1000": search_cap_1000,
    "fts_order_by_date": fts_order_by_date,
    "capped_count": capped_count,
    "desk_counts_open": desk_counts_open,
    "scope_unit_ids": scope_unit_ids,
    "stats_sqlite_builtin": stats_sqlite_builtin,
}


def apply(names: list[str]) -> list[str]:
    return [PATCHES[name]() for name in names]
