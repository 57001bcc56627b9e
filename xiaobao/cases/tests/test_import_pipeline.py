"""The case import writes each chunk on a writer thread while it reads the next one
(Importer.pipelined, lib.dbthread): the same rows as writing in turn, and one transaction."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connection

from xiaobao.cases.importers import CASE_COLUMNS, CaseImporter, _BulkInsert, _sql_literal
from xiaobao.cases.models import Case, CaseEvent
from xiaobao.customers.models import Customer
from xiaobao.imports.tests.files import run_import, run_import_refused, write_csv
from xiaobao.lib.idcard import id_check_char

HEADER = ["工单号", "受理时间", "工单类型", "来源渠道", "客户姓名", "来电号码", "证件号码", "机构代码", "投诉事由", "诉求内容", "状态", "办结时间"]  # fmt: skip


def _file(tmp_path, name: str):
    rows = [HEADER]
    for i in range(14):
        id_no = ""
        if i % 4 == 0:
            stem = f"37010219800101{i:03d}"
            id_no = stem + id_check_char(stem)
        status, closed = ("已办结", "2024-09-20") if i % 3 == 0 else ("", "")
        rows.append(
            [f"PL-{i:02d}", f"2024-09-{10 + i % 5:02d} 09:30", "投诉" if i % 2 else "咨询", "4008热线",
             "张三" if id_no else "", "13812345678" if id_no else "", id_no, "C1" if i % 5 else "C2",
             "理赔纠纷", f"第{i}件: 理赔太慢", status, closed]
        )  # fmt: skip
    rows.append(["PL-bad", "不是日期", "投诉", "4008热线", "", "", "", "C1", "理赔纠纷", "坏行", "", ""])
    rows.append(["PL-03", "2024-09-13 09:30", "咨询", "4008热线", "", "", "", "C1", "", "重复的工单号, 值不同", "", ""])  # fmt: skip
    return write_csv(tmp_path / f"{name}.csv", rows)


def _stored() -> tuple[list, list, int]:
    cases = list(
        Case.objects.order_by("case_no").values_list(
            "case_no", "kind", "status", "unit__code", "received_at", "due_date", "deadline_rule",
            "closed_at", "on_time", "description", "customer__id_no_token",
        )
    )  # fmt: skip
    events = sorted(
        (e.case.case_no, e.action, e.to_status, e.details["row"])
        for e in CaseEvent.objects.select_related("case")
    )
    return cases, events, Customer.objects.count()


def spy_writes(monkeypatch, observe: Callable[[], Any]) -> list:
    """What observe() returns each time the import writes a chunk (CaseImporter._write)."""
    seen = []
    write = CaseImporter._write

    def spy(self, *args):
        seen.append(observe())
        return write(self, *args)

    monkeypatch.setattr(CaseImporter, "_write", spy)
    return seen


def fail_third_write(monkeypatch) -> None:
    """The import's third chunk write fails, as a full disk would fail it."""
    write, calls = CaseImporter._write, []

    def failing(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise DatabaseError("磁盘已满")
        return write(self, *args)

    monkeypatch.setattr(CaseImporter, "_write", failing)


@pytest.mark.django_db
def test_chunks_written_on_the_writer_thread_store_what_writing_in_turn_stores(
    tree, clock, tmp_path, monkeypatch
):
    monkeypatch.setattr(CaseImporter, "chunk_size", 3)  # 16 rows: six chunks
    writers = spy_writes(monkeypatch, threading.current_thread)
    piped = run_import("cases", _file(tmp_path, "piped"))
    assert len(writers) >= 5 and all(t is not threading.main_thread() for t in writers)
    stored = _stored()
    assert stored[0] and len(stored[1]) == len(stored[0])

    Case.objects.all().delete()
    Customer.objects.all().delete()
    writers.clear()
    monkeypatch.setattr(CaseImporter, "pipelined", False)
    inline = run_import("cases", _file(tmp_path, "inline"))
    assert writers and all(t is threading.main_thread() for t in writers)

    for name in ("rows_read", "created", "updated", "unchanged", "rejected"):
        assert piped[name] == inline[name], name
    assert piped["rejected"] == 2 and piped["created"] == 14
    assert _stored() == stored


@pytest.mark.django_db
def test_an_error_on_the_writer_thread_rolls_back_every_chunk(tree, clock, tmp_path, monkeypatch):
    monkeypatch.setattr(CaseImporter, "chunk_size", 3)
    fail_third_write(monkeypatch)
    summary, message = run_import_refused("cases", _file(tmp_path, "failing"), returncode=1)
    assert summary["status"] == "failed"
    assert "磁盘已满" in message and "已全部回滚" in message
    assert not Case.objects.exists() and not CaseEvent.objects.exists() and not Customer.objects.exists()


@pytest.mark.django_db
def test_the_columns_an_import_does_not_set_hold_their_model_defaults(tree, clock, tmp_path):
    """On SQLite the defaults are written into the INSERT statement as literals."""
    run_import("cases", _file(tmp_path, "defaults"))
    fields = {f.attname: f for f in Case._meta.concrete_fields if not f.primary_key}
    rest = [name for name in fields if name not in CASE_COLUMNS]
    assert len(rest) > 10
    for case_no in ("PL-01", "PL-02"):
        stored = Case.objects.filter(case_no=case_no).values(*rest).get()
        assert stored == {name: fields[name].get_default() for name in rest}
    if connection.vendor == "sqlite":
        assert _BulkInsert(Case, CASE_COLUMNS).literals is not None


def test_defaults_become_sql_literals_only_when_unambiguous():
    assert [_sql_literal(v) for v in (None, True, False, 0, 7, "", "it's")] == [
        "NULL", "1", "0", "0", "7", "''", "'it''s'"
    ]  # fmt: skip
    assert _sql_literal(1.5) is None and _sql_literal({"a": 1}) is None


@pytest.mark.django_db
def test_the_new_cases_ids_are_reckoned_and_checked_at_both_ends(
    tree, clock, tmp_path, django_assert_num_queries
):
    """SQLite: the ids insert() reckons from each statement's last rowid are used when the stored
    cases at both ends agree (one query); anything else is read back by case number."""
    run_import("cases", _file(tmp_path, "ids"))
    stored = dict(Case.objects.order_by("pk").values_list("case_no", "pk"))
    case_nos, ids = list(stored), list(stored.values())
    consecutive = ids[-1] - ids[0] == len(ids) - 1
    assert consecutive  # one import, one writer: the rows took consecutive ids

    with django_assert_num_queries(1):
        assert CaseImporter._given_ids(case_nos, ids) == stored
    shifted = [pk + 1 for pk in ids]
    assert CaseImporter._given_ids(case_nos, shifted) == stored  # an end disagrees: read back
    assert CaseImporter._given_ids(case_nos[::-1], ids[::-1]) == stored  # not increasing: read back
    assert CaseImporter._given_ids(case_nos, None) == stored  # PostgreSQL's insert() reckons none


def _fts_automerge():
    with connection.cursor() as cursor:
        cursor.execute("SELECT v FROM cases_case_fts_config WHERE k = 'automerge'")
        found = cursor.fetchone()
    return None if found is None else int(found[0])


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
def test_fts_merging_is_off_during_the_import_and_as_before_after(tree, clock, tmp_path, monkeypatch):
    monkeypatch.setattr(CaseImporter, "chunk_size", 3)
    before = _fts_automerge()
    during = spy_writes(monkeypatch, _fts_automerge)
    run_import("cases", _file(tmp_path, "merge"))

    assert during[0] == before and set(during[1:]) == {0}  # off from the first chunk's insert on
    assert _fts_automerge() == (4 if before is None else before)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO cases_case_fts(cases_case_fts) VALUES ('integrity-check')")
        cursor.execute("SELECT count(*) FROM cases_case_fts WHERE cases_case_fts MATCH '\"理赔太慢\"'")
        assert cursor.fetchone()[0] == 14

    fail_third_write(monkeypatch)
    Case.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_case_fts_config WHERE k = 'automerge'")
    run_import_refused("cases", _file(tmp_path, "failing"), returncode=1)
    assert _fts_automerge() is None  # rolled back with the rest
