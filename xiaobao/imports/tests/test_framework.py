"""The generic engine, through a throw-away format registered only for these tests.

`test_tickets` keeps its records in a dict, written on commit like a database would keep them,
so these tests exercise exactly what a later importer (policies, cases, ...) gets from the
framework: profiles, multi-row records, conflicts, chunks, bulk look-ups, change records.
"""

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaobao.audit.models import AuditEntry
from xiaobao.imports import mapping, registry
from xiaobao.imports.engine import Importer, normalize_header
from xiaobao.imports.mapping import profile_load
from xiaobao.imports.models import BatchStatus, ImportBatch, ImportChange
from xiaobao.imports.spec import Column, ImportRefused, ImportSpec, RowError
from xiaobao.imports.tests.files import (
    check_invariant,
    read_errors,
    run_import,
    run_import_refused,
    write_csv,
    write_xlsx,
)
from xiaobao.lib.parsing import SHANGHAI, enum_parser, parse_amount, parse_bool, parse_datetime

STORE: dict[tuple, dict] = {}


class TicketImporter(Importer):
    spec = ImportSpec(
        kind="test_tickets",
        key=("ticket_no",),
        alternate_keys=(("external_id",),),
        columns=[
            Column("ticket_no", ("工单号", "投诉编号"), required=True),
            Column("external_id", ("外部编号",)),
            Column("received_at", ("受理时间",), parse_datetime, required=True),
            Column("amount", ("金额",), parse_amount),
            Column("urgent", ("是否紧急",), parse_bool),
            Column("kind", ("工单类型",), enum_parser(["投诉", "咨询"], name="工单类型")),
            Column("reasons", ("投诉事由",), multi=True),
        ],
    )
    chunk_size = 3
    existing_calls: list[int] = []

    def validate_row(self, row):
        if row.get("kind") == "咨询" and row.get("reasons"):
            raise RowError("reasons", "咨询工单不应有投诉事由")
        return row

    def existing(self, keys):
        self.existing_calls.append(len(keys))
        return {key: dict(STORE[key]) for key in keys if key in STORE}

    def apply(self, *, created, updated):
        writes = {r.key: dict(r.values) for r in created}
        writes |= {c.record.key: {**c.before, **c.record.values} for c in updated}
        # Like a database write: visible only if the import's transaction commits.
        transaction.on_commit(lambda: STORE.update(writes))


_capture = None


@pytest.fixture(autouse=True)
def tickets(django_capture_on_commit_callbacks):
    global _capture
    _capture = django_capture_on_commit_callbacks
    STORE.clear()
    TicketImporter.existing_calls = []
    registry.register(TicketImporter)
    yield STORE
    registry.unregister("test_tickets")


def run(*args):
    """run_import, then the on-commit writes, as they would follow a real commit."""
    with _capture(execute=True):
        return run_import(*args)


def refused(*args, returncode):
    with _capture(execute=True):
        return run_import_refused(*args, returncode=returncode)


def profile(settings, name: str, data: dict, suffix: str = ".json") -> Path:
    folder = Path(settings.DATA_DIR) / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{suffix}"
    path.write_text(json.dumps({"kind": "test_tickets", **data}, ensure_ascii=False), encoding="utf-8")
    return path


HEADER = ["工单号", "受理时间", "金额", "是否紧急", "工单类型", "投诉事由"]


# ---------------------------------------------------------------- rows and records


@pytest.mark.django_db
def test_values_are_parsed_and_stored(tmp_path):
    path = write_csv(
        tmp_path / "t.csv", [HEADER, ["T1", "2024/3/5 14:30", "1,234.50", "是", "投诉", "销售误导;退保难"]]
    )

    summary = run("test_tickets", path)

    assert summary["created"] == 1
    assert STORE[("T1",)] == {
        "ticket_no": "T1",
        "received_at": dt.datetime(2024, 3, 5, 14, 30, tzinfo=SHANGHAI),
        "amount": Decimal("1234.50"),
        "urgent": True,
        "kind": "投诉",
        "reasons": ("销售误导", "退保难"),
    }


