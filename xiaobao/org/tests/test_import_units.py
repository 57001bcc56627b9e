"""`xiaobao import units FILE`: real files in every accepted shape, run through the real command."""

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.imports.models import BatchStatus, ImportBatch, ImportChange
from xiaobao.imports.tests.files import (
    check_invariant,
    read_errors,
    run_import,
    run_import_refused,
    write_csv,
    write_xlsx,
)
from xiaobao.org.models import Unit, UnitLevel
from xiaobao.org.services import unit_save

HEADER = ["机构代码", "机构名称", "上级机构代码", "机构层级"]
# Children before their parents on purpose: the file's order must not matter.
ROWS = [
    ["C1", "青岛中心支公司", "BR", "中心支公司"],
    ["S1", "黄岛支公司", "C1", "支公司"],
    ["BR", "山东分公司", "HQ", "分公司"],
    ["HQ", "总公司", "", "总公司"],
    ["KF", "分公司客服部", "BR", "部门"],
]
PATHS = {"HQ": "/HQ/", "BR": "/HQ/BR/", "C1": "/HQ/BR/C1/", "S1": "/HQ/BR/C1/S1/", "KF": "/HQ/BR/KF/"}


def paths() -> dict[str, str]:
    return dict(Unit.objects.values_list("code", "path"))


def assert_tree_consistent() -> None:
    """Every stored unit sits where its parent says, at a level Unit.clean() allows."""
    units = {u.pk: u for u in Unit.objects.all()}
    for unit in units.values():
        parent = units.get(unit.parent_id)
        assert unit.path == (parent.path if parent else "/") + unit.code + "/", unit
        unit.parent = parent
        unit.clean()


@pytest.fixture
def units_csv(tmp_path):
    return write_csv(tmp_path / "units.csv", [HEADER, *ROWS])


@pytest.mark.django_db
def test_chinese_headers_children_before_parents(units_csv):
    summary = run_import("units", units_csv)

    assert summary["status"] == "done"
    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (5, 5, 0)
    assert summary["errors_file"] is None
    assert summary["encoding"] == "utf-8"
    check_invariant(summary)
    assert paths() == PATHS
    assert Unit.objects.get(code="S1").level == UnitLevel.SUB_BRANCH


@pytest.mark.django_db
def test_english_headers_in_another_order_with_bom(tmp_path):
    header = ["Level", "parent_code", " NAME ", "code"]
    rows = [[level, parent, name, code] for code, name, parent, level in ROWS]
    path = write_csv(tmp_path / "units.csv", [header, *rows], encoding="utf-8-sig")

    summary = run_import("units", path)

    assert summary["created"] == 5
    assert summary["encoding"] == "utf-8-sig"
    assert paths() == PATHS
    assert Unit.objects.get(code="BR").name == "山东分公司"


@pytest.mark.django_db
def test_gb18030_csv_from_chinese_excel(tmp_path):
    path = write_csv(tmp_path / "units.csv", [HEADER, *ROWS], encoding="gb18030")

    summary = run_import("units", path)

    assert summary["encoding"] == "gb18030"
    assert summary["created"] == 5
    assert Unit.objects.get(code="KF").name == "分公司客服部"


@pytest.mark.django_db
def test_xlsx_with_numeric_codes_on_a_named_sheet(tmp_path):
    rows = [
        [1101, "青岛中心支公司", 11, "中心支公司"],
        [11, "山东分公司", "HQ", "分公司"],
        ["HQ", "总公司", None, "总公司"],
    ]
    path = write_xlsx(tmp_path / "units.xlsx", [HEADER, *rows], sheet="机构", extra_sheets=("说明",))

    summary = run_import("units", path, "--sheet", "机构")

    assert summary["created"] == 3
    assert summary["sheet"] == "机构"
    # Excel stored the codes as numbers; the user typed 1101, not 1101.0.
    assert paths() == {"HQ": "/HQ/", "11": "/HQ/11/", "1101": "/HQ/11/1101/"}


