"""`xiaobao import cases`: the canonical format (Chinese headers, GB18030, xlsx, personal data,
clocks, history, updates, --strict, --dry-run) and the shipped profiles of the three US regulator
files in ../shared/data, checked against counts computed from the files themselves."""

import csv
import io
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xiaobao.cases.importers import Personal, derived_unit_code
from xiaobao.cases.models import Case, CaseEvent, Category
from xiaobao.cases.selectors import search_q
from xiaobao.customers.models import Customer
from xiaobao.imports.models import ImportChange
from xiaobao.imports.tests.files import (
    check_invariant,
    read_errors,
    run_import,
    run_import_refused,
    write_csv,
    write_xlsx,
)
from xiaobao.lib.idcard import id_check_char
from xiaobao.org.models import Unit
from xiaobao.privacy.services import personal_token

from .conftest import at

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data (real regulator files) is absent")

ID_OK = "11010519491231002X"  # the conftest customer's, a valid check digit
ID_BAD = "110105194912310021"  # the same with a wrong check digit
ID_OTHER = "44030119800101001" + id_check_char("44030119800101001")

HEADER = [
    "工单号",
    "受理时间",
    "工单类型",
    "来源渠道",
    "客户姓名",
    "来电号码",
    "证件号码",
    "保单号",
    "责任机构",
    "投诉事由",
    "是否紧急",
    "是否理赔相关",
    "诉求内容",
    "状态",
    "办结时间",
    "处理结果",
]


def canonical_rows() -> list[list[str]]:
    return [
        HEADER,
        # row 2: a complaint received on the Friday before National Day → due 2024-10-08
        ["TS-001", "2024-09-20 08:10", "投诉", "4008热线", "张小三", "13812345678", ID_OK, "P001", "C1",
         "销售纠纷", "否", "否", "业务员承诺保本高收益, 要求全额退保", "", "", ""],
        # row 3: wrong ID check digit
        ["TS-002", "2024/9/19", "投诉", "柜面", "李四", "13900001111", ID_BAD, "", "C1",
         "理赔纠纷", "", "", "理赔太慢", "", "", ""],
        # row 4: a unit nobody has
        ["TS-003", "2024年9月18日", "咨询", "微信", "", "", "", "", "ZZ9", "", "", "", "咨询保单贷款", "", "", ""],
        # row 5: not a kind of case
        ["TS-004", "20240917", "抱怨", "4008热线", "", "", "", "", "C2", "其他", "", "", "投诉态度", "", "", ""],
        # row 6: historic, closed on time; English glosses for the enums
        ["TS-005", "2024-08-01 09:30", "complaint", "hotline", "王五", "0532-12345678", ID_OTHER, "P005", "C2",
         "claims", "是", "是", "重疾理赔被拒", "closed", "2024-08-10 16:00", "已赔付"],
        # row 7: no personal data at all
        ["GD-006", "2024-09-02 14:00", "咨询", "官网/APP", "", "", "", "", "C1KF", "", "", "", "如何变更受益人",
         "已办结", "2024-09-03", "已解答"],
    ]  # fmt: skip


def by_no(case_no: str) -> Case:
    return Case.objects.select_related("customer", "unit").get(case_no=case_no)


def errors_by_row(summary: dict) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for error in summary["errors"]:
        found.setdefault(error["row"], []).append((error["column"], error["reason"]))
    return found


# ---------------------------------------------------------------- the canonical format


