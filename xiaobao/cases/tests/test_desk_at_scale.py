"""The desk's fixes for a million cases (bench/results/cases-list.md): the capped count, the FTS
probe for common phrases, the short-term fallback, SQLite's builtin statistics, the indexes and
the planner statistics. Each checks behaviour against the plain computation, on either database."""

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from xiaobao.cases import selectors, stats, views
from xiaobao.cases.models import Case, CaseStatus
from xiaobao.cases.selectors import CaseFilter, case_list
from xiaobao.imports.tests.files import run_import, write_csv

from .conftest import at
from .test_import_cases import canonical_rows

migration = importlib.import_module("xiaobao.cases.migrations.0004_desk_and_search_indexes")


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def desk_text(client, **params) -> str:
    return client.get(reverse("cases-desk"), params).content.decode()


# ---------------------------------------------------------------- capped count


def test_the_count_stops_at_the_cap_and_says_more(logged_in, make_case, monkeypatch):
    for i in range(5):
        make_case(description=f"第 {i} 位客户反映销售误导")
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    page = desk_text(logged_in)
    assert "超过 3 条" in page and "共 5 条" not in page
    assert "第 1 页" in page and "第 1 / 1 页" not in page
    monkeypatch.setattr(views, "COUNT_CAP", 5)  # exactly at the cap: the exact count
    page = desk_text(logged_in)
    assert "共 5 条" in page and "超过" not in page and "第 1 / 1 页" in page


def test_pages_past_the_cap_stay_reachable(logged_in, make_case, monkeypatch):
    cases = [make_case(description=f"第 {i} 位客户反映销售误导") for i in range(5)]
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    # Counted up to 4 rows: pages 1 and 2 are known, and the cap's extra row makes page 2 full.
    page = desk_text(logged_in, page=2)
    assert "第 2 页" in page and "下一页" not in page
    oldest_first = sorted(cases, key=lambda c: (c.received_at, c.pk))
    assert oldest_first[-3].case_no in page and oldest_first[-4].case_no in page


def test_the_capped_paginator_counts_in_one_unordered_query(alice, make_case):
    for _ in range(4):
        make_case()
    cases = case_list(user=alice, f=CaseFilter())
    with CaptureQueriesContext(connection) as queries:
        paginator = views.CappedPaginator(cases, 50, cap=2)
        assert (paginator.count, paginator.over_cap, paginator.cap_label) == (3, True, "2")
    assert len(queries) == 1 and "ORDER BY" not in queries[0]["sql"].upper()
    assert views.CappedPaginator(cases, 50, cap=10_000).cap_label == "10,000"


def test_the_capped_count_in_english(alice, make_case):
    from django.template.loader import render_to_string

    for _ in range(3):
        make_case()
    page = views.CappedPaginator(case_list(user=alice, f=CaseFilter()), 50, cap=2).get_page(1)
    with translation.override("en"):
        assert render_to_string("cases/_count.html", {"page": page}).strip() == "2+ in total"
    with translation.override("zh-hans"):
        assert render_to_string("cases/_count.html", {"page": page}).strip() == "超过 2 条"


def test_a_short_search_term_has_a_lower_cap(logged_in, make_case, monkeypatch):
    for i in range(3):
        make_case(category="理赔纠纷", description=f"重疾理赔资料已提交 {i} 天")
    monkeypatch.setattr(views, "SHORT_SEARCH_COUNT_CAP", 2)
    assert "超过 2 条" in desk_text(logged_in, q="赔")  # one character: a scan on either database
    assert "共 3 条" in desk_text(logged_in, q="重疾理赔")  # a trigram: the ordinary cap
    # Two characters: SQLite finds them through its index (the ordinary cap), PostgreSQL scans.
    two = "共 3 条" if connection.vendor == "sqlite" else "超过 2 条"
    assert two in desk_text(logged_in, q="理赔")


TWO_CHARACTERS = [
    "骨折",  # the whole text
    "骨折后住院三十天申请理赔",  # at the start
    "客户称小腿骨折后申请理赔",  # in the middle
    "客户申请理赔, 原因: 小腿骨折",  # at the very end
    "骨折骨折",  # twice
    "客户称小腿\n骨折",  # after a line break
]


