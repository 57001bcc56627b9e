"""Hostile files for every registered import kind, through the real import service.

For each kind of `importer_kinds()` (so a new importer is covered as soon as it registers, and
test_every_kind_has_a_generator fails until this file can build its rows), Hypothesis writes files
that people and core systems really send: headers in Chinese, English or odd spellings, missing,
duplicated or extra columns, junk lines above the header, ragged rows, and cells that are blank,
whitespace, huge, control characters, formula-like, emoji, mojibake, U+FFFD, bad dates, amounts and
ID numbers, mixed with valid rows built from the format's columns; as CSV (UTF-8, UTF-8 with BOM,
GB18030) or .xlsx (text or typed cells). Each file goes through services.import_run, the service of
`xiaobao import KIND FILE`: first with --dry-run, then for real, then again.

Properties:
- import_run never raises; a refused file is a failed batch whose message is the framework's
  Chinese refusal (ImportRefused), never a database error or a crash;
- every batch accounts for its rows: created + updated + unchanged + rejected == rows read, which is
  the number of non-blank rows below the header; the records summary agrees;
- every rejected row is in the error file, once, with its row number and a reason;
- a dry run writes nothing and predicts the real run's counts;
- importing the same file again creates and updates nothing.

Each example starts from the same world (units, personas, a training session, five policies in the
book store): the database is rolled back and the store restored after it, so a failure replays.
"""

import csv
import datetime as dt
import io
import re
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import time_machine
from django.apps import apps
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from xiaobao.book import store
from xiaobao.book.services import book_import
from xiaobao.book.tests.helpers import NAMES, id_no
from xiaobao.imports.models import BatchStatus, ImportBatch
from xiaobao.imports.registry import importer_for, importer_kinds
from xiaobao.imports.services import import_run
from xiaobao.imports.tests.files import read_errors
from xiaobao.lib.parsing import SHANGHAI, parse_amount, parse_date, parse_datetime, parse_int
from xiaobao.training.models import TrainingKind, TrainingSession

NOW = dt.datetime(2024, 9, 20, 9, 0, tzinfo=SHANGHAI)
KNOWN_POLICIES = [f"P{n:06d}" for n in range(1, 6)]
SESSION = "PX-2024-01"
FUTURE_SESSION = "PX-2099-01"
PEOPLE = ["officer_in", "handler_in", "unit_head_in", "auditor_in", "officer_out"]
CJK = re.compile(r"[\u4e00-\u9fff]")
# The data each kind writes: nothing of it may change in a dry run or a second import of a file.
MODELS = ["cases.Case", "cases.CaseEvent", "customers.Customer", "education.Activity"]
MODELS += ["training.Attendance", "org.Unit", "imports.ImportChange"]
BOOK_TABLES = ["policies", "premiums", "surrenders", "claims"]


# ---------------------------------------------------------------- valid rows, per kind

# A valid row of each kind, for row number n (rows with the same n share the key, so some files
# have multi-row records and conflicts). `pick` chooses among valid alternatives. Every column of
# the kind's spec must be here (test_every_kind_has_a_generator).
Pick = Callable[[list[Any]], Any]


def _cases(n: int, pick: Pick) -> dict[str, Any]:
    complaint = pick([True, False])
    closed = pick([False, False, True])
    return {
        "case_no": f"TS-IMP-{n:04d}",
        "received_at": pick(["2024-03-05 10:00", "2024/3/5 8:30:15", "2024-09-01"]),
        "kind": "投诉" if complaint else pick(["咨询", "inquiry", "建议"]),
        "channel": pick(["4008热线", "柜面", "hotline", "12378"]),
        "customer_name": (name := pick(["", "张小三", "欧阳小明"])),
        "customer_phone": pick(["", "13812345678", "0532-12345678"]),
        "customer_id_no": pick(["", "11010519491231002X"]),
        "customer_address": pick(["", "山东省青岛市市南区香港中路10号"]) if name else "",
        "policy_no": pick(["", "P2023000123"]),
        "org_code": pick(["C1", "C1KF", "C2"]),
        "category": pick(["销售纠纷", "理赔纠纷", "claims"]) if complaint else "",
        "urgent": pick(["", "是", "否", "Y"]),
        "claims_related": pick(["", "是", "否"]),
        "description": pick(["客户反映业务员承诺保本高收益", "咨询保单贷款利率\n第二行"]),
        "status": "已办结" if closed else pick(["", "受理", "处理中"]),
        "closed_at": "2024-09-10 17:00" if closed else "",
        "outcome": pick(["", "已解释并退保"]),
        "regulator_ref": pick(["", "JG-2024-001"]),
    }