@pytest.mark.django_db
def test_gb18030_chinese_headers_keep_good_rows_and_report_every_bad_one(tree, clock, customer, tmp_path):
    path = write_csv(tmp_path / "工单.csv", canonical_rows(), encoding="gb18030")

    summary = run_import("cases", path)

    check_invariant(summary)
    assert summary["encoding"] == "gb18030"
    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (6, 3, 3)
    errors = errors_by_row(summary)
    assert errors[3] == [("证件号码", "身份证号校验位错误: 应为 X, 实际为 1")]
    assert errors[4][0][0] == "责任机构" and "机构 ZZ9 不存在" in errors[4][0][1]
    assert errors[5][0][0] == "工单类型" and "“抱怨” 不是有效的工单类型" in errors[5][0][1]
    assert [e["错误行号"] for e in read_errors(summary["errors_file"])] == [3, 4, 5]
    assert not Case.objects.filter(case_no__in=["TS-002", "TS-003", "TS-004"]).exists()

    # Deadline with its rule: 15 days from 2024-09-20 end on 10-05, inside the National Day holiday.
    case = by_no("TS-001")
    assert (case.kind, case.channel, case.category, case.unit.code) == ("投诉", "4008热线", "销售纠纷", "C1")
    assert case.due_date.isoformat() == "2024-10-08"
    assert case.deadline_rule == "15日, 末日逢节假日顺延"
    assert case.status == "登记" and case.on_time is None
    # The person is the stored customer (matched by ID token, nothing decrypted), not a new one.
    assert case.customer_id == customer.pk
    assert Customer.objects.count() == 2

    # One "import" event per created case.
    assert CaseEvent.objects.filter(action="import").count() == 3
    event = CaseEvent.objects.get(case=case)
    assert (event.to_status, event.details["row"]) == ("登记", 2)


@pytest.mark.django_db
def test_personal_data_is_stored_encrypted_masked_and_tokenised(tree, clock, tmp_path):
    path = write_csv(tmp_path / "cases.csv", canonical_rows(), encoding="gb18030")
    run_import("cases", path)

    first, historic = by_no("TS-001").customer, by_no("TS-005").customer
    assert (first.name_masked, first.phone_masked, first.id_no_masked) == (
        "张*三",
        "138****5678",
        "1101**********002X",
    )
    assert first.id_no_token == personal_token("id_no", ID_OK)
    assert first.phone_token == personal_token("phone", "13812345678")
    assert first.name_token == personal_token("name", "张小三")
    assert historic.phone_token == personal_token("phone", "0532-12345678")
    for customer in (first, historic):
        blob = bytes(customer.id_no_enc)
        assert ID_OK.encode() not in blob and ID_OTHER.encode() not in blob
    assert by_no("GD-006").customer is None
    # Nothing personal in plain text on the case either.
    case = by_no("TS-001")
    assert "13812345678" not in json.dumps(case.extra) and "张小三" not in case.description

    # The same person in another file is the same customer, found by token.
    again = [HEADER, ["TS-101", "2024-09-20 08:20", "投诉", "柜面", "张小三", "13812345678", ID_OK, "", "C2",
                      "其他", "", "", "又来了", "", "", ""]]  # fmt: skip
    run_import("cases", write_csv(tmp_path / "again.csv", again))
    assert by_no("TS-101").customer_id == first.pk
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_historic_closed_rows_keep_their_facts(tree, clock, tmp_path):
    run_import("cases", write_csv(tmp_path / "cases.csv", canonical_rows()))

    case = by_no("TS-005")
    assert (case.kind, case.channel, case.category, case.urgent, case.claims_related) == (
        "投诉",
        "4008热线",
        "理赔纠纷",
        True,
        True,
    )
    assert case.status == "已办结"
    assert case.closed_at == at("2024-08-10 16:00") == case.decided_at
    assert case.due_date.isoformat() == "2024-08-16"  # 15 days from 08-01
    assert case.on_time is True
    assert case.outcome == "已赔付"
    inquiry = by_no("GD-006")
    assert (inquiry.status, inquiry.closed_at) == ("已办结", at("2024-09-03 00:00"))
    assert inquiry.deadline_rule.startswith("咨询: ")