@pytest.mark.django_db
def test_a_changed_value_is_an_update_with_old_and_new(tmp_path):
    run(
        "test_tickets",
        write_csv(tmp_path / "a.csv", [HEADER, ["T1", "2024-03-05", "12.5", "否", "投诉", ""]]),
    )

    same = run(
        "test_tickets", write_csv(tmp_path / "b.csv", [HEADER, ["T1", "20240305", "12.50", "N", "投诉", ""]])
    )
    changed = run(
        "test_tickets", write_csv(tmp_path / "c.csv", [HEADER, ["T1", "2024-03-05", "13", "否", "投诉", ""]])
    )

    assert (same["unchanged"], same["updated"]) == (1, 0)
    assert (changed["unchanged"], changed["updated"]) == (0, 1)
    change = ImportChange.objects.get(batch_id=changed["batch"])
    assert (change.key, change.row, change.changes) == ("T1", 2, {"amount": ["12.50", "13.00"]})
    assert STORE[("T1",)]["amount"] == Decimal("13.00")


@pytest.mark.django_db
def test_a_column_missing_from_the_file_is_left_alone(tmp_path):
    run(
        "test_tickets",
        write_csv(tmp_path / "a.csv", [HEADER, ["T1", "2024-03-05", "12.5", "否", "投诉", ""]]),
    )

    summary = run(
        "test_tickets", write_csv(tmp_path / "b.csv", [["工单号", "受理时间"], ["T1", "2024-03-05"]])
    )

    assert summary["unchanged"] == 1
    assert STORE[("T1",)]["amount"] == Decimal("12.50")


@pytest.mark.django_db
def test_rows_sharing_a_key_are_one_record(tmp_path):
    rows = [
        HEADER,
        ["T1", "2024-03-05", "10", "是", "投诉", "销售误导"],
        ["T1", "2024-03-05", "10", "是", "投诉", "退保难;销售误导"],  # reasons collected
        ["T2", "2024-03-06", "10", "是", "投诉", ""],
        ["T2", "2024-03-06", "99", "是", "投诉", ""],  # disagrees with row 4
    ]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows))

    check_invariant(summary)
    assert summary["records"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert (summary["created"], summary["rejected"], summary["conflicts"]) == (2, 2, 1)
    assert STORE[("T1",)]["reasons"] == ("销售误导", "退保难")
    assert summary["errors"] == [
        {"row": 5, "column": "金额", "reason": "与第 4 行的金额不一致: “10.00” ≠ “99.00”"}
    ]
    errors = read_errors(summary["errors_file"])
    assert [(e["错误行号"], e["错误列"]) for e in errors] == [(4, None), (5, "金额")]
    assert "同一记录的第 5 行有错误" in errors[0]["错误原因"]


@pytest.mark.django_db
def test_one_bad_row_rejects_its_whole_record(tmp_path):
    rows = [
        HEADER,
        ["T1", "2024-03-05", "10", "是", "投诉", "甲"],
        ["T1", "2024-03-05", "abc", "是", "投诉", "乙"],
    ]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows))

    assert (summary["created"], summary["rejected"]) == (0, 2)
    assert not STORE


@pytest.mark.django_db
def test_validate_row_errors_name_their_column(tmp_path):
    rows = [HEADER, ["T1", "2024-03-05", "", "", "咨询", "甲"]]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows))

    assert summary["errors"] == [{"row": 2, "column": "投诉事由", "reason": "咨询工单不应有投诉事由"}]


@pytest.mark.django_db
def test_several_problems_in_one_row_are_all_reported(tmp_path):
    rows = [HEADER, ["T1", "2024-02-30", "12.345", "也许", "投诉", ""]]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows))

    assert [e["column"] for e in summary["errors"]] == ["受理时间", "金额", "是否紧急"]
    (line,) = read_errors(summary["errors_file"])
    assert line["错误列"] == "受理时间; 金额; 是否紧急"
    assert line["错误原因"].startswith("受理时间: 日期")


@pytest.mark.django_db
def test_blank_rows_are_skipped_and_not_counted(tmp_path):
    rows = [
        HEADER,
        ["T1", "2024-03-05", "", "", "", ""],
        ["", "", "", "", "", ""],
        ["  ", "", "", "", "", ""],
        ["T2", "2024-03-05"],
    ]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows))

    assert (summary["rows_read"], summary["created"]) == (2, 2)