@pytest.mark.django_db
def test_xlsx_reads_the_first_sheet_by_default(tmp_path):
    path = write_xlsx(tmp_path / "units.xlsx", [HEADER, ["HQ", "总公司", None, "总公司"]])

    summary = run_import("units", path)

    assert summary["created"] == 1


@pytest.mark.django_db
def test_second_import_of_the_same_file_changes_nothing(units_csv):
    run_import("units", units_csv)
    before = list(Unit.objects.values_list("code", "name", "level", "path", "updated_at"))

    summary = run_import("units", units_csv)

    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 5)
    assert list(Unit.objects.values_list("code", "name", "level", "path", "updated_at")) == before
    assert not ImportChange.objects.exists()


@pytest.mark.django_db
def test_update_is_recorded_and_a_move_rewrites_the_subtree(tmp_path, units_csv):
    run_import("units", units_csv)
    # C1 moves to a new branch that comes later in the file; S1 (not in the file) must follow it.
    path = write_csv(
        tmp_path / "units2.csv",
        [
            HEADER,
            ["C1", "青岛中心支公司", "BR2", "中心支公司"],
            ["BR", "山东省分公司", "HQ", "分公司"],
            ["BR2", "青岛分公司", "HQ", "分公司"],
        ],
    )

    summary = run_import("units", path)

    assert (summary["created"], summary["updated"], summary["unchanged"]) == (1, 2, 0)
    assert paths() == {**PATHS, "BR2": "/HQ/BR2/", "C1": "/HQ/BR2/C1/", "S1": "/HQ/BR2/C1/S1/"}
    assert Unit.objects.get(code="BR").name == "山东省分公司"
    batch = ImportBatch.objects.get(pk=summary["batch"])
    changes = {c.key: c.changes for c in ImportChange.objects.filter(batch=batch)}
    assert changes == {"BR": {"name": ["山东分公司", "山东省分公司"]}, "C1": {"parent_code": ["BR", "BR2"]}}
    assert_tree_consistent()


@pytest.mark.django_db
def test_a_child_leaves_its_parent_while_the_parent_moves(tmp_path, units_csv):
    run_import("units", units_csv)
    # C1 moves to a new branch; S1, until now below C1, stays under the old branch instead.
    path = write_csv(
        tmp_path / "move.csv",
        [
            HEADER,
            ["S1", "黄岛支公司", "BR", "支公司"],
            ["C1", "青岛中心支公司", "BR2", "中心支公司"],
            ["BR2", "青岛分公司", "HQ", "分公司"],
        ],
    )

    summary = run_import("units", path)

    assert (summary["created"], summary["updated"]) == (1, 2)
    assert paths() == {**PATHS, "BR2": "/HQ/BR2/", "C1": "/HQ/BR2/C1/", "S1": "/HQ/BR/S1/"}
    assert_tree_consistent()


