"""The watchlist check at intake: a case from a listed phone is flagged (stored) and shown on the
desk and the case page; a cases import is checked in bulk; a surrenders import records its hits
and says so in the batch message; the daily scan of `xiaobao worker` runs once a day."""

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xiaobao.book.tests.helpers import POLICY_HEADER, SURRENDER_HEADER, policy_row, run_cli
from xiaobao.cases.models import Case
from xiaobao.cases.services import case_create
from xiaobao.imports.models import ImportBatch
from xiaobao.imports.tests.files import run_import, write_csv
from xiaobao.privacy.services import personal_token
from xiaobao.risk import reminders, services
from xiaobao.risk.models import HitSource, ScanState, WatchlistHit, WatchlistRowHit

RING_PHONE = "13712341234"
RING_ACCOUNT = "6222020202029999"


def listed(alice, tree, kind="phone", value=RING_PHONE, masked="137****1234"):
    return services.watch_add(
        actor=alice,
        kind=kind,
        token=personal_token(kind, value),
        masked=masked,
        reason="代办人赵某的电话",
        unit=tree["C1"],
    )


def new_case(alice, tree, phone, name="王五", **kw):
    return case_create(
        actor=alice,
        unit=tree["C1"],
        kind="投诉",
        channel="4008热线",
        category="销售纠纷",
        description="客户要求全额退保",
        customer_name=name,
        customer_phone=phone,
        **kw,
    )


def desk_rows(client) -> dict[str, str]:
    """case_no → the desk row's HTML."""
    body = client.get(reverse("cases-desk")).content.decode()
    rows = {}
    for chunk in body.split("<tr")[1:]:
        for case in Case.objects.values_list("case_no", flat=True):
            if f">{case}</a>" in chunk:
                rows[case] = chunk
    return rows


def test_a_case_from_a_listed_phone_is_flagged_on_the_desk_and_the_case_page(client, alice, tree):
    entry = listed(alice, tree)
    flagged = new_case(alice, tree, "137 1234 1234")  # normalised like any phone
    clean = new_case(alice, tree, "13800001111")

    hit = WatchlistHit.objects.get()
    assert (hit.case, hit.entry, hit.source) == (flagged, entry, HitSource.INTAKE)

    client.force_login(alice)
    rows = desk_rows(client)
    assert 'data-testid="risk-badge"' in rows[flagged.case_no] and "黑产库" in rows[flagged.case_no]
    assert "risk-badge" not in rows[clean.case_no]
    page = client.get(reverse("cases-detail", args=[flagged.pk])).content.decode()
    assert 'data-testid="risk-flag"' in page and "137****1234" in page
    assert (
        'data-testid="risk-flag"' not in client.get(reverse("cases-detail", args=[clean.pk])).content.decode()
    )

    # The intake page lists it, with a link to the case.
    hits = client.get(reverse("risk-hits")).content.decode()
    assert reverse("cases-detail", args=[flagged.pk]) in hits and clean.case_no not in hits

    # Removing the entry takes the flag off the desk; the hit row stays as history.
    services.watch_remove(actor=alice, entry=entry, reason="误列")
    assert "risk-badge" not in desk_rows(client)[flagged.case_no]
    assert WatchlistHit.objects.count() == 1


def test_the_desk_badge_costs_no_query_per_row(client, alice, tree):
    listed(alice, tree)
    new_case(alice, tree, RING_PHONE)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("cases-desk")).status_code == 200
    for i in range(12):
        new_case(alice, tree, RING_PHONE if i % 2 else f"139{i:08d}", name=f"客户{i}")
    with CaptureQueriesContext(connection) as many:
        body = client.get(reverse("cases-desk")).content.decode()
    assert body.count('data-testid="risk-badge"') == 7
    assert len(many.captured_queries) == len(one.captured_queries)