@pytest.mark.django_db
def test_a_formula_like_value_stays_text_in_the_error_file(tmp_path):
    rows = [HEADER, ['=HYPERLINK("http://x")', "bad date"]]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows))

    assert read_errors(summary["errors_file"])[0]["工单号"] == '=HYPERLINK("http://x")'


@pytest.mark.django_db
def test_an_error_file_imported_again_gets_fresh_error_columns_only(tmp_path):
    """Found by test_import_properties: the previous round's 错误行号/错误列/错误原因 were copied
    next to the new ones, so the second error file had two of each, the old ones stale."""
    rows = [["错误行号", "错误列", "错误原因", *HEADER[:2]], [7, "受理时间", "旧的原因", "T1", "仍然不对"]]

    summary = run("test_tickets", write_xlsx(tmp_path / "fixed.xlsx", rows))

    workbook = openpyxl.load_workbook(summary["errors_file"], read_only=True)
    header, row = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert header == ("错误行号", "错误列", "错误原因", "工单号", "受理时间")
    assert row[:2] == (2, "受理时间") and row[3:] == ("T1", "仍然不对")
    assert row[2] != "旧的原因"


# ---------------------------------------------------------------- chunks


@pytest.mark.django_db
def test_lookups_are_bulk_per_chunk_and_records_are_not_split(tmp_path):
    rows = [HEADER] + [[f"T{i}", "2024-03-05", "1", "是", "投诉", ""] for i in range(1, 8)]
    rows[3:3] = [["T2", "2024-03-05", "1", "是", "投诉", "甲"]]  # T2's second row, adjacent

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows))

    assert summary["records"]["created"] == 7 and summary["rejected"] == 0
    assert TicketImporter.existing_calls == [3, 3, 1]  # three queries for eight rows
    assert STORE[("T2",)]["reasons"] == ("甲",)


@pytest.mark.django_db
def test_a_record_repeated_far_away_is_rejected_not_half_written(tmp_path):
    rows = [HEADER] + [[f"T{i}", "2024-03-05"] for i in range(1, 6)] + [["T1", "2024-03-05"]]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows))

    assert (summary["created"], summary["rejected"]) == (5, 1)
    assert summary["errors"][0]["row"] == 7
    assert "与第 2 行属于同一记录" in summary["errors"][0]["reason"]


# ---------------------------------------------------------------- header


@pytest.mark.django_db
def test_headers_match_whatever_the_case_spacing_or_width(tmp_path):
    assert (
        normalize_header(" Ticket_No ")
        == normalize_header("ticketno")
        == normalize_header("ＴＩＣＫＥＴ－ＮＯ")
    )
    path = write_csv(
        tmp_path / "t.csv", [["RECEIVED_AT", " ticket no ", "投诉编号 "], ["2024-03-05", "T1", ""]]
    )

    _, message = refused("test_tickets", path, returncode=1)

    assert "表头有重复的列" in message and "ticket_no" in message


@pytest.mark.django_db
def test_no_header_in_sight(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["a", "b"]] * 40)

    summary, message = refused("test_tickets", path, returncode=1)

    assert "未找到表头" in message and "ticket_no (工单号/投诉编号)" in message
    assert summary["status"] == "failed"


@pytest.mark.django_db
def test_a_header_without_rows(tmp_path):
    summary = run("test_tickets", write_csv(tmp_path / "t.csv", [HEADER]))

    assert (summary["status"], summary["rows_read"]) == ("done", 0)


@pytest.mark.django_db
def test_xlsx_cells_keep_their_types(tmp_path):
    rows = [HEADER, [1101, dt.datetime(2024, 3, 5, 14, 30), 12.5, True, "投诉", None]]

    summary = run("test_tickets", write_xlsx(tmp_path / "t.xlsx", rows))

    assert summary["created"] == 1
    assert STORE[("1101",)]["received_at"] == dt.datetime(2024, 3, 5, 14, 30, tzinfo=SHANGHAI)
    assert STORE[("1101",)]["amount"] == Decimal("12.50")