@pytest.mark.django_db
def test_bad_rows_are_reported_and_good_rows_committed(tmp_path):
    rows = [
        ["HQ", "总公司", "", "总公司"],  # row 2
        ["BR", "山东分公司", "HQ", "分公司"],  # row 3
        ["X1", "科室一", "BR", "科室"],  # row 4: no such level
        ["X2", "孤儿部", "NOPE", "部门"],  # row 5: unknown parent
        ["A", "甲部", "B", "部门"],  # row 6: A → B → A
        ["B", "乙部", "A", "部门"],  # row 7
        ["X3", "", "BR", "部门"],  # row 8: name missing
        ["D1", "综合部", "BR", "部门"],  # row 9: fine
        ["BR9", "错挂分公司", "D1", "分公司"],  # row 10: a 分公司 under a 部门
        ["S9", "下属支公司", "BR9", "支公司"],  # row 11: its parent was refused
        ["A/B", "斜杠", "BR", "部门"],  # row 12: "/" would break the path
        ["C" * 40, "超长代码", "BR", "部门"],  # row 13: code longer than 32
        ["X4", "无上级", "", "部门"],  # row 14: only the head office may be a root
    ]
    path = write_csv(tmp_path / "units.csv", [HEADER, *rows])

    summary = run_import("units", path)

    check_invariant(summary)
    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (13, 3, 10)
    assert set(paths()) == {"HQ", "BR", "D1"}
    errors = {e["row"]: e for e in summary["errors"]}
    assert sorted(errors) == [4, 5, 6, 7, 8, 10, 11, 12, 13, 14]
    assert errors[4]["column"] == "机构层级" and "科室" in errors[4]["reason"]
    assert errors[5]["column"] == "上级机构代码" and "NOPE 不存在" in errors[5]["reason"]
    assert "成环" in errors[6]["reason"] and "成环" in errors[7]["reason"]
    assert errors[8]["column"] == "机构名称" and "不能为空" in errors[8]["reason"]
    assert errors[10]["column"] == "上级机构代码" and "分公司 不能隶属于 部门" in errors[10]["reason"]
    assert "BR9 未能导入" in errors[11]["reason"] and "第 10 行" in errors[11]["reason"]
    assert errors[12]["column"] == "机构代码" and "/" in errors[12]["reason"]
    assert errors[13]["column"] == "机构代码" and "32" in errors[13]["reason"]
    assert "总公司" in errors[14]["reason"]

    error_rows = read_errors(summary["errors_file"])
    assert summary["errors_file"].endswith(f"{summary['batch']}-errors.xlsx")
    assert [r["错误行号"] for r in error_rows] == [4, 5, 6, 7, 8, 10, 11, 12, 13, 14]
    first = error_rows[0]
    assert list(first) == ["错误行号", "错误列", "错误原因", *HEADER]
    assert (first["机构代码"], first["机构层级"], first["错误列"]) == ("X1", "科室", "机构层级")
    assert_tree_consistent()


@pytest.mark.django_db
def test_the_error_file_can_be_fixed_and_imported_again(tmp_path):
    path = write_csv(
        tmp_path / "units.csv", [HEADER, ["HQ", "总公司", "", "总公司"], ["BR", "山东分公司", "HQ", "分司"]]
    )
    summary = run_import("units", path)
    assert summary["rejected"] == 1

    # The user corrects the level in the error file and imports it as it is.
    import openpyxl

    workbook = openpyxl.load_workbook(summary["errors_file"])
    workbook.active["G2"] = "分公司"
    fixed = tmp_path / "fixed.xlsx"
    workbook.save(fixed)
    again = run_import("units", fixed)

    assert (again["created"], again["rejected"]) == (1, 0)
    assert again["unknown_columns"] == []  # 错误行号/错误列/错误原因 are recognised, not "unknown"
    assert paths()["BR"] == "/HQ/BR/"


@pytest.mark.django_db
def test_strict_writes_nothing_when_a_row_is_bad(tmp_path):
    path = write_csv(tmp_path / "units.csv", [HEADER, *ROWS, ["X1", "科室一", "BR", "科室"]])

    summary, message = run_import_refused("units", path, "--strict", returncode=3)

    assert not Unit.objects.exists()
    assert summary["status"] == "rejected" and summary["rejected"] == 1
    assert "严格模式" in message and "未写入" in message
    assert read_errors(summary["errors_file"])[0]["错误行号"] == 7
    assert ImportBatch.objects.get().status == BatchStatus.REJECTED


@pytest.mark.django_db
def test_strict_imports_a_clean_file(units_csv):
    summary = run_import("units", units_csv, "--strict")

    assert summary["status"] == "done"
    assert Unit.objects.count() == 5


@pytest.mark.django_db
def test_dry_run_validates_and_writes_nothing(tmp_path):
    path = write_csv(tmp_path / "units.csv", [HEADER, *ROWS, ["X1", "科室一", "BR", "科室"]])

    summary = run_import("units", path, "--dry-run")

    assert summary["status"] == "dry_run"
    assert (summary["created"], summary["rejected"]) == (5, 1)
    assert not Unit.objects.exists()
    assert not ImportChange.objects.exists()
    assert ImportBatch.objects.get().dry_run
    assert AuditEntry.objects.filter(action="import").count() == 1
    assert read_errors(summary["errors_file"])[0]["机构代码"] == "X1"