def test_listing_a_token_flags_the_cases_already_registered(alice, tree):
    older = new_case(alice, tree, RING_PHONE)
    assert not WatchlistHit.objects.exists()
    listed(alice, tree)
    hit = WatchlistHit.objects.get()
    assert (hit.case, hit.source) == (older, HitSource.LISTED)


def cases_file(tmp_path: Path, name: str, n: int, flagged_every: int) -> Path:
    rows = [
        [
            "工单号",
            "受理时间",
            "工单类型",
            "来源渠道",
            "机构代码",
            "投诉事由",
            "诉求内容",
            "客户姓名",
            "客户电话",
        ]
    ]
    for i in range(n):
        phone = RING_PHONE if i % flagged_every == 0 else f"139{i:08d}"
        rows.append(
            [f"{name}-{i}", "2024-09-02 10:00", "投诉", "柜面", "C1", "其他", f"第{i}件", f"客户{i}", phone]
        )
    return write_csv(tmp_path / f"{name}.csv", rows)


def _risk_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "risk_" in q["sql"]]


def test_an_import_of_cases_is_flagged_in_bulk_with_a_constant_number_of_queries(alice, tree, tmp_path):
    listed(alice, tree)
    counts = []
    for n, name in ((10, "small"), (60, "large")):
        with CaptureQueriesContext(connection) as queries:
            assert run_import("cases", cases_file(tmp_path, name, n, flagged_every=5))["created"] == n
        counts.append(_risk_queries(queries.captured_queries))
        flagged = set(
            WatchlistHit.objects.filter(case__case_no__startswith=f"{name}-").values_list(
                "case__case_no", flat=True
            )
        )
        assert flagged == {f"{name}-{i}" for i in range(0, n, 5)}
    assert len(counts[0]) == len(counts[1]) <= 3, counts


def test_an_import_of_cases_without_a_watchlist_costs_one_check_per_chunk(alice, tree, tmp_path):
    with CaptureQueriesContext(connection) as queries:
        run_import("cases", cases_file(tmp_path, "plain", 30, flagged_every=7))
    assert len(_risk_queries(queries.captured_queries)) == 1
    assert not WatchlistHit.objects.exists()


def surrender_row(policy_no: str, account: str, phone: str = "") -> list:
    return [
        policy_no,
        "2024-05-06",
        "2024-05-08",
        "8000",
        "6000",
        "是",
        "委托代办",
        phone,
        "李四",
        account,
        "资金周转",
        "",
    ]


@pytest.mark.parametrize("command", ["book-import", "import"])
def test_a_surrenders_import_with_a_listed_payee_account_records_the_hit(alice, tree, tmp_path, command):
    run_cli(
        "book-import",
        "policies",
        write_csv(tmp_path / "p.csv", [POLICY_HEADER] + [policy_row(i) for i in (1, 2, 3)]),
    )
    entry = listed(alice, tree, kind="account", value=RING_ACCOUNT, masked="****9999")
    rows = [
        SURRENDER_HEADER,
        surrender_row("P000001", "6222 0202 0202 9999"),
        surrender_row("P000002", "6222020202021234"),
        surrender_row("P000003", RING_ACCOUNT, phone=RING_PHONE),  # the phone is not listed
    ]

    summary = run_cli(command, "surrenders", write_csv(tmp_path / "s.csv", rows))

    assert summary["created"] == 3
    hits = list(
        WatchlistRowHit.objects.order_by("key").values_list(
            "table", "key", "policy_no", "org_code", "column", "entry"
        )
    )
    assert hits == [
        ("surrenders", "P000001|2024-05-06", "P000001", "C1", "payee_account", entry.pk),
        ("surrenders", "P000003|2024-05-06", "P000003", "C1", "payee_account", entry.pk),
    ]
    assert summary["risk_watchlist"]["rows"] == 2
    assert "命中疑似退保黑产信息库 2 行" in summary["message"]  # both commands say so
    batch = ImportBatch.objects.get(pk=summary["batch"])
    assert batch.details["risk_watchlist"]["rows"] == 2

    # Importing the same file again writes no row, so nothing new is flagged.
    again = run_cli(command, "surrenders", write_csv(tmp_path / "s2.csv", rows))
    assert "risk_watchlist" not in again and WatchlistRowHit.objects.count() == 2