def test_a_two_character_term_is_found_wherever_it_stands(alice, make_case, monkeypatch):
    holding = [make_case(description=text) for text in TWO_CHARACTERS]
    make_case(description="客户称小腿骨头疼, 折返医院")  # both characters, not together
    make_case(description="骨")
    edited = make_case(description="咨询保单贷款")

    def found(q: str) -> set[int]:
        return set(case_list(user=alice, f=CaseFilter(q=q)).values_list("pk", flat=True))

    assert found("骨折") == {c.pk for c in holding}
    assert found("理赔") == {c.pk for c in holding[1:4]}
    assert found("贷款") == {edited.pk} and found("饮料") == set()
    edited.description = "咨询保单贷款, 已告知可在 APP 办理骨折"  # the update trigger re-indexes it
    edited.save(update_fields=["description"])
    assert found("骨折") == {c.pk for c in holding} | {edited.pk} and found("贷款") == {edited.pk}
    # The common form (the page walks received_at) finds the same cases.
    monkeypatch.setattr(selectors, "FTS_COMMON_HITS", 2)
    assert found("骨折") == {c.pk for c in holding} | {edited.pk}
    if connection.vendor == "sqlite":
        sql = str(case_list(user=alice, f=CaseFilter(q="骨折")).query)
        assert "MATCH" in sql and '"description" LIKE' not in sql
        assert not selectors.is_short_search("骨折") and selectors.is_short_search("ap")
        # Past FTS_MAX_TERMS distinct trigrams the term is scanned for, with the same result.
        monkeypatch.setattr(selectors, "FTS_MAX_TERMS", 1)
        sql = str(case_list(user=alice, f=CaseFilter(q="骨折")).query)
        assert "MATCH" not in sql and '"description" LIKE' in sql
        assert found("骨折") == {c.pk for c in holding} | {edited.pk}


def test_an_import_indexes_two_character_terms_at_the_end_of_a_text(alice, tmp_path):
    header, first, *_, last = canonical_rows()
    first[12], last[12] = "客户申请理赔, 原因: 小腿骨折", "客户咨询保单贷款"
    assert run_import("cases", write_csv(tmp_path / "cases.csv", [header, first, last]))["created"] == 2
    assert [c.case_no for c in case_list(user=alice, f=CaseFilter(q="骨折"))] == ["TS-001"]
    assert [c.case_no for c in case_list(user=alice, f=CaseFilter(q="贷款"))] == ["GD-006"]


def test_the_desk_query_count_stays_constant_with_the_probe(logged_in, make_case, monkeypatch):
    """A search on SQLite adds the FTS probe: one query, whatever the number of cases."""
    make_case(description="客户反映退保损失过大")
    with CaptureQueriesContext(connection) as one:
        desk_text(logged_in, q="退保损失")
    for i in range(25):
        make_case(description=f"第 {i} 位客户反映退保损失过大", customer_phone=f"139{i:08d}")
    with CaptureQueriesContext(connection) as many:
        desk_text(logged_in, q="退保损失")
    assert len(many.captured_queries) == len(one.captured_queries)
    probes = [q for q in many.captured_queries if q["sql"].startswith("SELECT count(*) FROM (SELECT rowid")]
    assert len(probes) == (1 if connection.vendor == "sqlite" else 0)  # the page and the count share it
    with CaptureQueriesContext(connection) as two:
        desk_text(logged_in, q="退保")  # 2 characters: on SQLite the vocabulary is read once too
    reads = [q for q in two.captured_queries if "cases_case_fts_terms" in q["sql"]]
    assert len(reads) == (1 if connection.vendor == "sqlite" else 0)


# ---------------------------------------------------------------- search


def test_common_and_rare_phrases_find_the_same_cases(alice, make_case, monkeypatch):
    wanted = [make_case(description=f"客户 {i} 反映退保损失过大, 要求赔偿") for i in range(4)]
    make_case(description="客户反映理赔太慢")
    make_case(description="退保 损失")  # not the phrase
    f = CaseFilter(q="退保损失")

    def found(threshold: int) -> tuple[list[int], str]:
        monkeypatch.setattr(selectors, "FTS_COMMON_HITS", threshold)
        cases = case_list(user=alice, f=f)
        return list(cases.values_list("pk", flat=True)), str(cases.query)

    rare, rare_sql = found(1000)
    common, common_sql = found(2)
    assert rare == common == [c.pk for c in sorted(wanted, key=lambda c: (c.received_at, c.pk), reverse=True)]
    if connection.vendor == "sqlite":
        assert "(+" in common_sql and "(+" not in rare_sql
    # The count is driven by rowid up to FTS_COUNT_BY_ROWID matches, then walks like the page.
    for limit, walks in ((1000, False), (2, True)):
        monkeypatch.setattr(selectors, "FTS_COUNT_BY_ROWID", limit)
        counted = case_list(user=alice, f=f, counting=True)
        assert counted.order_by()[:100].count() == 4
        assert ("(+" in str(counted.query)) == (walks and connection.vendor == "sqlite")
    # Sliced, counted and used as a subquery the common form still names the right table.
    assert case_list(user=alice, f=f).order_by()[:3].count() == 3
    assert Case.objects.filter(pk__in=case_list(user=alice, f=f).values("pk")).count() == 4