def _education(n: int, pick: Pick) -> dict[str, Any]:
    offline = pick([True, False])
    return {
        "activity_no": f"JY-{n:04d}",
        "date": pick(["2024-03-15", "2024/6/1"]),
        "mode": "线下" if offline else pick(["视频", "原创文章", "media"]),
        "campaign": pick(["", "3·15 消费者权益保护教育宣传周"]),
        "title": pick(["防范非法金融活动", "老年人反诈"]),
        "location": "青岛市市南区社区" if offline else pick(["", "线上"]),
        "audience": pick(["", "老年人", "youth"]),
        "reach": pick(["120", "3,000", "0"]),
        "cost": pick(["", "1,200.50", "0"]),
        "org_code": pick(["C1", "C2", "BR"]),
    }


def _policies(n: int, pick: Pick) -> dict[str, Any]:
    lapsed = pick([False, False, True])
    return {
        "policy_no": pick([f"P9{n:05d}", KNOWN_POLICIES[n % len(KNOWN_POLICIES)]]),
        "org_code": pick(["C1", "C2"]),
        "channel": pick(["个险", "银保", "bancassurance"]),
        "product_code": "P1001",
        "product_name": pick(["", "瀚海福享终身寿险(分红型)"]),
        "product_type": pick(["", "分红", "annuity"]),
        "agent_code": pick(["", f"A8637{n:04d}"]),
        "applicant_name": NAMES[n % len(NAMES)],
        "applicant_id_no": pick(["", id_no(n)]),
        "applicant_phone": pick(["", f"138{n:08d}"]),
        "insured_id_no": pick(["", id_no(n + 1, birth="20100505")]),
        "effective_date": "2023-03-05",
        "payment_mode": pick(["年交", "趸交", "monthly"]),
        "payment_years": pick(["", "10", "20"]),
        "annual_premium": pick(["12000.00", "¥8,000", "500元"]),
        "sum_assured": pick(["", "200000"]),
        "status": "失效" if lapsed else "有效",
        "status_date": "2024-05-01" if lapsed else "",
    }


def _premiums(n: int, pick: Pick) -> dict[str, Any]:
    year = 1 + n % 5
    return {
        "policy_no": KNOWN_POLICIES[n % len(KNOWN_POLICIES)],
        "policy_year": str(year),
        "due_date": f"{2022 + year}-03-05",
        "received_date": pick([f"{2022 + year}-03-06", f"{2022 + year}/4/1"]),
        "amount": pick(["12000.00", "12,000"]),
    }


def _surrenders(n: int, pick: Pick) -> dict[str, Any]:
    return {
        "policy_no": KNOWN_POLICIES[n % len(KNOWN_POLICIES)],
        "apply_date": f"2024-0{1 + n % 9}-10",
        "surrender_date": f"2024-0{1 + n % 9}-20",
        "amount": pick(["8000.00", "0"]),
        "cash_value": pick(["", "7500"]),
        "full_refund": pick(["", "是", "否"]),
        "apply_channel": pick(["", "柜面", "online"]),
        "contact_phone": pick(["", "13900001111"]),
        "contact_address": pick(["", "山东省青岛市市南区香港中路10号", "不详"]),
        "payee_name": pick(["", "李四"]),
        "payee_account": pick(["", "6222020202021234"]),
        "reason": pick(["", "资金周转"]),
        "complaint_ref": pick(["", "TS20240301-0001"]),
    }


