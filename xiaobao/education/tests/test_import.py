"""`xiaobao import education FILE`: the framework's rules, and reach refused row by row."""

from xiaobao.accounts.models import Role
from xiaobao.education.models import Activity
from xiaobao.education.services import reach_limit_set
from xiaobao.imports.models import ImportChange
from xiaobao.imports.tests.files import (
    check_invariant,
    read_errors,
    run_import,
    run_import_refused,
    write_csv,
    write_xlsx,
)

HEADER = ["活动编号", "活动日期", "形式", "所属活动", "主题", "地点", "受众", "触达人数", "费用", "机构代码"]
ROWS = [
    [
        "HD-001",
        "2024/3/15",
        "线下",
        "3.15",
        "防范养老诈骗讲座",
        "甲市幸福社区",
        "老年人",
        "320",
        "1,200.00",
        "C1",
    ],
    ["HD-002", "20240620", "视频", "守住钱袋子", "短视频：警惕代理退保", "", "", "2,150", "", "C1"],
    [
        "HD-003",
        "2024年9月18日",
        "原创文章",
        "金融教育宣传周",
        "以案说险：健康告知不如实",
        "",
        "",
        "800",
        "",
        "C1KF",
    ],
    ["HD-004", "2024-11-02", "媒体报道", "", "晚报报道金融知识万里行", "", "其他", "5000", "", "C2"],
]


def test_an_import_creates_activities_and_a_second_run_changes_nothing(tree, clock, tmp_path):
    path = write_csv(tmp_path / "edu.csv", [HEADER, *ROWS])
    summary = run_import("education", path)
    check_invariant(summary)
    assert summary["status"] == "done"
    assert (summary["created"], summary["rejected"]) == (4, 0)
    first = Activity.objects.get(activity_no="HD-001")
    assert (first.campaign, first.reach, str(first.cost), first.unit.code) == ("3·15", 320, "1200.00", "C1")
    assert Activity.objects.get(activity_no="HD-003").date.isoformat() == "2024-09-18"
    assert first.source_batch_id == summary["batch"]
    again = run_import("education", path)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)


def test_a_later_file_updates_and_the_change_is_recorded(tree, clock, tmp_path):
    run_import("education", write_csv(tmp_path / "a.csv", [HEADER, *ROWS]))
    changed = [row[:] for row in ROWS[:1]]
    changed[0][7] = "350"
    summary = run_import("education", write_csv(tmp_path / "b.csv", [HEADER, *changed]))
    assert summary["updated"] == 1
    assert Activity.objects.get(activity_no="HD-001").reach == 350
    assert ImportChange.objects.get(batch_id=summary["batch"]).changes == {"reach": [320, 350]}


def test_negative_and_absurd_reach_are_refused_row_by_row(tree, personas, clock, tmp_path):
    reach_limit_set(actor=personas[(Role.ADMIN, "outside")], unit=tree["C1"], population=100_000)
    rows = [
        *ROWS,
        ["HD-005", "2024-05-01", "线下", "", "社区讲座", "甲市某社区", "", "-30", "", "C1"],
        ["HD-006", "2024-05-02", "宣传稿件", "", "推文", "", "", "2000000", "", "C1KF"],
        [
            "HD-007",
            "2024-05-03",
            "宣传稿件",
            "",
            "推文",
            "",
            "",
            "2000000",
            "",
            "C2",
        ],  # no limit on C2: default
        ["HD-008", "2024-05-04", "线下", "", "无地点的讲座", "", "", "100", "", "C1"],
        ["HD-009", "2024-05-05", "直播", "", "直播", "", "", "100", "", "C1"],
        ["HD-010", "2024-05-06", "视频", "", "未知机构", "", "", "100", "", "ZZ"],
        ["HD-011", "2024-05-07", "视频", "", "人数不是数字", "", "", "很多", "", "C1"],
    ]
    summary = run_import("education", write_csv(tmp_path / "bad.csv", [HEADER, *rows]))
    check_invariant(summary)
    assert summary["status"] == "done"
    assert (summary["created"], summary["rejected"]) == (5, 6)
    errors = {(e["row"], e["column"]): e["reason"] for e in summary["errors"]}
    assert "不能为负数" in errors[(6, "触达人数")]
    assert "超过 甲中支客服部 辖区人口上限 100000 (由机构 C1 设置)" in errors[(7, "触达人数")]
    assert "线下活动必须填写地点" in errors[(9, "地点")]
    assert "不是有效的形式" in errors[(10, "形式")]
    assert "机构 ZZ 不存在" in errors[(11, "机构代码")]
    assert "应为整数" in errors[(12, "触达人数")]
    assert set(Activity.objects.values_list("activity_no", flat=True)) == {
        "HD-001",
        "HD-002",
        "HD-003",
        "HD-004",
        "HD-007",
    }
    refused = read_errors(summary["errors_file"])
    assert len(refused) == 6


def test_a_cost_too_large_for_the_column_is_a_row_error(tree, clock, tmp_path):
    """Found by imports/tests/test_import_properties.py: parse_amount takes up to 10^13 yuan, but
    Activity.cost holds 10 digits before the point. SQLite stored it and the next import crashed
    reading it back; PostgreSQL refused the whole batch."""
    rows = [
        [*ROWS[0][:8], "12,345,678,901", "C1"],
        [*ROWS[1][:8], "9,999,999,999.99", "C1"],
    ]
    path = write_csv(tmp_path / "cost.csv", [HEADER, *rows])
    summary = run_import("education", path)
    assert (summary["created"], summary["rejected"]) == (1, 1)
    assert summary["errors"] == [
        {
            "row": 2,
            "column": "费用",
            "reason": "费用 12345678901.00 元超过上限 9,999,999,999.99 元, 可能是列错位",
        }
    ]
    again = run_import("education", path)
    assert (again["unchanged"], again["rejected"]) == (1, 1)


def test_strict_mode_writes_nothing_when_a_row_is_bad(tree, clock, tmp_path):
    rows = [*ROWS, ["HD-005", "2024-05-01", "视频", "", "推文", "", "", "-1", "", "C1"]]
    summary, message = run_import_refused(
        "education", write_csv(tmp_path / "s.csv", [HEADER, *rows]), "--strict", returncode=3
    )
    assert summary["status"] == "rejected" and summary["rejected"] == 1
    assert not Activity.objects.exists()


def test_gbk_csv_and_xlsx_with_english_headers(tree, clock, tmp_path):
    gbk = write_csv(tmp_path / "gbk.csv", [HEADER, ROWS[0]], encoding="gb18030")
    assert run_import("education", gbk)["created"] == 1
    english = ["activity_no", "date", "mode", "title", "reach", "org_code", "location", "备注"]
    book = write_xlsx(
        tmp_path / "e.xlsx",
        [english, ["HD-020", "2024-04-01", "offline", "Seminar", 40, "C2", "乙市图书馆", "x"]],
    )
    summary = run_import("education", book)
    assert summary["created"] == 1 and summary["unknown_columns"] == ["备注"]
    assert Activity.objects.get(activity_no="HD-020").mode == "线下"


def test_a_file_missing_a_required_column_is_refused_whole(tree, clock, tmp_path):
    header = [h for h in HEADER if h != "触达人数"]
    rows = [[c for i, c in enumerate(r) if HEADER[i] != "触达人数"] for r in ROWS]
    summary, message = run_import_refused(
        "education", write_csv(tmp_path / "m.csv", [header, *rows]), returncode=1
    )
    assert "reach" in message and not Activity.objects.exists()