def test_rows_imported_before_a_token_is_listed_are_flagged_when_it_is_and_by_the_daily_scan(
    alice, tree, tmp_path
):
    run_cli(
        "book-import",
        "policies",
        write_csv(tmp_path / "p.csv", [POLICY_HEADER] + [policy_row(i) for i in (1, 2)]),
    )
    rows = [
        SURRENDER_HEADER,
        surrender_row("P000001", RING_ACCOUNT),
        surrender_row("P000002", "6222020202021234"),
    ]
    summary = run_cli("book-import", "surrenders", write_csv(tmp_path / "s.csv", rows))
    assert "risk_watchlist" not in summary and not WatchlistRowHit.objects.exists()

    entry = listed(alice, tree, kind="account", value=RING_ACCOUNT, masked="****9999")

    hit = WatchlistRowHit.objects.get()
    assert (hit.table, hit.key, hit.column, hit.entry, hit.batch_id) == (
        "surrenders",
        "P000001|2024-05-06",
        "payee_account",
        entry,
        summary["batch"],
    )
    # The daily scan finds what no listing told it about (here: the hit removed by hand), once.
    WatchlistRowHit.objects.all().delete()
    assert reminders.scan(timezone.localdate())["risk_row_hits"] == 1
    assert reminders.scan(timezone.localdate())["risk_row_hits"] == 0
    assert WatchlistRowHit.objects.count() == 1


def test_the_intake_page_lists_surrender_rows_only_to_their_units(client, alice, personas, tree, tmp_path):
    from xiaobao.accounts.models import Role

    run_cli("book-import", "policies", write_csv(tmp_path / "p.csv", [POLICY_HEADER, policy_row(1)]))
    listed(alice, tree, kind="account", value=RING_ACCOUNT, masked="****9999")
    run_cli(
        "book-import",
        "surrenders",
        write_csv(tmp_path / "s.csv", [SURRENDER_HEADER, surrender_row("P000001", RING_ACCOUNT)]),
    )
    client.force_login(personas[(Role.OFFICER, "inside")])
    page = client.get(reverse("risk-hits")).content.decode()
    assert "P000001|2024-05-06" in page and "领款账号" in page and "?policy_no=P000001" in page
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert "P000001|2024-05-06" not in client.get(reverse("risk-hits")).content.decode()


# ---------------------------------------------------------------- the daily scan


@pytest.fixture
def audit_log_flushable(transactional_db):
    """As in xiaobao/book/tests/conftest.py: SQLite's flush after a transactional test meets the audit
    table's append-only trigger, so empty that table with the trigger lifted."""
    import importlib

    from xiaobao.audit.models import AuditEntry

    yield
    if connection.vendor != "sqlite":
        return
    append_only = importlib.import_module("xiaobao.audit.migrations.0002_append_only")
    with connection.schema_editor() as editor:
        append_only.backwards(None, editor)
        editor.execute(f"DELETE FROM {AuditEntry._meta.db_table}")
        append_only.forwards(None, editor)


