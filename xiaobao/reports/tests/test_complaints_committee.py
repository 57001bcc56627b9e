"""The quarterly complaint statistics and the committee's monthly pack, read back from the files."""

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xiaobao.assessment.sources import figure_for
from xiaobao.cases.models import CaseKind, Channel
from xiaobao.kpi.models import KpiSnapshot
from xiaobao.kpi.periods import parse_period
from xiaobao.org.models import Unit
from xiaobao.reports.figures import year_cases
from xiaobao.reports.word import document_text

BRANCH = "8637"


def run(*args) -> None:
    call_command("report", *args, stdout=open("/dev/null", "w"))  # noqa: SIM115


def period_cases(code: str):
    """The cases of the branch received in the period (withdrawn and merged excluded)."""
    return year_cases(Unit.objects.get(code=BRANCH), parse_period(code))


def sheet(path, name) -> list[tuple]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


def test_quarterly_statistics_agree_with_the_snapshot_and_reproduce(demo, tmp_path):
    first = tmp_path / "q4.xlsx"
    run("complaints", "--quarter", "2024Q4", "--unit", BRANCH, "-o", str(first))
    snapshot = KpiSnapshot.objects.get(period="2024Q4")
    complaints = snapshot.results["complaints_per_100m_premium"]["numerator"]
    assert complaints > 0

    summary = {row[0]: row for row in sheet(first, "汇总") if row[0]}
    assert summary["投诉件数"][1] == complaints
    assert summary["指标快照"][1] == f"#{snapshot.pk}"
    # The three rates, all complaints and regulator-forwarded, with numerator and denominator.
    for kpi_label, kpi in (
        ("亿元保费投诉量", "complaints_per_100m_premium"),
        ("万张保单投诉量", "complaints_per_10k_policies"),
        ("万人次投诉量", "complaints_per_10k_insured"),
    ):
        entry = snapshot.results[kpi]
        row = summary[kpi_label]
        assert (
            row[1] == round(entry["value"], 4)
            and row[2] == entry["numerator"]
            and row[3] == entry["denominator"]
        )
        assert summary[f"{kpi_label} (监管转办)"][2] == snapshot.results[f"{kpi}_regulator"]["numerator"]
    # Every breakdown adds up to the complaints; the regulator-forwarded counts to the snapshot's.
    forwarded = snapshot.results["complaints_per_100m_premium_regulator"]["numerator"]
    for name in ("按事由", "按险种", "按渠道"):
        rows = sheet(first, name)[1:]
        assert rows[-1][:3] == ("合计", complaints, forwarded)
        assert sum(r[1] for r in rows[:-1]) == complaints
    by_channel = {r[0]: r[1] for r in sheet(first, "按渠道")[1:]}
    assert by_channel[Channel.REGULATOR] == forwarded
    assert len(sheet(first, "按险种")) > 3  # several product types, from the policy book
    charts = {name: openpyxl.load_workbook(first)[name]._charts for name in ("按事由", "按险种", "按渠道")}
    assert all(len(c) == 1 for c in charts.values())  # a native bar chart beside each breakdown

    # Reproduce: a new complaint after the freeze does not change the report made from the snapshot.
    case = period_cases("2024Q4").filter(kind=CaseKind.COMPLAINT).first()
    case.pk, case.case_no = None, case.case_no + "-X"
    case.save()
    again = tmp_path / "again.xlsx"
    run(
        "complaints",
        "--quarter",
        "2024Q4",
        "--unit",
        BRANCH,
        "--snapshot",
        str(snapshot.pk),
        "-o",
        str(again),
    )
    for name in ("按事由", "按险种", "按渠道"):
        assert sheet(again, name) == sheet(first, name)
    assert KpiSnapshot.objects.filter(period="2024Q4").count() == 1


def test_quarter_argument(tree, tmp_path):
    with pytest.raises(CommandError, match="2024Q4"):
        run("complaints", "--quarter", "2024-11", "-o", str(tmp_path / "x.xlsx"))


def test_an_empty_quarter_has_no_division_by_zero(tree, tmp_path):
    target = tmp_path / "q.xlsx"
    run("complaints", "--quarter", "2031Q1", "--unit", "C1", "-o", str(target))
    summary = {row[0]: row for row in sheet(target, "汇总") if row[0]}
    assert summary["投诉件数"][1] == 0
    assert summary["亿元保费投诉量"][1] == "暂无数据"
    assert sheet(target, "按事由")[-1] == ("合计", 0, 0, "暂无数据")


def test_committee_pack_docx_and_xlsx(demo, tmp_path):
    docx, xlsx = tmp_path / "m.docx", tmp_path / "m.xlsx"
    run("committee", "--month", "2024-11", "--unit", BRANCH, "-o", str(docx))
    run("committee", "--month", "2024-11", "--unit", BRANCH, "-o", str(xlsx))
    text = document_text(docx)
    month_complaints = period_cases("2024-11").filter(kind=CaseKind.COMPLAINT).count()
    assert f"合计\t{month_complaints}\t0" in text
    for heading in (
        "投诉 (按事由)",
        "非投诉工单",
        "月末超期未办结的工单",
        "溯源整改",
        "督办事项",
        "本月关键指标",
        "风险预警",
    ):
        assert heading in text
    alerts = figure_for("risk.alerts", Unit.objects.get(code=BRANCH), 2024)
    assert f"退保风险预警 (本年累计)\t{alerts['display'] if alerts['available'] else '暂无数据'}" in text
    snapshot = KpiSnapshot.objects.filter(period="2024-11").order_by("pk").first()  # the .docx one
    assert f"指标快照 #{snapshot.pk}" in text
    book = openpyxl.load_workbook(xlsx)
    assert len(book.sheetnames) == 7
    rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert rows[-1] == ("合计", month_complaints, 0)
    assert "None" not in text


def test_an_empty_month_gives_a_plain_pack(tree, tmp_path):
    target = tmp_path / "m.docx"
    run("committee", "--month", "2031-01", "--unit", "C1", "-o", str(target))
    text = document_text(target)
    assert "本月监管转办投诉为零 (零转办)" in text and "合计\t0\t0" in text
    assert "截至 2031-01-31 已过期限仍未办结的工单共 0 件。" in text
    assert "投诉按时办结率\t暂无数据" in text
    assert "None" not in text and "nan" not in text
    with pytest.raises(CommandError, match="2024-11"):
        run("committee", "--month", "2031-13", "-o", str(tmp_path / "x.docx"))
