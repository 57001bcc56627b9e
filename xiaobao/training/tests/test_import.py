"""`xiaobao import training_attendance FILE`: sign-in sheets through the import framework, with row
errors for unknown sessions and people."""

import datetime as dt

import pytest

from xiaobao.accounts.models import Role
from xiaobao.conftest import make_user
from xiaobao.imports.models import ImportBatch
from xiaobao.imports.tests.files import read_errors, run_import, run_import_refused, write_csv, write_xlsx
from xiaobao.training.models import Attendance

pytestmark = pytest.mark.django_db

HEADER = ["培训编号", "姓名", "用户名", "机构", "考试成绩"]


@pytest.fixture
def session(make_session):
    return make_session()


def names(session):
    return sorted(session.attendance.values_list("user__username", flat=True))


def test_a_sheet_with_usernames_or_names_and_units_is_imported(tmp_path, personas, session, tree):
    dept = make_user("kf_wang", tree["C1KF"], [Role.HANDLER])
    dept.display_name = "王芳"
    dept.save()
    path = write_xlsx(
        tmp_path / "签到表.xlsx",
        [
            ["2024年9月投诉处理技能培训签到表"],  # a title row above the header
            HEADER,
            [session.ref, "handler_in", "handler_in", "", 95],
            [session.ref, "王芳", "", "甲中支客服部", 88.5],
            [session.ref, "officer_in", "", "C1", None],
        ],
    )
    summary = run_import("training_attendance", path)
    assert (summary["status"], summary["created"], summary["rejected"]) == ("done", 3, 0)
    assert names(session) == ["handler_in", "kf_wang", "officer_in"]
    assert session.attendance.get(user=dept).score == 88.5
    assert set(Attendance.objects.values_list("source", flat=True)) == {"导入"}
    assert Attendance.objects.filter(batch=ImportBatch.objects.get()).count() == 3
    # The same sheet again changes nothing.
    again = run_import("training_attendance", path)
    assert (again["created"], again["unchanged"]) == (0, 3)


def test_unknown_sessions_and_people_are_row_errors(tmp_path, personas, session, tree):
    twin_a = make_user("li_a", tree["C1"], [Role.HANDLER])
    twin_b = make_user("li_b", tree["C2"], [Role.HANDLER])
    for twin in (twin_a, twin_b):
        twin.display_name = "李明"
        twin.save()
    path = write_csv(
        tmp_path / "sign-in.csv",
        [
            HEADER,
            ["PX2099-001", "handler_in", "", "", ""],
            [session.ref, "查无此人", "", "", ""],
            [session.ref, "李明", "", "", ""],
            [session.ref, "handler_in", "officer_in", "", ""],
            [session.ref, "李明", "", "C2", "120"],
            [session.ref, "李明", "", "乙中心支公司", "90"],
        ],
    )
    summary = run_import("training_attendance", path)
    assert (summary["created"], summary["rejected"]) == (1, 5)
    reasons = {error["row"]: (error["column"], error["reason"]) for error in summary["errors"]}
    assert reasons[2] == ("培训编号", "培训编号 PX2099-001 不存在或不在导入人的权限范围内")
    assert reasons[3][1] == "找不到姓名为 查无此人 的在职员工"
    assert "对应多名员工" in reasons[4][1] and "请填写用户名或机构" in reasons[4][1]
    assert "不一致" in reasons[5][1]
    assert reasons[6] == ("考试成绩", "考试成绩应在 0 到 100 之间")
    assert names(session) == ["li_b"]
    assert len(read_errors(summary["errors_file"])) == 5


def test_a_later_score_updates_the_attendance(tmp_path, personas, session):
    run_import(
        "training_attendance",
        write_csv(tmp_path / "a.csv", [HEADER, [session.ref, "handler_in", "", "", "80"]]),
    )
    summary = run_import(
        "training_attendance",
        write_csv(tmp_path / "b.csv", [HEADER, [session.ref, "handler_in", "", "", "92"]]),
    )
    assert summary["updated"] == 1
    assert session.attendance.get().score == 92


def test_a_score_with_two_decimals_is_a_row_error_not_a_rounding(tmp_path, personas, session):
    """Found by imports/tests/test_import_properties.py: Attendance.score keeps one decimal, so 92.55
    was stored as 92.6 and every later import of the same sheet counted it as updated."""
    rows = [HEADER, [session.ref, "handler_in", "", "", "92.55"], [session.ref, "officer_in", "", "", "92.5"]]
    path = write_csv(tmp_path / "a.csv", rows)
    summary = run_import("training_attendance", path)
    assert (summary["created"], summary["rejected"]) == (1, 1)
    assert summary["errors"] == [
        {"row": 2, "column": "考试成绩", "reason": "考试成绩最多一位小数, 实际为 92.55"}
    ]
    again = run_import("training_attendance", path)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)


def test_a_session_not_yet_held_cannot_take_attendance(tmp_path, personas, make_session):
    later = make_session(held_on=dt.date(2024, 12, 1))
    summary = run_import(
        "training_attendance", write_csv(tmp_path / "a.csv", [HEADER, [later.ref, "handler_in", "", "", ""]])
    )
    assert summary["rejected"] == 1 and "尚不能登记签到" in summary["errors"][0]["reason"]


def test_with_user_only_the_importers_scope_is_reachable(tmp_path, personas, session):
    outsider = personas[(Role.OFFICER, "outside")]
    path = write_csv(tmp_path / "a.csv", [HEADER, [session.ref, "handler_in", "", "", ""]])
    summary = run_import("training_attendance", path, "--user", outsider.username)
    assert summary["rejected"] == 1 and Attendance.objects.count() == 0
    inside = run_import("training_attendance", path, "--user", personas[(Role.OFFICER, "inside")].username)
    assert inside["created"] == 1


def test_a_sheet_without_names_is_refused_as_a_whole(tmp_path, session):
    path = write_csv(tmp_path / "a.csv", [["培训编号", "用户名"], [session.ref, "handler_in"]])
    summary, message = run_import_refused("training_attendance", path, returncode=1)
    assert "缺少必需的列" in message and "姓名" in message