def test_the_daily_scan_runs_once_a_day_and_not_before_its_hour(alice, tree, settings, monkeypatch):
    settings.XIAOBAO_RISK_SCAN_HOUR = 2
    runs = []
    monkeypatch.setattr(reminders, "scan", lambda as_of: runs.append(as_of) or {"risk_clusters": 0})
    tz = timezone.get_current_timezone()
    early = dt.datetime(2025, 6, 20, 1, 30, tzinfo=tz)
    assert reminders.run(now=early) == {} and runs == []
    day = dt.datetime(2025, 6, 20, 9, 0, tzinfo=tz)
    assert reminders.run(now=day) == {} and len(runs) == 1
    with CaptureQueriesContext(connection) as queries:
        assert reminders.run(now=day + dt.timedelta(hours=3)) == {}
    assert len(queries) <= 2  # the conditional update (and the row's existence): cheap
    assert len(runs) == 1
    reminders.run(now=day + dt.timedelta(days=1))
    assert runs == [dt.date(2025, 6, 19), dt.date(2025, 6, 20)]
    state = ScanState.objects.get()
    assert state.last_date == dt.date(2025, 6, 21) and state.finished_at is not None
    assert state.result == {"risk_clusters": 0}


def test_the_daily_scan_records_hits_of_cases_the_intake_missed(alice, tree):
    case = new_case(alice, tree, RING_PHONE)
    entry = listed(alice, tree)
    WatchlistHit.objects.all().delete()  # e.g. a case whose customer an import update changed
    counts = reminders.scan(dt.date(2025, 6, 19))
    assert counts["risk_case_hits"] == 1
    assert WatchlistHit.objects.get().case == case and entry.case_hits.get().source == HitSource.SCAN


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_the_daily_scan_once(tree, monkeypatch, audit_log_flushable):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is one connection: the race needs PostgreSQL")
    runs = []

    def slow_scan(as_of):
        runs.append(as_of)
        time.sleep(0.2)  # the other worker meanwhile finds the day claimed
        return {}

    monkeypatch.setattr(reminders, "scan", slow_scan)
    now = timezone.make_aware(dt.datetime(2025, 6, 20, 9, 0))
    start = threading.Barrier(2)
    results = []

    def worker():
        from django.db import connection as own

        try:
            start.wait()
            results.append(reminders.run(now=now))
        finally:
            own.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 1 and results == [{}, {}]


def test_two_claims_of_the_same_day_succeed_once(tree):
    day = dt.date(2025, 6, 20)
    assert reminders.claim(day) is True
    assert reminders.claim(day) is False
    ScanState.objects.update(last_date=dt.date(2025, 6, 19))
    assert [reminders.claim(day), reminders.claim(day)] == [True, False]


def test_a_failed_scan_is_recorded_and_waits_for_the_next_day(tree, monkeypatch):
    def broken(as_of):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(reminders, "scan", broken)
    now = timezone.make_aware(dt.datetime(2025, 6, 20, 9, 0))
    assert reminders.run(now=now) == {}
    assert ScanState.objects.get().result == {"error": "RuntimeError: 磁盘已满"}
    assert reminders.run(now=now) == {}  # not again today


def test_the_worker_runs_the_real_scan_once(alice, tree, settings):
    """Through `xiaobao worker --once`: the risk module's run() is found and scans (an empty book)."""
    import io

    from django.core.management import call_command

    settings.XIAOBAO_RISK_SCAN_HOUR = 0
    listed(alice, tree)
    case = new_case(alice, tree, RING_PHONE)
    WatchlistHit.objects.all().delete()
    call_command("worker", "--once", stdout=io.StringIO())
    state = ScanState.objects.get()
    assert state.last_date == timezone.localdate() and state.result["risk_case_hits"] == 1
    assert WatchlistHit.objects.get().case == case


def test_a_policies_import_checks_the_applicant_phone(alice, tree, tmp_path):
    entry = listed(alice, tree)
    rows = [POLICY_HEADER, policy_row(1), policy_row(2, applicant_phone=RING_PHONE)]
    summary = run_cli("book-import", "policies", write_csv(tmp_path / "p.csv", rows))
    assert summary["created"] == 2 and "命中疑似退保黑产信息库 1 行" in summary["message"]
    hit = WatchlistRowHit.objects.get()
    assert (hit.table, hit.key, hit.org_code, hit.column, hit.entry) == (
        "policies",
        "P000002",
        "C1",
        "applicant_phone",
        entry,
    )