# ---------------------------------------------------------------- profiles


@pytest.mark.django_db
def test_a_profile_maps_columns_values_dates_and_multi_values(settings, tmp_path):
    profile(
        settings,
        "regulator",
        {
            "columns": {
                "Complaint number": "ticket_no",
                "Received": "received_at",
                "Reason": "reasons",
                "Company": None,
            },
            "values": {"reasons": {"Delays": "理赔拖延"}},
            "constants": {"kind": "投诉"},
            "date_format": "%m/%d/%Y",
            "multi_valued": {"reasons": "; "},
        },
    )
    rows = [
        ["Complaint number", "Company", "Received", "Reason", "Keywords"],
        ["2899", "State Farm", "7/23/2012", "delays; Denial Of Claim", "HAIL"],
        ["2899", "State Farm", "7/23/2012", "Refund", ""],
    ]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows), "--profile", "regulator")

    assert (summary["records"]["created"], summary["created"]) == (1, 2)
    assert summary["unknown_columns"] == ["Keywords"]  # Company is ignored on purpose, not unknown
    assert STORE[("2899",)] == {
        "ticket_no": "2899",
        "received_at": dt.datetime(2012, 7, 23, tzinfo=SHANGHAI),
        "reasons": ("理赔拖延", "Denial Of Claim", "Refund"),
        "kind": "投诉",
    }


@pytest.mark.django_db
def test_a_profile_may_keep_the_first_value_of_a_conflict(settings, tmp_path):
    profile(settings, "lenient", {"on_conflict": "first"})
    rows = [HEADER, ["T1", "2024-03-05", "10"], ["T1", "2024-03-05", "99"]]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows), "--profile", "lenient")

    assert (summary["created"], summary["rejected"], summary["conflicts"]) == (2, 0, 1)
    assert STORE[("T1",)]["amount"] == Decimal("10.00")
    assert any("按导入配置保留第一行的值" in w for w in summary["warnings"])


@pytest.mark.django_db
def test_a_profile_may_choose_an_alternate_key(settings, tmp_path):
    profile(settings, "by_external", {"key": ["external_id"]})
    rows = [["外部编号", "工单号", "受理时间"], ["E1", "T1", "2024-03-05"], ["E1", "T1", "2024-03-05"]]

    summary = run("test_tickets", write_csv(tmp_path / "t.csv", rows), "--profile", "by_external")

    assert summary["records"]["created"] == 1
    assert ("E1",) in STORE


def test_profiles_are_found_in_the_data_folder_first_then_the_package(settings, tmp_path, monkeypatch):
    package = tmp_path / "package_profiles"
    package.mkdir()
    monkeypatch.setattr(mapping, "PACKAGE_PROFILES", package)
    (package / "shipped.json").write_text('{"kind": "test_tickets", "columns": {"Nr": "ticket_no"}}')
    (package / "adapted.json").write_text('{"kind": "test_tickets", "columns": {"Nr": "ticket_no"}}')
    site = Path(settings.DATA_DIR) / "profiles"
    site.mkdir(parents=True)
    (site / "adapted.yaml").write_text(
        "kind: test_tickets\ncolumns:\n  Nummer: ticket_no\n", encoding="utf-8"
    )

    shipped = profile_load(name="shipped", spec=TicketImporter.spec)
    adapted = profile_load(name="adapted", spec=TicketImporter.spec)

    assert shipped.source == str(package / "shipped.json")
    assert (adapted.source, adapted.columns) == (str(site / "adapted.yaml"), {"Nummer": "ticket_no"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "units"}, "kind 应为 'test_tickets'"),
        ({"columns": {"Nr": "ticket"}}, "列 'ticket' 不是 test_tickets 格式的列"),
        ({"key": ["amount"]}, "key 应为 ticket_no 或 external_id"),
        ({"multi_valued": ["amount"]}, "只能有一个值"),
        ({"on_conflict": "random"}, "on_conflict 应为"),
        ({"colums": {}}, "未知的配置项 colums"),
        ({"date_format": 5}, "date_format 应为"),
    ],
)
@pytest.mark.django_db
def test_an_invalid_profile_is_refused_with_every_reason(settings, tmp_path, data, message):
    profile(settings, "bad", data)
    path = write_csv(tmp_path / "t.csv", [HEADER, ["T1", "2024-03-05"]])

    summary, error = refused("test_tickets", path, "--profile", "bad", returncode=1)

    assert message in error
    assert summary["status"] == "failed" and not STORE