def _claims(n: int, pick: Pick) -> dict[str, Any]:
    decided = pick([True, False])
    paid = decided and pick([True, False])
    return {
        "claim_no": f"CL-{n:04d}",
        "policy_no": KNOWN_POLICIES[n % len(KNOWN_POLICIES)],
        "report_date": "2024-02-01",
        "docs_complete_date": "2024-02-10",
        "decision_date": "2024-02-20" if decided else "",
        "payment_date": "2024-02-25" if paid else "",
        "decision": ("正常给付" if paid else pick(["拒赔", "部分给付"])) if decided else "",
        "claimed_amount": pick(["", "5000"]),
        "paid_amount": "4800" if paid else "",
    }


def _training_attendance(n: int, pick: Pick) -> dict[str, Any]:
    person = PEOPLE[n % len(PEOPLE)]
    return {
        "session_ref": SESSION,
        "name": person,
        "username": pick(["", person]),
        "unit": pick(["", "C2" if person.endswith("_out") else "C1"]),
        "score": pick(["", "85", "92.5"]),
    }


def _units(n: int, pick: Pick) -> dict[str, Any]:
    return {
        "code": f"U{n:03d}",
        "name": pick([f"第{n}营业部", f"客服部{n}"]),
        "parent_code": pick(["C1", "C2", "BR"]),
        "level": "部门",
    }


VALID_ROWS: dict[str, Callable[[int, Pick], dict[str, Any]]] = {
    "cases": _cases,
    "claims": _claims,
    "education": _education,
    "policies": _policies,
    "premiums": _premiums,
    "surrenders": _surrenders,
    "training_attendance": _training_attendance,
    "units": _units,
}


# ---------------------------------------------------------------- hostile cells and headers

HUGE = ["诉" * 3000, "x" * 20_000, "A" * 70]
CONTROL = ["\x00", "a\x00b", "\x07响铃", "\x1b[31m红\x1b[0m", "\ufeff", "\u200b", "\x85", "\u2028", "\x1f"]
FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x.invalid","点我")', "+1+1", "-2+3", "@SUM(A1:A9)"]
TEXTS = ["😀🙏", "👨‍👩‍👧‍👦", "ä¿\x9dé\x99©", "ÉÏº£ÊÐ", "鏂囦欢澶", "\ufffd\ufffd", "保险𠀀𪚥", "ＡＢＣ１２３"]
NUMBERS = ["1e309", "NaN", "-inf", "-0", "１２３", "0x10", "999999999999999999999999", "-5", "1.005", "(100)"]
NUMBERS += [
    "0.01",
    "99.99",
    "59.95",
    "100.00",
    "12345678901",
    "9999999999999.99",
    "2147483648",
    "-2147483649",
]
DATES = ["2024-02-30", "0000-00-00", "31/12/2024", "2024-13-01", "99999", "1899-12-30", "9999-12-31 23:59:60"]
DATES += [
    "2099-01-01",
    "1900-02-29",
    "2024-03-05T25:00",
    "昨天",
    "0001-01-01",
    "0001/1/1 00:00",
    "1000-01-01",
]
DATES += ["9999-12-31 23:59:59", "19491001", "2958466", "1", "60"]
IDS = ["110105194912310021", "11010519491231002x", "1101051949123", "ＩＤ", "13800000000", "0532-1234"]
BLANKS = ["", " ", "\t", "\u3000", "\r\n", " \n "]
HOSTILE = st.one_of(
    st.sampled_from(BLANKS + HUGE + CONTROL + FORMULAS + TEXTS + NUMBERS + DATES + IDS),
    st.text(max_size=12),
    st.text(alphabet="保险退保投诉理赔甲乙,;\"'\n =-", max_size=10),
    st.integers(-(10**20), 10**20).map(str),
)
JUNK_LINES = [["导出时间: 2024-09-20 08:00"], ["机构: 甲中心支公司", "", "操作员: 张三"], []]