@pytest.mark.django_db
def test_xlsx_english_headers_any_order_and_excel_dates(tree, clock, tmp_path):
    import datetime as dt

    rows = [
        [
            "description",
            "org_code",
            "case_no",
            "kind",
            "channel",
            "received_at",
            "category",
            "closed_at",
            "状态",
        ],
        [
            "保单贷款利率咨询",
            "C1",
            "X-1",
            "咨询",
            "4008热线",
            dt.datetime(2024, 9, 2, 9, 15),
            "",
            None,
            "处理中",
        ],
        [
            "退保金额有异议",
            "C2",
            "X-2",
            "投诉",
            "信函",
            45536,
            "退保纠纷",
            dt.datetime(2024, 9, 6, 17, 0),
            "已办结",
        ],
    ]
    summary = run_import("cases", write_xlsx(tmp_path / "cases.xlsx", rows))

    assert (summary["created"], summary["rejected"]) == (2, 0), summary["errors"]
    assert by_no("X-1").received_at == at("2024-09-02 09:15")
    assert by_no("X-1").status == "处理中"
    closed = by_no("X-2")
    assert closed.received_at == at("2024-09-01 00:00")  # Excel serial 45536
    assert (closed.status, closed.closed_at, closed.on_time) == ("已办结", at("2024-09-06 17:00"), True)


@pytest.mark.django_db
def test_the_same_file_twice_changes_nothing(tree, clock, tmp_path):
    path = write_csv(tmp_path / "cases.csv", canonical_rows(), encoding="gb18030")
    run_import("cases", path)
    before = {c.case_no: (c.version, c.updated_at, c.customer_id) for c in Case.objects.all()}

    summary = run_import("cases", path)

    assert (summary["created"], summary["updated"], summary["unchanged"], summary["rejected"]) == (0, 0, 3, 3)
    assert {c.case_no: (c.version, c.updated_at, c.customer_id) for c in Case.objects.all()} == before
    assert CaseEvent.objects.count() == 3 and Customer.objects.count() == 2
    assert not ImportChange.objects.exists()


@pytest.mark.django_db
def test_a_later_file_updates_and_the_change_is_recorded_masked(tree, clock, tmp_path):
    rows = canonical_rows()
    run_import("cases", write_csv(tmp_path / "v1.csv", rows))
    later = [rows[0], list(rows[1])]
    later[1][4:7] = ["赵六", "13998765432", ""]  # another person (no ID: found by phone + name)
    later[1][13:16] = ["已办结", "2024-09-20 08:50", "已退保"]

    summary = run_import("cases", write_csv(tmp_path / "v2.csv", later))

    assert (summary["updated"], summary["unchanged"]) == (1, 0)
    case = by_no("TS-001")
    assert (case.status, case.outcome, case.version) == ("已办结", "已退保", 2)
    assert case.decided_at == case.closed_at == at("2024-09-20 08:50") and case.on_time is True
    change = ImportChange.objects.get()
    assert change.key == "TS-001" and change.row == 2
    assert change.changes["customer_phone"] == ["138****5678", "139****5432"]
    assert change.changes["customer_name"] == ["张*三", "赵*"]
    assert change.changes["customer_id_no"] == ["1101**********002X", None]  # the new person has none
    assert change.changes["status"] == ["登记", "已办结"] and change.changes["outcome"] == ["", "已退保"]
    assert "13998765432" not in json.dumps(change.changes, ensure_ascii=False)
    assert case.customer.name_masked == "赵*" and Customer.objects.count() == 3
    event = case.events.filter(action="import").order_by("pk").last()
    assert (event.from_status, event.to_status) == ("登记", "已办结")
    assert "处理结果" in event.reason and "客户电话" in event.reason
    # The same later file again: nothing left to change.
    assert run_import("cases", write_csv(tmp_path / "v3.csv", later))["unchanged"] == 1