@pytest.mark.django_db
def test_junk_lines_before_the_header_are_reported(tmp_path):
    preamble = "Archive:  /Users/someone/Downloads/units.csv.zip\r\n  inflating: units.csv          \r\n"
    path = write_csv(
        tmp_path / "units.csv", [HEADER, *ROWS, ["X1", "科室一", "BR", "科室"]], preamble=preamble
    )

    summary = run_import("units", path)

    assert summary["header_row"] == 3
    assert "第 1–2 行不是表头, 已跳过" in summary["warnings"]
    assert summary["created"] == 5
    # Row numbers stay those of the file as Excel shows it.
    assert summary["errors"][0]["row"] == 9


@pytest.mark.django_db
def test_a_mojibake_file_is_refused(tmp_path):
    # A UTF-8 export once opened as GBK and saved again: valid UTF-8, garbage text.
    text = "\r\n".join(",".join(row) for row in [HEADER, *ROWS]) + "\r\n"
    path = tmp_path / "units.csv"
    path.write_text(text.encode("utf-8").decode("gb18030", errors="replace"), encoding="utf-8")

    summary, message = run_import_refused("units", path, returncode=1)

    assert "乱码" in message
    assert summary["status"] == "failed"
    assert not Unit.objects.exists()
    assert ImportBatch.objects.get().status == BatchStatus.FAILED


@pytest.mark.django_db
def test_a_column_of_mojibake_under_english_headers_is_refused(tmp_path):
    rows = [
        [code, name.encode("utf-8").decode("latin-1"), parent, level] for code, name, parent, level in ROWS
    ]
    path = write_csv(tmp_path / "units.csv", [["code", "name", "parent_code", "level"], *rows])

    _, message = run_import_refused("units", path, returncode=1)

    assert "乱码" in message and "name" in message
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_a_missing_required_column_refuses_the_file(tmp_path):
    path = write_csv(tmp_path / "units.csv", [["机构代码", "机构名称", "上级机构代码"], ["HQ", "总公司", ""]])

    summary, message = run_import_refused("units", path, returncode=1)

    assert "缺少必需的列" in message and "level" in message and "机构层级" in message
    assert summary["status"] == "failed" and summary["rows_read"] == 0
    assert AuditEntry.objects.filter(action="import", object_id=str(summary["batch"])).exists()


@pytest.mark.django_db
def test_unknown_columns_are_reported_not_fatal(tmp_path):
    path = write_csv(tmp_path / "units.csv", [[*HEADER, "备注"], ["HQ", "总公司", "", "总公司", "根"]])

    summary = run_import("units", path)

    assert summary["created"] == 1
    assert summary["unknown_columns"] == ["备注"]


@pytest.mark.django_db
def test_a_level_change_that_strands_a_child_is_rejected(tree, tmp_path):
    # BR has two 中心支公司 below it; as a 部门 it could no longer hold them.
    path = write_csv(tmp_path / "units.csv", [HEADER, ["BR", "测试分公司", "HQ", "部门"]])

    summary = run_import("units", path)

    assert summary["rejected"] == 1
    assert "下级机构" in summary["errors"][0]["reason"]
    assert Unit.objects.get(code="BR").level == UnitLevel.BRANCH


@pytest.mark.django_db
def test_parents_already_in_the_system_are_found(tree, tmp_path):
    path = write_csv(tmp_path / "units.csv", [HEADER, ["C1S1", "甲支公司", "C1", "支公司"]])

    summary = run_import("units", path)

    assert summary["created"] == 1
    assert paths()["C1S1"] == "/HQ/BR/C1/C1S1/"


@pytest.mark.django_db
def test_a_loop_through_a_stored_unit_is_refused(tree, tmp_path):
    # BR under C1KF, which is stored under C1 under BR: a loop only the stored paths reveal.
    path = write_csv(tmp_path / "units.csv", [HEADER, ["BR", "测试分公司", "C1KF", "分公司"]])

    summary = run_import("units", path)

    assert summary["rejected"] == 1
    assert "成环" in summary["errors"][0]["reason"]
    assert paths()["BR"] == "/HQ/BR/"