def header_variants(column) -> list[str]:
    """Ways a column's header is really spelt: Chinese aliases, the English name, odd spacing, width, case."""
    names = [*column.aliases, column.name]
    return [*names, f" {names[0]} ", column.name.upper(), f"{names[0]}*", names[0].translate(FULLWIDTH)]


FULLWIDTH = {i: i + 0xFEE0 for i in range(0x21, 0x7F)}


@st.composite
def hostile_files(draw, kind: str) -> dict[str, Any]:
    """A table for `kind`: junk lines, a header, rows of text cells, and the spec column under
    each header cell (None for an extra one)."""
    spec = importer_for(kind).spec
    build = VALID_ROWS[kind]
    header: list[str] = []
    columns: list[str | None] = []  # the spec column behind each header cell, None for extras
    # Most files have a usable header, so that their rows are read; some lose a required column
    # or name one twice, and must be refused as a whole.
    broken = draw(st.integers(0, 5)) == 0
    for column in spec.columns:
        required = column.required or column.name in spec.key
        if draw(st.integers(0, 8 if broken or not required else 10**6)) == 0:
            continue  # missing: a required one refuses the file, an optional one is simply absent
        header.append(draw(st.sampled_from(header_variants(column))))
        columns.append(column.name)
    for _ in range(draw(st.integers(0, 2))):  # extra columns, and in a broken header duplicates
        extra = draw(
            st.one_of(st.sampled_from(["备注", "Remarks", "错误原因", "", "😀"]), st.text(max_size=8))
        )
        column_name = None
        if broken and header and draw(st.booleans()):
            position = draw(st.integers(0, len(header) - 1))
            extra, column_name = header[position], columns[position]
        at = draw(st.integers(0, len(header)))
        header.insert(at, extra)
        columns.insert(at, column_name)

    rows = []
    for _ in range(draw(st.integers(0, 12))):
        n = draw(st.integers(0, 9))
        values = build(n, lambda options: draw(st.sampled_from(options)))
        row = [values.get(name, "") if name else draw(HOSTILE) for name in columns]
        if draw(st.integers(0, 2)) == 0:  # a hostile row: some cells replaced
            for _ in range(draw(st.integers(1, 3))):
                if row:
                    row[draw(st.integers(0, len(row) - 1))] = draw(HOSTILE)
        if draw(st.integers(0, 9)) == 0:  # ragged: cut short or overlong
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(HOSTILE, max_size=2))
        rows.append(row)
    junk = draw(st.lists(st.sampled_from(JUNK_LINES), max_size=2))
    return {"header": header, "columns": columns, "rows": rows, "junk": junk}


# ---------------------------------------------------------------- writing the file