@pytest.mark.django_db
def test_the_same_person_by_id_number_is_no_change_even_with_a_new_phone(tree, clock, tmp_path):
    rows = canonical_rows()
    run_import("cases", write_csv(tmp_path / "v1.csv", rows))
    customer = by_no("TS-001").customer
    later = [rows[0], list(rows[1])]
    later[1][5] = "13998765432"

    summary = run_import("cases", write_csv(tmp_path / "v2.csv", later))

    assert summary["unchanged"] == 1 and by_no("TS-001").customer == customer


@pytest.mark.django_db
def test_strict_writes_nothing_and_dry_run_writes_nothing(tree, clock, tmp_path):
    path = write_csv(tmp_path / "cases.csv", canonical_rows())

    summary, message = run_import_refused("cases", path, "--strict", returncode=3)
    assert summary["status"] == "rejected" and summary["rejected"] == 3
    assert not Case.objects.exists() and not Customer.objects.exists()

    dry = run_import("cases", path, "--dry-run")
    assert (dry["status"], dry["created"], dry["rejected"]) == ("dry_run", 3, 3)
    assert not Case.objects.exists() and not Customer.objects.exists() and not CaseEvent.objects.exists()


@pytest.mark.django_db
def test_statuses_and_dates_that_contradict_are_row_errors(tree, clock, tmp_path):
    rows = [
        [
            "工单号",
            "受理时间",
            "工单类型",
            "来源渠道",
            "机构代码",
            "投诉事由",
            "诉求内容",
            "状态",
            "办结时间",
        ],
        ["A", "2024-09-01", "投诉", "柜面", "C1", "其他", "x", "处理中", "2024-09-02"],
        ["B", "2024-09-05", "投诉", "柜面", "C1", "其他", "x", "已办结", "2024-09-01"],
        ["C", "2024-09-05", "投诉", "柜面", "C1", "其他", "x", "暂停", ""],
        ["D", "2025-01-01", "投诉", "柜面", "C1", "其他", "x", "", ""],
        ["E", "2024-09-05", "投诉", "柜面", "C1", "", "x", "", ""],
    ]
    summary = run_import("cases", write_csv(tmp_path / "bad.csv", rows))

    errors = errors_by_row(summary)
    assert summary["rejected"] == 5
    assert errors[2] == [("办结时间", "状态为「处理中」的工单不应有办结时间")]
    assert errors[3][0][0] == "办结时间" and "早于受理时间" in errors[3][0][1]
    assert errors[4][0][0] == "状态" and "导入的工单状态只能是" in errors[4][0][1]
    assert errors[5] == [("受理时间", "受理时间不能晚于现在")]
    assert errors[6] == [("投诉事由", "投诉必须填写投诉事由")]


@pytest.mark.django_db
def test_a_receipt_date_near_the_year_1_is_a_row_error_not_a_crash(tree, clock, tmp_path):
    """Found by imports/tests/test_import_properties.py: 0001-01-01 00:00 in Shanghai is before the
    year 1 in UTC, and storing it raised OverflowError; the API refuses dates before 2000 too."""
    rows = [
        ["工单号", "受理时间", "工单类型", "来源渠道", "机构代码", "投诉事由", "诉求内容"],
        ["A", "0001-01-01", "投诉", "柜面", "C1", "其他", "x"],
        ["B", "1999-12-31 23:59", "咨询", "柜面", "C1", "", "x"],
        ["C", "2000-01-01", "咨询", "柜面", "C1", "", "x"],
    ]
    summary = run_import("cases", write_csv(tmp_path / "old.csv", rows))

    assert (summary["created"], summary["rejected"]) == (1, 2), summary["errors"]
    assert errors_by_row(summary) == {
        2: [("受理时间", "受理时间 0001-01-01 早于 2000-01-01, 请检查日期")],
        3: [("受理时间", "受理时间 1999-12-31 早于 2000-01-01, 请检查日期")],
    }
    assert list(Case.objects.values_list("case_no", flat=True)) == ["C"]