def test_short_terms_match_without_case_folding_only_where_there_is_no_case(alice, make_case):
    claims = make_case(description="重疾理赔资料已提交二十天仍未结案, APP 无法上传")
    other = make_case(description="咨询保单贷款利率")

    def found(q: str) -> set[int]:
        return set(case_list(user=alice, f=CaseFilter(q=q)).values_list("pk", flat=True))

    assert found("理赔") == {claims.pk} and found("贷款") == {other.pk}
    assert found("ap") == {claims.pk} == found("AP")  # cased letters: still case-insensitive
    if connection.vendor == "postgresql":
        assert "UPPER" not in str(case_list(user=alice, f=CaseFilter(q="理赔")).query)
        assert "UPPER" in str(case_list(user=alice, f=CaseFilter(q="ap")).query)


# ---------------------------------------------------------------- statistics


def _spread(make_case) -> None:
    """Cases across months (one on a month boundary in Shanghai but not in UTC), closed after
    whole-second, millisecond and exact-half-hundredth durations, some open, one 已办结 without
    a date."""
    specs = [
        # received (Shanghai), closed after, status, kind
        ("2024-08-31 23:30", dt.timedelta(hours=27), CaseStatus.CLOSED, "投诉"),  # 1.125 days
        ("2024-09-01 00:30", dt.timedelta(days=3, seconds=7, milliseconds=250), CaseStatus.CLOSED, "投诉"),
        ("2024-09-01 07:59", dt.timedelta(hours=36), CaseStatus.WITHDRAWN, "咨询"),
        ("2024-09-15 10:00", dt.timedelta(days=10, minutes=1), CaseStatus.CLOSED, "咨询"),
        ("2024-09-19 16:00", None, CaseStatus.IN_PROGRESS, "投诉"),
        ("2024-07-02 09:00", dt.timedelta(days=21, seconds=1), CaseStatus.CLOSED, "投诉"),
        ("2024-07-31 20:00", None, CaseStatus.ACCEPTED, "咨询"),
    ]
    for received, took, status, kind in specs:
        case = make_case(kind=kind, category="" if kind == "咨询" else "销售纠纷")
        closed = at(received) + took if took else None
        Case.objects.filter(pk=case.pk).update(
            received_at=at(received), closed_at=closed, status=status, on_time=True if took else None
        )
    undated = make_case()
    Case.objects.filter(pk=undated.pk).update(status=CaseStatus.CLOSED, closed_at=None)


@pytest.mark.parametrize("by", [None, "month", "kind", "unit", "channel"])
def test_stats_are_the_same_with_sqlite_builtins_as_with_the_generic_expressions(make_case, monkeypatch, by):
    _spread(make_case)
    cases = Case.objects.all()
    fast = stats.case_stats(cases, by=by)
    monkeypatch.setattr(stats, "_sqlite_offset_minutes", lambda cases: None)
    generic = stats.case_stats(cases, by=by)
    assert fast == generic
    if by == "month":
        assert [g["key"] for g in fast["groups"]] == ["2024-07", "2024-08", "2024-09"]
        assert [g["count"] for g in fast["groups"]] == [2, 1, 5]


@pytest.mark.parametrize("by", ["month", "kind", "unit", "channel", "category"])
def test_the_total_of_a_grouped_report_is_the_ungrouped_report(make_case, by):
    """With a grouping, the total's counts are the sums of the groups' (one pass, not two)."""
    _spread(make_case)
    cases = Case.objects.all()
    grouped = stats.case_stats(cases, by=by)
    assert grouped["groups"]
    assert grouped["total"] == stats.case_stats(cases)["total"]