def xlsx_value(value: Any, column: str | None, parsers: dict[str, Any], typed: bool) -> Any:
    """What a cell holds in a real workbook: text without XML-illegal characters, or for typed
    workbooks the number or date a core system would have written."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    parser = parsers.get(column)
    if typed and value.strip() and parser is not None:
        try:
            if parser is parse_date:
                return parse_date(value)
            if parser is parse_datetime:
                return parse_datetime(value).replace(tzinfo=None)
            if parser is parse_int:
                return parse_int(value)
            if parser is parse_amount:
                return float(parse_amount(value))
        except ValueError:
            pass
    return value


def write_file(folder: Path, kind: str, table: dict[str, Any], fmt: str) -> tuple[Path, int]:
    """Write the table as `fmt`; the path, and how many non-blank rows lie below the header."""
    parsers = {c.name: c.parser for c in importer_for(kind).spec.columns}
    lines = [*table["junk"], table["header"], *table["rows"]]
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx" or fmt == "xlsx-typed":
        path = folder / f"{kind}.xlsx"
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        width = len(table["columns"])
        for number, line in enumerate(lines, start=1):
            data = number > len(table["junk"]) + 1
            for index, value in enumerate(line, start=1):
                column = table["columns"][index - 1] if data and index <= width else None
                cell = sheet.cell(row=number, column=index, value=None)
                cell.value = xlsx_value(value, column, parsers, typed=fmt == "xlsx-typed" and data)
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # a formula-like value stays text, as Excel's '=… does
        workbook.save(path)
        written = [[ILLEGAL_CHARACTERS_RE.sub("", v) for v in row] for row in table["rows"]]
    else:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(lines)
        path = folder / f"{kind}.csv"
        path.write_bytes(buffer.getvalue().encode(fmt))
        written = table["rows"]
    return path, sum(1 for row in written if any(cell.strip() for cell in row))


# ---------------------------------------------------------------- the world


@pytest.fixture
def world(tree, personas, tmp_path):
    """What the valid rows refer to: units, personas, a held and a future training session, and
    five policies in the book store; then a copy of the store to restore after each example."""
    with time_machine.travel(NOW, tick=False):
        TrainingSession.objects.create(
            ref=SESSION,
            unit=tree["C1"],
            topic="消保制度培训",
            kind=TrainingKind.values[0],
            trainer="王老师",
            held_on=dt.date(2024, 3, 1),
        )
        TrainingSession.objects.create(
            ref=FUTURE_SESSION,
            unit=tree["C1"],
            topic="明年的培训",
            kind=TrainingKind.values[0],
            trainer="王老师",
            held_on=dt.date(2099, 1, 1),
        )
        header = [c.name for c in importer_for("policies").spec.columns]
        rows = [_policies(n, lambda options: options[0]) for n in range(5)]
        rows = [dict(row, policy_no=number) for row, number in zip(rows, KNOWN_POLICIES, strict=True)]
        table = {
            "junk": [],
            "header": header,
            "columns": header,
            "rows": [[r[h] for h in header] for r in rows],
        }
        path, _ = write_file(tmp_path / "world", "policies", table, "utf-8")
        batch = import_run(kind="policies", path=path)
        assert (batch.status, batch.created, batch.rejected) == (BatchStatus.DONE, 5, 0), batch.message
    saved = tmp_path / "store-saved"
    shutil.copytree(store.store_root(), saved)
    return saved


def restore_store(saved: Path) -> None:
    shutil.rmtree(store.store_root(), ignore_errors=True)
    shutil.copytree(saved, store.store_root())


def written_data() -> dict[str, Any]:
    """Counts of every model an import writes, and the current version of every book table."""
    counts = {name: apps.get_model(name).objects.count() for name in MODELS}
    return counts | {table: store.current_version(table) for table in BOOK_TABLES}


def counts(batch: ImportBatch) -> tuple[int, ...]:
    return (batch.rows_read, batch.created, batch.updated, batch.unchanged, batch.rejected)


def assert_accounted_for(batch: ImportBatch, expected_rows: int) -> None:
    assert batch.status != BatchStatus.FAILED, batch.message
    assert batch.rows_read == expected_rows, (batch.rows_read, expected_rows, batch.message)
    assert batch.rows_read == batch.created + batch.updated + batch.unchanged + batch.rejected, batch.message
    records = batch.details["records"]
    assert sum(records.values()) <= batch.rows_read
    assert records["rejected"] <= batch.rejected and bool(records["rejected"]) == bool(batch.rejected)
    if batch.rejected:
        errors = read_errors(batch.errors_file)
        assert len(errors) == batch.rejected
        assert len({e["错误行号"] for e in errors}) == batch.rejected
        unexplained = [e for e in errors if not (isinstance(e["错误行号"], int) and e["错误原因"])]
        assert not unexplained, unexplained
    else:
        assert batch.errors_file == ""


def assert_refused_in_chinese(batch: ImportBatch) -> None:
    assert batch.status == BatchStatus.FAILED
    assert CJK.search(batch.message), batch.message
    # Those two are import_run's catch-alls: a row the importer let through to the database, or a bug.
    assert not batch.message.startswith(("写入数据库失败", "导入程序出错")), batch.message


def assert_same_outcome(bulk: ImportBatch, framework: ImportBatch) -> None:
    """book-import's batch tells what import_run's does: refused alike, or the same counts and errors."""
    if framework.status == BatchStatus.FAILED:
        assert bulk.status == BatchStatus.FAILED, (bulk.message, framework.message)
        assert CJK.search(bulk.message) and not bulk.message.startswith(("写入失败", "导入程序出错")), (
            bulk.message
        )
        return
    assert counts(bulk) == counts(framework), (bulk.message, framework.message)
    assert bulk.details["errors"] == framework.details["errors"]


# ---------------------------------------------------------------- the properties

FORMATS = ["utf-8", "utf-8-sig", "gb18030", "xlsx", "xlsx-typed"]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", importer_kinds())
def test_hostile_files_are_imported_or_refused_never_crash(kind, world, tmp_path):
    example = iter(range(10**6))

    @settings(
        max_examples=18,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(table=hostile_files(kind), fmt=st.sampled_from(FORMATS))
    def check(table, fmt):
        restore_store(world)
        path, expected_rows = write_file(tmp_path / f"x{next(example)}", kind, table, fmt)
        with time_machine.travel(NOW, tick=False), transaction.atomic():
            before = written_data()
            dry = import_run(kind=kind, path=path, dry_run=True)
            assert written_data() == before, "a dry run wrote"
            if kind in BOOK_TABLES:
                # `xiaobao book-import` reads a CSV with its vectorised pass: same outcome, same errors.
                assert_same_outcome(book_import(kind=kind, path=path, dry_run=True), dry)
                assert written_data() == before, "a dry run of book-import wrote"
            real = import_run(kind=kind, path=path)
            if dry.status == BatchStatus.FAILED:
                assert_refused_in_chinese(dry)
                assert (real.status, real.message) == (dry.status, dry.message)
                assert written_data() == before
            else:
                assert_accounted_for(dry, expected_rows)
                assert_accounted_for(real, expected_rows)
                assert counts(real) == counts(dry), (real.message, dry.message)
                after = written_data()
                again = import_run(kind=kind, path=path)
                assert_accounted_for(again, expected_rows)
                assert (again.created, again.updated) == (0, 0), again.message
                assert again.rejected == real.rejected, (again.message, real.message)
                assert written_data() == after, "a second import of the same file wrote"
                if kind in BOOK_TABLES:
                    bulk = book_import(kind=kind, path=path)
                    assert (bulk.created, bulk.updated, bulk.rejected) == (0, 0, real.rejected), bulk.message
                    assert written_data() == after, "book-import of the same file again wrote"
            transaction.set_rollback(True)

    check()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", importer_kinds())
def test_the_valid_rows_of_every_kind_are_accepted(kind, world, tmp_path):
    """The generator's valid rows really are valid, so the hostile files above mix in good rows."""
    spec = importer_for(kind).spec
    header = [column.label for column in spec.columns]
    names = [column.name for column in spec.columns]
    rows = [VALID_ROWS[kind](n, partial(nth, n)) for n in range(5)]
    table = {"junk": [], "header": header, "columns": names, "rows": [[r[n] for n in names] for r in rows]}
    path, expected = write_file(tmp_path, kind, table, "utf-8")
    with time_machine.travel(NOW, tick=False):
        batch = import_run(kind=kind, path=path)
    assert batch.rejected == 0, batch.details["errors"]
    assert batch.rows_read == expected == 5 and batch.created + batch.updated == 5


def nth(n: int, options: list[Any]) -> Any:
    """A deterministic choice among valid alternatives, so five rows show most of them."""
    return options[n % len(options)]


def test_every_kind_has_a_generator():
    """A new importer fails here until VALID_ROWS can build its rows, column by column."""
    assert sorted(VALID_ROWS) == importer_kinds()
    for kind in importer_kinds():
        columns = {column.name for column in importer_for(kind).spec.columns}
        # A superset: a column may be generated before its importer reads it.
        assert columns <= set(VALID_ROWS[kind](0, lambda options: options[0])), kind