@pytest.mark.django_db
def test_queries_do_not_grow_with_rows_without_personal_data(tree, clock, tmp_path):
    def file(n: int, name: str) -> Path:
        rows = [["工单号", "受理时间", "工单类型", "来源渠道", "机构代码", "投诉事由", "诉求内容"]]
        rows += [
            [f"{name}-{i}", "2024-09-02 10:00", "投诉", "柜面", "C1", "其他", f"第{i}件"] for i in range(n)
        ]
        return write_csv(tmp_path / f"{name}.csv", rows)

    counts = []
    run_import("cases", file(3, "warm-up"))  # the first import of a database also creates keys
    for n, name in ((20, "small"), (400, "large")):
        with CaptureQueriesContext(connection) as queries:
            assert run_import("cases", file(n, name))["created"] == n
        counts.append([q["sql"][:70] for q in queries])
    assert len(counts[0]) == len(counts[1]), "\n".join(counts[1])
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_personal_values_compare_by_token_and_print_masked():
    a, b = Personal("phone", "13812345678"), Personal("phone", "13812345678")
    stored = Personal("phone", token=a.token, masked="138****5678")
    assert a == b == stored and str(a) == "138****5678" and a.plain == "13812345678"
    assert a != Personal("phone", "13812345679") and a != "138****5678"
    assert json.dumps([a]) == '["138****5678"]'


def test_derived_unit_codes_fit_and_differ():
    one = derived_unit_code("Anthem Health Plans, Inc", "CT-")
    two = derived_unit_code("Anthem Health Plans, Inc.", "CT-")
    assert one != two and len(one) <= 32 and one.startswith("CT-ANTHEM-HEALTH")
    assert derived_unit_code("Anthem Health Plans, Inc", "CT-") == one


# ---------------------------------------------------------------- profiles


def write_profile(settings, name: str, profile: dict) -> None:
    folder = Path(settings.DATA_DIR) / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")


HOTLINE = {
    "kind": "cases",
    "columns": {"Ticket": "regulator_ref", "Opened": "received_at", "Branch": "org_code", "Note": None},
    "constants": {"kind": "投诉", "channel": "4008热线"},
    "templates": {
        "case_no": "HL-{Ticket}",
        "description": ["{Text}", "{Reason}[ / {Subreason}]", "(无内容)"],
        "category": ["{Reason}: {Subreason}", "{Reason}", "-"],
    },
    "values": {"category": {"Claim*": "理赔纠纷", "*refund*": "退保纠纷", "*": "其他"}},
    "multi_valued": {"description": "\n"},
    "extra": {"Satisfied?": "satisfied", "Reason": "reason"},
    "on_conflict": "first",
    "date_format": "%m/%d/%Y",
}


@pytest.mark.django_db
def test_a_profile_maps_templates_patterns_extras_and_multi_row_records(tree, clock, settings, tmp_path):
    write_profile(settings, "hotline", HOTLINE)
    rows = [
        ["Ticket", "Opened", "Branch", "Reason", "Subreason", "Text", "Satisfied?", "Note"],
        ["7", "9/2/2024", "C1", "Claim Handling", "Delay", "", "No", "x"],
        ["7", "9/2/2024", "C1", "Service", "Premium refund", "", "No", "y"],  # same record: collected
        ["8", "9/3/2024", "C2", "Service", "", 'He said "call back"\nXXXX never did', "Yes", ""],
        ["9", "9/4/2024", "C2", "", "", "", "", ""],
        ["10", "2024-09-04", "C2", "", "", "", "", ""],  # not the profile's date format
    ]
    summary = run_import("cases", write_csv(tmp_path / "hotline.csv", rows), "--profile", "hotline")

    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (5, 4, 1)
    assert summary["records"]["created"] == 3 and summary["conflicts"] == 1
    assert "保留第一行的值" in summary["warnings"][0]
    assert summary["errors"][0]["row"] == 6 and "不符合导入配置的格式" in summary["errors"][0]["reason"]
    assert summary["unknown_columns"] == []
    seven = by_no("HL-7")
    assert seven.regulator_ref == "7" and seven.received_at == at("2024-09-02 00:00")
    assert seven.description == "Claim Handling / Delay\nService / Premium refund"
    assert seven.category == "理赔纠纷"  # the first row's; the second's 退保纠纷 is the reported conflict
    assert seven.extra == {"satisfied": "No", "reason": "Claim Handling; Service"}
    eight = by_no("HL-8")
    assert eight.description == 'He said "call back"\nXXXX never did' and eight.category == "其他"
    nine = by_no("HL-9")
    assert (nine.description, nine.category, nine.extra) == ("(无内容)", "其他", {})