@pytest.mark.parametrize(
    ("name", "message"),
    [("nope", "找不到导入配置"), ("../etc/passwd", "导入配置名"), (".hidden", "导入配置名")],
)
def test_profile_names_are_names_not_paths(name, message):
    with pytest.raises(ImportRefused, match=message):
        profile_load(name=name, spec=TicketImporter.spec)


def test_a_broken_profile_file(settings):
    path = profile(settings, "broken", {})
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ImportRefused, match="不是有效的 JSON"):
        profile_load(name="broken", spec=TicketImporter.spec)


# ---------------------------------------------------------------- the command


@pytest.mark.django_db
def test_an_unknown_kind_is_a_usage_error(tmp_path):
    _, message = refused("nonsense", write_csv(tmp_path / "t.csv", [HEADER]), returncode=1)

    assert "未知的导入类型" in message and "units" in message and "test_tickets" in message
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_the_summary_is_one_json_line_with_the_counts(tmp_path):
    path = write_csv(tmp_path / "t.csv", [HEADER, ["T1", "2024-03-05"], ["T2", "bad"]])

    summary = run("test_tickets", path)

    assert {
        "rows_read",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "errors_file",
        "batch",
        "status",
    } <= set(summary)
    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (2, 1, 1)
    batch = ImportBatch.objects.get(pk=summary["batch"])
    assert (batch.status, batch.rows_read, batch.errors_file) == (BatchStatus.DONE, 2, summary["errors_file"])
    entry = AuditEntry.objects.get(action="import")
    assert (entry.object_type, entry.object_id) == ("imports.importbatch", str(batch.pk))


@pytest.mark.django_db
def test_dry_run_and_strict_write_nothing(tmp_path):
    path = write_csv(tmp_path / "t.csv", [HEADER, ["T1", "2024-03-05"], ["T2", "bad"]])

    dry = run("test_tickets", path, "--dry-run")
    strict, _ = refused("test_tickets", path, "--strict", returncode=3)

    assert (dry["status"], dry["created"], dry["rejected"]) == ("dry_run", 1, 1)
    assert (strict["status"], strict["created"], strict["rejected"]) == ("rejected", 1, 1)
    assert not STORE
    assert AuditEntry.objects.filter(action="import").count() == 2


# ---------------------------------------------------------------- properties

CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "T1",
            "T2",
            "T3",
            "2024-03-05",
            "2024/3/5 8:00",
            "12.5",
            "1,000",
            "是",
            "否",
            "投诉",
            "咨询",
        ]
    ),
    st.text(alphabet='甲乙,;"\n x1', max_size=6),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=7), max_size=15), fmt=st.sampled_from(["csv", "xlsx"])
)
def test_any_rows_are_accounted_for(tmp_path, rows, fmt):
    """Whatever the rows hold: nothing crashes, every row is counted once, every rejection is listed."""
    STORE.clear()
    name = f"p-{abs(hash((str(rows), fmt)))}.{fmt}"
    path = (
        write_csv(tmp_path / name, [HEADER, *rows])
        if fmt == "csv"
        else write_xlsx(tmp_path / name, [HEADER, *rows])
    )

    summary = run("test_tickets", path)

    check_invariant(summary)
    assert summary["rows_read"] == sum(1 for row in rows if any(cell.strip() for cell in row))
    if summary["rejected"]:
        assert len(read_errors(summary["errors_file"])) == summary["rejected"]


# ---------------------------------------------------------------- real exports

CFPB = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "cfpb_complaints_sample_6623.original.csv"
)


