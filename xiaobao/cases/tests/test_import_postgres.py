"""The case import's PostgreSQL path: rows sent as COPY text (lib.pgcopy), ids drawn from the
sequence, foreign keys checked chunk by chunk, and a load that doubles the table setting its
non-unique indexes aside until its end (lib.pgbulk)."""

import threading

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from xiaobao.cases.importers import CaseImporter
from xiaobao.cases.models import Case, CaseEvent
from xiaobao.cases.tests.test_import_pipeline import _file, _stored, spy_writes
from xiaobao.customers.models import Customer
from xiaobao.imports.tests.files import run_import, run_import_refused
from xiaobao.lib.pgbulk import IndexHold

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's COPY, sequences and index DDL"
)
TABLES = ("cases_case", "cases_caseevent")


def _indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY indexname",
            [list(TABLES)],
        )
        return cursor.fetchall()


def _analyze() -> None:
    """The size rule reads the planner's row count, which ANALYZE writes outside any transaction:
    another test's rolled-back import can have left one behind."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")


@pytest.mark.django_db
def test_a_load_that_doubles_the_table_sets_indexes_aside_and_stores_the_same_rows(
    tree, clock, tmp_path, monkeypatch
):
    monkeypatch.setattr(CaseImporter, "chunk_size", 3)  # 16 rows: six chunks
    _analyze()
    before = _indexes()
    assert sum(1 for _, definition in before if "gin_trgm_ops" in definition) == 1
    seen = spy_writes(monkeypatch, lambda: len(_indexes()))  # indexes when each chunk is written

    monkeypatch.setattr(CaseImporter, "bulk_min_rows", 10**9)  # never: the indexes stay
    kept = run_import("cases", _file(tmp_path, "kept"))
    assert "indexes_rebuilt" not in kept
    assert set(seen) == {len(before)}
    stored = _stored()
    Case.objects.all().delete()
    Customer.objects.all().delete()
    _analyze()

    seen.clear()
    monkeypatch.setattr(CaseImporter, "bulk_min_rows", 5)
    bulk = run_import("cases", _file(tmp_path, "bulk"))
    # Kept: the unique ones (case_no, the primary keys) and the partial ones (lib.pgbulk).
    kept_aside = sum(1 for _, definition in before if "UNIQUE INDEX" in definition or " WHERE " in definition)
    assert bulk["indexes_rebuilt"] == len(before) - kept_aside == 15
    # Chunk 1 (3 new cases) with every index; from chunk 2 (6 ≥ 5, the table empty) without the
    # others.
    assert seen[0] == len(before) and set(seen[1:]) == {kept_aside}
    assert _indexes() == before  # built again, as they were
    for name in ("rows_read", "created", "updated", "unchanged", "rejected"):
        assert bulk[name] == kept[name], name
    assert _stored() == stored
    # The rebuilt indexes serve: the full-text search finds the imported descriptions.
    assert Case.objects.filter(description__icontains="理赔太慢").count() == 14


@pytest.mark.django_db
def test_a_small_load_into_a_larger_table_keeps_its_indexes(tree, clock, tmp_path, monkeypatch):
    monkeypatch.setattr(CaseImporter, "chunk_size", 3)
    monkeypatch.setattr(CaseImporter, "bulk_min_rows", 5)
    _analyze()
    run_import("cases", _file(tmp_path, "first"))  # 14 cases in the table, analyzed after the import
    before = _indexes()
    seen = spy_writes(monkeypatch, lambda: len(_indexes()))  # indexes when each chunk is written
    Case.objects.filter(case_no__in=["PL-00", "PL-01", "PL-02", "PL-03"]).delete()
    again = run_import("cases", _file(tmp_path, "again"))  # 4 new cases against 10 stored
    assert again["created"] == 4 and "indexes_rebuilt" not in again
    assert set(seen) == {len(before)} and _indexes() == before


@pytest.mark.django_db
def test_a_failed_bulk_load_rolls_back_to_the_indexes_it_started_with(tree, clock, tmp_path, monkeypatch):
    monkeypatch.setattr(CaseImporter, "chunk_size", 3)
    monkeypatch.setattr(CaseImporter, "bulk_min_rows", 5)
    _analyze()
    before = _indexes()
    write, calls = CaseImporter._write, []

    def failing(self, *args):
        calls.append(len(_indexes()))
        if len(calls) == 4:
            raise DatabaseError("磁盘已满")
        return write(self, *args)

    monkeypatch.setattr(CaseImporter, "_write", failing)
    summary, message = run_import_refused("cases", _file(tmp_path, "failing"), returncode=1)
    assert summary["status"] == "failed" and "已全部回滚" in message
    assert calls[-1] < len(before)  # it had set them aside
    assert _indexes() == before
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_indexes_are_not_set_aside_while_another_session_reads_the_table():
    """DROP INDEX would wait for the reader and queue every later reader behind it: after the
    short lock_timeout the load goes on with its indexes, and its transaction stays usable."""
    before = _indexes()
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        (timeout,) = cursor.fetchone()
    settings = connection.settings_dict
    reader = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    )
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM cases_case")  # holds ACCESS SHARE until it ends
        with transaction.atomic():
            hold = IndexHold(TABLES)
            assert hold.drop() is False
            assert _indexes() == before
            assert Case.objects.count() == 0  # the transaction goes on
            with connection.cursor() as cursor:
                cursor.execute("SHOW lock_timeout")
                assert cursor.fetchone()[0] == timeout  # restored
        reader.execute("ROLLBACK")
        with transaction.atomic():
            hold = IndexHold(TABLES)
            assert hold.drop() is True and len(_indexes()) < len(before)
            hold.rebuild()
            assert _indexes() == before
    finally:
        reader.close()


@pytest.mark.django_db
def test_new_ids_come_from_the_sequence_so_later_cases_follow_them(make_case, tmp_path, monkeypatch):
    monkeypatch.setattr(CaseImporter, "chunk_size", 3)
    run_import("cases", _file(tmp_path, "ids"))
    top = Case.objects.order_by("-pk").values_list("pk", flat=True)[0]
    events = dict(CaseEvent.objects.filter(action="import").values_list("case__case_no", "case_id"))
    assert events == dict(Case.objects.values_list("case_no", "pk"))  # each event names its own case
    assert make_case().pk > top


@pytest.mark.django_db
def test_foreign_keys_are_deferred_again_after_each_chunk(tree, clock, tmp_path, monkeypatch):
    """The chunk's statements check their own foreign keys (SET CONSTRAINTS ALL IMMEDIATE on the
    writer thread); afterwards the transaction defers them again, as Django declares them."""
    monkeypatch.setattr(CaseImporter, "chunk_size", 3)
    threads = spy_writes(monkeypatch, threading.current_thread)
    with transaction.atomic():
        run_import("cases", _file(tmp_path, "deferred"))
        with connection.cursor() as cursor:
            # An event of a case that does not exist: accepted until COMMIT, as before the import.
            cursor.execute(
                "INSERT INTO cases_caseevent (case_id, at, action, from_status, to_status, reason, details) "
                "VALUES (-1, now(), 'x', '', '', '', '{}')"
            )
            transaction.set_rollback(True)
    assert threads and all(t is not threading.main_thread() for t in threads)


@pytest.mark.django_db
def test_indexes_are_built_again_over_rows_whose_checks_are_still_deferred(make_case):
    """CREATE INDEX refuses a table with pending trigger events, such as the deferred foreign-key
    checks of a case registered after the indexes were set aside: the rebuild runs them first."""
    before = _indexes()
    with transaction.atomic():
        hold = IndexHold(TABLES)
        assert hold.drop() is True
        case = make_case()  # its unit's and customer's foreign-key checks wait for COMMIT
        hold.rebuild()
        assert Case.objects.filter(description__icontains="保本高收益").get() == case
    assert _indexes() == before