@pytest.mark.django_db
def test_units_are_created_under_the_profile_parent_only_when_allowed(tree, clock, settings, tmp_path):
    rows = [
        ["Ticket", "Opened", "Branch", "Text"],
        ["1", "9/2/2024", "Acme Life Co.", "a"],
        ["2", "9/2/2024", "C1", "b"],
    ]
    templates = {"description": "{Text}", "category": "-"}
    write_profile(settings, "strict_units", HOTLINE | {"templates": templates | {"case_no": "U-{Ticket}"}})
    summary = run_import("cases", write_csv(tmp_path / "u.csv", rows), "--profile", "strict_units")
    assert (summary["created"], summary["rejected"]) == (1, 1)
    assert "机构 Acme Life Co. 不存在" in summary["errors"][0]["reason"]

    options = {"units": {"create": True, "parent": "BR", "code_from_name": True, "code_prefix": "HL-"}}
    write_profile(
        settings,
        "new_units",
        HOTLINE | {"templates": templates | {"case_no": "N-{Ticket}"}, "options": options},
    )
    dry = run_import("cases", write_csv(tmp_path / "n.csv", rows[:2]), "--profile", "new_units", "--dry-run")
    code = derived_unit_code("Acme Life Co.", "HL-")
    assert dry["new_units"] == {"count": 1, "parent": "BR", "level": "部门", "codes": [code]}
    assert not Unit.objects.filter(code=code).exists()

    summary = run_import("cases", write_csv(tmp_path / "n.csv", rows[:2]), "--profile", "new_units")
    unit = Unit.objects.get(code=code)
    assert (unit.name, unit.level, unit.parent.code, unit.path) == (
        "Acme Life Co.",
        "部门",
        "BR",
        f"/HQ/BR/{code}/",
    )
    assert by_no("N-1").unit == unit and summary["new_units"]["codes"] == [code]


@pytest.mark.django_db
def test_profile_options_and_templates_are_checked(tree, settings, tmp_path):
    rows = [["Ticket", "Opened", "Branch", "Text"], ["1", "9/2/2024", "C1", "a"]]
    path = write_csv(tmp_path / "p.csv", rows)
    write_profile(settings, "bad_option", HOTLINE | {"options": {"unit": {}}})
    _, message = run_import_refused("cases", path, "--profile", "bad_option", returncode=1)
    assert "未知的设置 unit" in message
    write_profile(settings, "bad_level", HOTLINE | {"options": {"units": {"create": True, "level": "科室"}}})
    _, message = run_import_refused("cases", path, "--profile", "bad_level", returncode=1)
    assert "options.units.level" in message
    write_profile(settings, "bad_template", HOTLINE | {"templates": {"case_no": "X-{Ticket"}})
    _, message = run_import_refused("cases", path, "--profile", "bad_template", returncode=1)
    assert "templates.case_no" in message
    write_profile(settings, "missing_header", HOTLINE | {"templates": {"case_no": "X-{Nope}"}})
    _, message = run_import_refused("cases", path, "--profile", "missing_header", returncode=1)
    assert "Nope" in message and "不在文件中" in message