@pytest.mark.django_db
@pytest.mark.skipif(not CFPB.exists(), reason="shared/data is not present")
def test_the_cfpb_export_with_its_unzip_preamble(settings):
    """Published as is: two `unzip` lines above the header and narratives with line breaks."""
    profile(
        settings,
        "cfpb",
        {
            "columns": {
                "Complaint ID": "ticket_no",
                "Date received": "received_at",
                "Issue": "reasons",
                "Timely response?": "urgent",
            },
            "values": {"urgent": {"Yes": "否", "No": "是"}},  # late answers are the urgent ones
            "constants": {"kind": "投诉"},
        },
    )

    summary = run("test_tickets", CFPB, "--profile", "cfpb", "--dry-run")

    check_invariant(summary)
    assert summary["header_row"] == 3
    assert "第 1–2 行不是表头, 已跳过" in summary["warnings"]
    assert summary["rows_read"] == 6623
    assert summary["rejected"] == 0, summary["errors"][:5]
    assert "Consumer complaint narrative" in summary["unknown_columns"]


# ---------------------------------------------------------------- a column at a time

# Cells as readers hand them over: CSV text (blank, padded, bad, with separators, U+FFFD, NUL) and
# the typed cells of a spreadsheet, among them 1, 1.0 and True, which are one dictionary key.
ANY_CELL = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "T1", " T1 ", "T2", "2024-03-05", "2024/3/5 8:30", "昨天", "12,345.60"]),
    st.sampled_from(["¥5", "abc", "是", "否", "Y", "投诉", "咨询", "other", "delays; Refund", "; ;"]),
    st.sampled_from(["\ufffd坏", "a\x00b", "Delays", "  delays ; x  ", "x" * 70]),
    st.sampled_from([1, 1.0, True, False, 0, 2.5, 10**17 * 1.0, dt.datetime(2024, 3, 5, 9, 0)]),
    st.text(alphabet="甲1-/; ,\ufffd", max_size=5),
)


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(ANY_CELL, min_size=0, max_size=9), min_size=1, max_size=25),
    full_width=st.booleans(),
)
def test_parsing_a_column_at_a_time_gives_what_parsing_a_row_at_a_time_gives(settings, rows, full_width):
    """_parse_many (the engine's pass) equals _parse row by row: the same values in the same order,
    a failed cell's column left out, the same problems in the same order, validate_row's included.
    The profile has every kind of step: mapped and template columns, value maps with patterns, a
    constant, multi-valued and collected columns."""
    from xiaobao.imports.engine import ImportEngine

    profile(
        settings,
        "every_step",
        {
            "columns": {"Ref": "external_id", "When": "received_at", "Why": "reasons"},
            "templates": {"ticket_no": ["T-{Ref}[-{Extra}]", "{Other}"]},
            "values": {
                "kind": {"c*": "投诉", "*q*": "咨询"},
                "reasons": {"Delays": "理赔拖延", "*x*": "其他"},
            },
            "constants": {"urgent": "是"},
            "multi_valued": {"reasons": "; ", "external_id": "/"},
            "extra": {"Note": "note"},
        },
    )
    header = ["Ref", "When", "金额", "工单类型", "Why", "Extra", "Other", "Note", "多余"]

    class WithExtras(TicketImporter):
        spec = replace(TicketImporter.spec, extra=True)

    importer = WithExtras()
    engine = ImportEngine(importer=importer, profile=profile_load(name="every_step", spec=importer.spec))
    engine._map_header(header, engine._header_index())
    assert {s.name for s in engine.steps} >= {"ticket_no", "urgent", "reasons", "external_id", "extra.note"}

    if full_width:  # every row as wide as the header: templates read their columns at once too
        rows = [[*row, *[None] * (len(header) - len(row))] for row in rows]

    assert engine._parse_many(rows) == [engine._parse(row) for row in rows]


@pytest.mark.django_db
def test_a_profile_constant_that_cannot_be_read_refuses_the_file(settings, tmp_path):
    profile(settings, "bad_constant", {"constants": {"urgent": "也许"}})
    rows = [HEADER[:2], ["T1", "2024-03-05"], ["T2", "2024-03-06"]]

    _, message = refused(
        "test_tickets", write_csv(tmp_path / "t.csv", rows), "--profile", "bad_constant", returncode=1
    )

    assert "导入配置 bad_constant 的固定值 (constants) urgent “也许” 无效" in message
    assert "整个文件未导入" in message
    assert STORE == {}