def test_sqlite_uses_its_builtins_only_without_daylight_saving(make_case):
    from django.utils import timezone

    make_case()
    expected = 480 if connection.vendor == "sqlite" else None
    assert stats._sqlite_offset_minutes(Case.objects.all()) == expected
    with timezone.override("Europe/Berlin"):
        assert stats._sqlite_offset_minutes(Case.objects.all()) is None


def test_closed_counts_cases_closed_without_a_date(make_case):
    _spread(make_case)
    total = stats.case_stats(Case.objects.all())["total"]
    # 5 with a closing date, 1 已办结 without one (as CFPB files import them); 2 open.
    assert (total["count"], total["closed"], total["open"]) == (8, 6, 2)
    assert total["median_days_to_close"] == 3.0  # of the 5 dated durations only


def test_medians_interpolate_between_the_two_middle_durations_on_every_database(make_case):
    """PostgreSQL takes them with percentile_cont, SQLite's come back to Python: the same figures."""
    import statistics as py

    _spread(make_case)
    by_kind = {
        g["key"]: g["median_days_to_close"] for g in stats.case_stats(Case.objects.all(), by="kind")["groups"]
    }
    day = dt.timedelta(days=1)
    complaints = [
        dt.timedelta(hours=27),
        dt.timedelta(days=3, seconds=7, milliseconds=250),
        dt.timedelta(days=21, seconds=1),
    ]
    inquiries = [dt.timedelta(hours=36), dt.timedelta(days=10, minutes=1)]  # two: the mean of both
    assert by_kind == {
        "投诉": round(py.median(t / day for t in complaints), 2),
        "咨询": round(py.median(t / day for t in inquiries), 2),
    }
    assert by_kind["咨询"] == 5.75


# ---------------------------------------------------------------- indexes and statistics


class _Editor:
    def __init__(self) -> None:
        self.connection = connection

    def execute(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cases_case'"
            )
        else:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'cases_case'")
        return {name: sql or "" for name, sql in cursor.fetchall()}


@pytest.mark.django_db
def test_the_migration_builds_the_desk_and_search_indexes_and_reverses():
    def check_forwards():
        indexes = _indexes()
        if connection.vendor == "sqlite":
            assert "responded_at" in indexes["case_unit_status"]
        else:
            assert "WHERE" in indexes["case_open_desk"] and "responded_at" in indexes["case_open_desk"]
            assert "upper(description)" in indexes["cases_case_description_upper_trgm"]
            assert "cases_case_description_trgm" not in indexes

    check_forwards()
    migration.backwards(None, _Editor())
    indexes = _indexes()
    if connection.vendor == "sqlite":
        assert "responded_at" not in indexes["case_unit_status"]
    else:
        assert "case_open_desk" not in indexes and "cases_case_description_trgm" in indexes
    migration.forwards(None, _Editor())
    check_forwards()


def test_analyze_gives_the_planner_statistics(make_case):
    from xiaobao.cases.maintenance import analyze_cases

    make_case()
    analyze_cases()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'cases_case'")
            assert cursor.fetchone()[0] > 0
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'org_unit'")
            assert cursor.fetchone()[0] > 0
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'cases_case'")
            assert cursor.fetchone()[0] > 0
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'org_unit'")
            assert cursor.fetchone()[0] > 0


def test_a_migrate_refreshes_the_statistics_sqlite_only_when_needed(make_case):
    from xiaobao.cases.maintenance import analyze_after_migrate

    make_case()

    def analyzes(plan) -> bool:
        with CaptureQueriesContext(connection) as queries:
            analyze_after_migrate(None, using="default", plan=plan)
        return any(q["sql"].startswith("ANALYZE") for q in queries.captured_queries)

    assert analyzes(None) and analyzes([("a migration", False)])
    # Nothing migrated and statistics present: PostgreSQL still refreshes (cheap), SQLite not.
    assert analyzes([]) == (connection.vendor == "postgresql")


def test_an_import_refreshes_the_statistics_but_a_dry_run_does_not(tree, clock, tmp_path, monkeypatch):
    from xiaobao.cases import importers

    calls = []
    monkeypatch.setattr(importers, "analyze_cases", lambda using="default": calls.append(using))
    path = write_csv(tmp_path / "cases.csv", canonical_rows())
    run_import("cases", path, "--dry-run")
    assert calls == []
    run_import("cases", path)
    assert calls == ["default"]