@pytest.mark.django_db
def test_every_run_records_a_batch_and_one_audit_entry(alice, units_csv, tmp_path):
    entries = AuditEntry.objects.filter(action="import").count()
    run_import("units", units_csv, "--user", alice.username)
    run_import_refused("units", tmp_path / "missing.csv", returncode=1)

    assert AuditEntry.objects.filter(action="import").count() == entries + 2
    done, failed = ImportBatch.objects.order_by("pk")
    assert (done.actor, done.unit, done.kind, done.status) == (alice, alice.unit, "units", BatchStatus.DONE)
    assert len(done.file_sha256) == 64 and done.finished_at is not None
    assert (failed.status, failed.actor_name) == (BatchStatus.FAILED, "命令行")
    assert "找不到文件" in failed.message
    entry = AuditEntry.objects.get(action="import", object_id=str(done.pk))
    assert (entry.actor, entry.details["rows_read"], entry.details["sha256"]) == (alice, 5, done.file_sha256)
    # alice's tree already holds HQ, and BR and C1 under other names.
    assert (entry.details["created"], entry.details["updated"], entry.details["unchanged"]) == (2, 2, 1)


@pytest.mark.django_db
def test_a_user_without_the_import_role_is_refused(personas, units_csv):
    handler = personas[(Role.HANDLER, "inside")]

    _, message = run_import_refused("units", units_csv, "--user", handler.username, returncode=1)

    assert "无权导入" in message
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_a_profile_maps_an_outside_export(settings, tmp_path):
    profiles = settings.DATA_DIR / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "hr_units.json").write_text(
        json.dumps(
            {
                "kind": "units",
                "columns": {
                    "Org ID": "code",
                    "Org Name": "name",
                    "Parent ID": "parent_code",
                    "Type": "level",
                    "Cost Centre": None,
                },
                "values": {"level": {"HQ": "总公司", "Branch": "分公司", "Dept": "部门"}},
            }
        ),
        encoding="utf-8",
    )
    rows = [
        ["Org ID", "Org Name", "Parent ID", "Type", "Cost Centre"],
        ["HQ", "总公司", "", "HQ", "1000"],
        ["BR", "山东分公司", "HQ", "branch", "2000"],
        ["BR", "山东分公司", "HQ", "Branch", "2001"],  # the same record again: merged
        ["KF", "客服部", "BR", "Dept", "3000"],
        ["KF", "客服中心", "BR", "Dept", "3000"],  # disagrees with row 5: a conflict
    ]
    path = write_csv(tmp_path / "export.csv", rows)

    summary = run_import("units", path, "--profile", "hr_units")

    check_invariant(summary)
    assert summary["profile"] == "hr_units"
    assert summary["records"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert (summary["created"], summary["rejected"]) == (3, 2)
    assert summary["unknown_columns"] == []
    assert paths() == {"HQ": "/HQ/", "BR": "/HQ/BR/"}
    assert "不一致" in summary["errors"][0]["reason"] and summary["errors"][0]["row"] == 6
    assert [r["错误行号"] for r in read_errors(summary["errors_file"])] == [5, 6]


# ---------------------------------------------------------------- properties

CODES = ["HQ", "B1", "B2", "C1", "C2", "S1", "D1", "D2", "A/B", ""]
# The level and parents a code's first letter suggests, so that many generated trees are valid and
# later files move and rename units that exist, not only refuse them.
NATURAL = {
    "H": ("总公司", [""]),
    "B": ("分公司", ["HQ"]),
    "C": ("中心支公司", ["B1", "B2"]),
    "S": ("支公司", ["B1", "B2", "C1", "C2"]),
    "D": ("部门", ["HQ", "B1", "B2", "C1", "C2", "S1"]),
}


@st.composite
def unit_rows(draw) -> list[str]:
    code = draw(st.sampled_from(CODES))
    name = draw(st.text(alphabet="甲乙丙分公司部 ab,\"'\n", max_size=8))
    if code[:1] in NATURAL and draw(st.integers(0, 9)) < 7:
        level, parents = NATURAL[code[:1]]
        return [code, name, draw(st.sampled_from(parents)), level]
    parent = draw(st.sampled_from([*CODES, "NOPE"]))
    return [code, name, parent, draw(st.sampled_from([*UnitLevel.values, "科室", "", " 分公司 "]))]


files = st.lists(unit_rows(), max_size=12)
_example = itertools.count()


def _expected_rows(rows: list[list[str]]) -> int:
    return sum(1 for row in rows if any(cell.strip() for cell in row))


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=files, second=files, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_any_file_imports_without_crashing_and_keeps_the_tree_valid(tmp_path, first, second, encoding):
    while Unit.objects.exists():  # leaves first: a parent is protected while it has children
        Unit.objects.filter(children__isnull=True).delete()
    hq = unit_save(unit=Unit(code="HQ", name="总公司", level=UnitLevel.HEAD_OFFICE))
    b1 = unit_save(unit=Unit(code="B1", name="分公司", level=UnitLevel.BRANCH, parent=hq))
    unit_save(unit=Unit(code="C1", name="中支", level=UnitLevel.CENTRAL_SUB_BRANCH, parent=b1))
    n = next(_example)
    for step, rows in enumerate((first, second, second)):
        path = write_csv(tmp_path / f"{n}-{step}.csv", [HEADER, *rows], encoding=encoding)

        summary = run_import("units", path)

        check_invariant(summary)
        assert summary["rows_read"] == _expected_rows(rows)
        assert Unit.objects.count() <= len(CODES)
        assert_tree_consistent()
        if summary["rejected"]:
            assert len(read_errors(summary["errors_file"])) == summary["rejected"]
        if step == 2:  # the same file again: idempotent
            assert (summary["created"], summary["updated"]) == (0, 0), summary


BRANCHES, CENTRALS, SUBS, DEPTS = ["B1", "B2"], ["C1", "C2"], ["S1", "S2"], ["D1", "D2", "D3"]


@st.composite
def valid_trees(draw) -> dict[str, tuple[str, str]]:
    """code → (parent code, level) for a tree Unit.clean() accepts, with randomly chosen parents."""
    tree = {"HQ": ("", UnitLevel.HEAD_OFFICE.value)}
    tree |= {code: ("HQ", UnitLevel.BRANCH.value) for code in BRANCHES}
    tree |= {code: (draw(st.sampled_from(BRANCHES)), UnitLevel.CENTRAL_SUB_BRANCH.value) for code in CENTRALS}
    tree |= {code: (draw(st.sampled_from(BRANCHES + CENTRALS)), UnitLevel.SUB_BRANCH.value) for code in SUBS}
    anywhere = ["HQ", *BRANCHES, *CENTRALS, *SUBS]
    tree |= {code: (draw(st.sampled_from(anywhere)), UnitLevel.DEPARTMENT.value) for code in DEPTS}
    return tree


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=valid_trees(), second=valid_trees(), data=st.data())
def test_any_reshuffle_of_a_valid_tree_lands_exactly(tmp_path, first, second, data):
    """Units move in any combination (up, down, across, under units that move themselves); the
    stored tree ends exactly as the files say, with every path rewritten."""
    while Unit.objects.exists():
        Unit.objects.filter(children__isnull=True).delete()
    n = next(_example)
    # The second file names only some units, in any order; the others stay where the first put them.
    named = data.draw(st.lists(st.sampled_from(sorted(second)), unique=True))
    expected = first | {code: second[code] for code in named}
    for step, tree in enumerate((first, {code: second[code] for code in named})):
        rows = [[code, f"{code}名称{step}", parent, level] for code, (parent, level) in tree.items()]
        rows = data.draw(st.permutations(rows))
        summary = run_import("units", write_csv(tmp_path / f"tree-{n}-{step}.csv", [HEADER, *rows]))
        assert summary["rejected"] == 0, summary

    stored = {
        u.code: (u.parent.code if u.parent else "", u.level) for u in Unit.objects.select_related("parent")
    }
    assert stored == expected
    assert_tree_consistent()