# ---------------------------------------------------------------- the real regulator files


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def slice_of(
    source: Path, target: Path, *, first: int, key: int, extra_keys: tuple[str, ...] = ()
) -> list[list[str]]:
    """The first `first` records' rows (never cutting a record) plus every row of `extra_keys`,
    written with the csv module; the rows written are returned. Reads no further than it needs."""
    chosen: list[list[str]] = []
    keys: set[str] = set()
    with source.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rest = []
        for row in reader:
            if row[key] not in keys:
                if len(keys) >= first:
                    rest.append(row)
                    break
                keys.add(row[key])
            chosen.append(row)
        if extra_keys:
            wanted = set(extra_keys) - keys
            chosen += [row for row in [*rest, *reader] if row[key] in wanted]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *chosen])
    target.write_text(buffer.getvalue(), encoding="utf-8")
    return chosen


def stats_by_category() -> dict:
    out = io.StringIO()
    call_command("cases", "stats", "--by", "category", stdout=out)
    result = json.loads(out.getvalue())
    return {group["key"]: group for group in result["groups"]} | {"": result["total"]}


@needs_data
@pytest.mark.django_db
def test_ct_cid_slice_repeated_rows_are_one_case(tree, tmp_path):
    # 7068138: 108 rows; 7007112: three companies; 7035385: nothing but dates; 7013812: repeated rows.
    odd = ("7068138", "7007112", "7035385", "7013812")
    rows = slice_of(
        DATA / "ct_cid_insurance_complaints.csv", tmp_path / "ct.csv", first=1200, key=0, extra_keys=odd
    )
    records: dict[str, list[list[str]]] = {}
    for row in rows:
        records.setdefault(row[0], []).append(row)

    summary = run_import("cases", tmp_path / "ct.csv", "--profile", "ct_cid")

    check_invariant(summary)
    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (len(rows), len(rows), 0)
    assert summary["records"]["created"] == len(records) == Case.objects.count()
    assert summary["conflicts"] > 0 and any("company" in w for w in summary["warnings"])
    # Units: one per company of a record's first row (the profile keeps the first on conflict).
    companies = {group[0][4] for group in records.values()}
    assert summary["new_units"]["count"] == len(companies)
    assert Unit.objects.filter(parent__code="HQ", level="部门").count() == len(companies)

    big = by_no("CT-CID-7068138")
    lines = {
        f"险种: {r[5]}{' / ' + r[6] if r[6] else ''}; 事由: {r[7]}{' / ' + r[8] if r[8] else ''}"
        for r in records["7068138"]
    }
    assert set(big.description.split("\n")) == lines and len(lines) == 36
    assert big.received_at == at("2024-09-18 00:00") and big.closed_at == at("2024-10-09 00:00")
    assert (big.status, big.channel, big.kind, big.regulator_ref) == ("已办结", "监管转办", "投诉", "7068138")
    assert big.decided_at == big.closed_at and big.on_time is not None
    assert by_no("CT-CID-7007112").unit.name == records["7007112"][0][4]
    assert by_no("CT-CID-7035385").description == "(监管文件未载明险种与投诉事由)"

    stats = stats_by_category()
    assert stats[""]["count"] == len(records) == stats[""]["closed"] == stats[""]["regulator_forwarded"]
    assert set(stats) - {""} <= set(Category.values)
    claims = sum(1 for group in records.values() if group[0][7] == "Claim Handling")
    assert stats["理赔纠纷"]["count"] == claims

    again = run_import("cases", tmp_path / "ct.csv", "--profile", "ct_cid")
    assert (again["unchanged"], again["created"], again["updated"]) == (len(rows), 0, 0)


@needs_data
@pytest.mark.django_db
def test_tx_tdi_slice(tree, tmp_path):
    rows = slice_of(
        DATA / "tx_tdi_insurance_complaints_one_record.csv", tmp_path / "tx.csv", first=3000, key=0
    )
    keywords = read_csv(tmp_path / "tx.csv")[0].index("keywords")

    summary = run_import("cases", tmp_path / "tx.csv", "--profile", "tx_tdi")

    check_invariant(summary)
    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (3000, 3000, 0)
    assert len({row[0] for row in rows}) == 3000 == Case.objects.count()
    assert summary["new_units"]["codes"] == ["TX-TDI"]
    assert set(Case.objects.values_list("unit__code", flat=True)) == {"TX-TDI"}
    stats = stats_by_category()
    assert stats[""]["count"] == 3000 == stats[""]["closed"]
    assert stats["理赔纠纷"]["count"] >= sum(1 for row in rows if "claim" in row[keywords].lower())
    assert stats["其他"]["count"] >= sum(1 for row in rows if not row[keywords].strip())
    first = by_no("TX-TDI-1")
    assert first.description == "Life, Accident and Health / Life & Annuity / Individual Life"
    assert first.outcome == "投诉不成立 (Not Confirmed)" and first.extra == {
        "filed_by": "Relative",
        "complainant_type": "INDV",
    }


@needs_data
@pytest.mark.django_db
def test_cfpb_original_file_reports_its_preamble_and_imports(tree, tmp_path):
    _, rows = read_csv(DATA / "cfpb_complaints_sample_6623.csv")
    header = read_csv(DATA / "cfpb_complaints_sample_6623.csv")[0]
    col = {name: i for i, name in enumerate(header)}
    # The original as published, cut after 2,000 complaints (its first two lines are `unzip` output).
    original = tmp_path / "complaints.original.csv"
    with (DATA / "cfpb_complaints_sample_6623.original.csv").open(encoding="utf-8", newline="") as fh:
        preamble = [fh.readline(), fh.readline()]
        kept = list(csv.reader(fh))[:2001]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(kept)
    original.write_text("".join(preamble) + buffer.getvalue(), encoding="utf-8")
    rows = kept[1:]

    summary = run_import("cases", original, "--profile", "cfpb")

    check_invariant(summary)
    assert summary["header_row"] == 3
    assert summary["warnings"][0] == "第 1–2 行不是表头, 已跳过"
    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (2000, 2000, 0)
    closed = sum(1 for row in rows if row[col["Company response to consumer"]].startswith("Closed"))
    assert summary["closed_without_date"] == closed
    assert summary["new_units"]["count"] == len({row[col["Company"]] for row in rows})
    stats = stats_by_category()
    assert stats[""]["count"] == 2000 and stats[""]["open"] == 2000 - closed

    # Narratives keep their line breaks, quotes and XXXX; without one, Issue / Sub-issue.
    narrated = next(
        r
        for r in rows
        if "\n" in r[col["Consumer complaint narrative"]] and "XXXX" in r[col["Consumer complaint narrative"]]
    )
    case = by_no(f"CFPB-{narrated[col['Complaint ID']]}")
    assert case.description == narrated[col["Consumer complaint narrative"]].strip()
    assert case.extra["timely_response"] == narrated[col["Timely response?"]]
    silent = next(r for r in rows if not r[col["Consumer complaint narrative"]] and r[col["Sub-issue"]])
    assert (
        by_no(f"CFPB-{silent[col['Complaint ID']]}").description
        == f"{silent[col['Issue']]}: {silent[col['Sub-issue']]}"
    )
    assert Case.objects.filter(search_q("XXXX")).count() == sum(
        1 for r in rows if "XXXX" in r[col["Consumer complaint narrative"]]
    )
    assert not Customer.objects.exists()

    # The cleaned export of the same complaints: every row unchanged.
    clean = tmp_path / "complaints.csv"
    shutil.copyfile(original, clean)
    clean.write_text(buffer.getvalue(), encoding="utf-8")
    again = run_import("cases", clean, "--profile", "cfpb")
    assert (again["unchanged"], again["warnings"]) == (2000, [])
    assert Counter(Case.objects.values_list("status", flat=True)) == {
        "已办结": closed,
        "处理中": 2000 - closed,
    }
