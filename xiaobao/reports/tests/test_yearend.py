"""The year-end summary, read back from the .docx and checked against the records, through the same
sources the report uses (the education and case commands, the pre-fill registry, the KPI snapshot)."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from xiaobao.assessment.sources import figure_for
from xiaobao.kpi.models import KpiSnapshot
from xiaobao.kpi.registry import format_value
from xiaobao.org.models import Unit
from xiaobao.reports.word import document_text

BRANCH = "8637"


def command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def read(path) -> str:
    return document_text(path)


def east_asian_fonts(path) -> set[str]:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(path)
    runs = [r for p in doc.paragraphs for r in p.runs]
    runs += [r for t in doc.tables for cell in t._cells for p in cell.paragraphs for r in p.runs]
    fonts = set()
    for run in runs:
        if not run.text:  # a page break
            continue
        rfonts = run._r.rPr.find(qn("w:rFonts")) if run._r.rPr is not None else None
        fonts.add(rfonts.get(qn("w:eastAsia")) if rfonts is not None else None)
    return fonts


BAD = re.compile(r"(?<![A-Za-z_])(None|nan|NaN|inf|Infinity)(?![A-Za-z_])|ZeroDivision|Traceback|[{}]")


def assert_clean(text: str) -> None:
    """No "None", "nan", "inf", division error or unfilled {placeholder} anywhere in the document."""
    assert BAD.search(text) is None, BAD.search(text)


def test_the_demo_2024_report_quotes_the_records(demo, tmp_path):
    target = tmp_path / "2024.docx"
    printed = command("report", "yearend", "--year", "2024", "--unit", BRANCH, "-o", str(target))
    text = read(target)
    snapshot_id = int(re.search(r"指标快照 #(\d+)", printed).group(1))
    snapshot = KpiSnapshot.objects.get(pk=snapshot_id)
    assert snapshot.period == "2024" and snapshot.unit.code == BRANCH
    branch = Unit.objects.get(code=BRANCH)

    # Structure of the seed.
    for heading in (
        "一、消保工作开展情况",
        "（一）推进消保体制机制建设",
        "（二）加强风险管控力度",
        "（三）推动开展金融知识普及宣传",
        "二、下一步消保重点工作",
        "附录 数据来源与口径",
    ):
        assert heading in text

    # Education: what `xiaobao education stats` says, in the seed's sentences.
    edu = json.loads(command("education", "stats", "--year", "2024", "--unit", BRANCH, "--format", "json"))
    assert (
        f"年度共举办线下金融教育活动{edu['offline_events']}场，触及消费者约{edu['offline_reach']}人" in text
    )
    assert f"推动制作{edu['videos']}部金融教育相关视频" in text
    assert f"原创“以案说险”{edu['case_articles']}篇" in text
    assert f"发布原创宣传稿件{edu['published_pieces']}篇，媒体报道{edu['media_reports']}次" in text
    assert f"线上触及消费者约{edu['online_reach']}人" in text

    # Complaints and work orders: the registry's figures and the case statistics.
    complaints = figure_for("cases.complaints", branch, 2024)["value"]
    forwarded = figure_for("cases.regulator_forwarded", branch, 2024)["value"]
    on_time = figure_for("cases.complaint_on_time_rate", branch, 2024)["value"]
    assert f"全年受理投诉{int(complaints)}件，投诉按时办理率{on_time:.2f}%" in text
    assert ("实现监管投诉零转办" in text) == (forwarded == 0)

    # Governance, training, reviews: the registry.
    meetings = figure_for("governance.committee_meetings", branch, 2024)["value"]
    drills = figure_for("governance.drills", branch, 2024)["value"]
    sessions = figure_for("training.sessions", branch, 2024)["value"]
    reviews = figure_for("reviews.done", branch, 2024)["value"]
    assert f"召开消保工作事务委员会{int(meetings)}次" in text
    assert f"开展消保应急演练{int(drills)}次" in text
    assert f"员工消保培训{int(sessions)}场" in text
    assert f"完成消保审查{int(reviews)}项" in text

    # KPIs: the cited snapshot's values.
    results = snapshot.results
    assert f"评级{results['quality_grade']['value']}" in text
    assert f"年度服务质量指数{format_value('quality_index', results['quality_index']['value'])}" in text
    p13 = results["persistency_13m"]["value"]
    assert f"13个月保费继续率{p13 * 100:.2f}%" in text
    assert f"年度保单退保率{results['surrender_rate_policies']['value'] * 100:.2f}%" in text

    # Surrender-risk monitoring: xiaobao.risk's figures when it provides them, else 暂无数据.
    alerts = figure_for("risk.alerts", branch, 2024)
    expected = f"{int(alerts['value'])}{alerts['unit']}" if alerts["available"] else "暂无数据"
    assert f"全年退保风险预警{expected}，" in text
    # Nothing reads None, nan or a division error.
    assert_clean(text)

    # The monthly table adds up to the year's figures.
    assert f"合计\t{int(complaints)}\t" in text and f"\t{edu['activities']}\t{edu['total_reach']}" in text

    # The monthly chart (matplotlib, in a Chinese font), or the reason there is none.
    from docx import Document

    from xiaobao.reports import charts

    if charts.chart_font() is not None:
        assert len(Document(target).inline_shapes) == 1
    else:
        assert charts.missing_reason() in text

    # Chinese fonts: every run names its East Asian font (宋体 body, 黑体 headings).
    assert east_asian_fonts(target) == {"宋体", "黑体"}

    # At full scale or not, the demo's 2024 education year is the seed summary's (交银人寿青岛分公司
    # 2024年消保年终总结), and 2024 had no regulator-forwarded complaint.
    assert "年度共举办线下金融教育活动18场，触及消费者约9500人" in text
    assert (
        "推动制作6部金融教育相关视频。原创“以案说险”4篇，发布原创宣传稿件24篇，媒体报道52次，线上触及消费者约25000人"
        in text
    )
    assert "实现监管投诉零转办" in text

    # The appendix traces figures to their source and the snapshot.
    assert f"kpi.persistency_13m\t#{snapshot_id}" in text
    assert "education.stats.offline_events\t—" in text
    assert "cases.regulator_forwarded" in text


def test_a_year_without_records_says_so(tree, tmp_path, monkeypatch):
    from xiaobao.assessment import sources

    sources.autodiscover()
    for key in ("risk.alerts", "risk.rings_confirmed"):  # as before xiaobao.risk provides them
        monkeypatch.delitem(sources._sources, key, raising=False)
    target = tmp_path / "2031.docx"
    command("report", "yearend", "--year", "2031", "--unit", "C1", "-o", str(target))
    text = read(target)
    assert "说明：系统中没有甲中心支公司2031年的业务记录" in text
    assert "全年受理投诉0件，投诉按时办理率暂无数据" in text
    assert "年度共举办线下金融教育活动0场" in text
    assert "全年退保风险预警暂无数据，确认“退保黑产”团伙暂无数据。" in text
    assert "退保风险预警条数\t暂无数据\t数据来源 risk.alerts 尚未接入, 接入后自动计算\trisk.alerts" in text
    assert_clean(text)


def test_reproducing_with_a_snapshot_of_another_period_is_refused(tree, tmp_path):
    from django.core.management.base import CommandError

    command("report", "yearend", "--year", "2030", "--unit", "C1", "-o", str(tmp_path / "a.docx"))
    other = KpiSnapshot.objects.get()
    with pytest.raises(CommandError, match="与报告期间或机构不符"):
        command(
            "report",
            "yearend",
            "--year",
            "2031",
            "--unit",
            "C1",
            "--snapshot",
            str(other.pk),
            "-o",
            str(tmp_path / "b.docx"),
        )
    # the same snapshot reproduces its own year without freezing a new one
    command(
        "report",
        "yearend",
        "--year",
        "2030",
        "--unit",
        "C1",
        "--snapshot",
        str(other.pk),
        "-o",
        str(tmp_path / "c.docx"),
    )
    assert KpiSnapshot.objects.count() == 1


def test_pdf_needs_libreoffice(tree, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    printed = command(
        "report", "yearend", "--year", "2031", "--unit", "C1", "--pdf", "-o", str(tmp_path / "x.docx")
    )
    assert "未安装 LibreOffice" in printed and not (tmp_path / "x.pdf").exists()


@pytest.mark.skipif(
    not (__import__("shutil").which("soffice") and __import__("shutil").which("pdftotext")),
    reason="LibreOffice and poppler-utils are not installed",
)
def test_with_libreoffice_the_pdf_holds_the_report(tree, tmp_path):
    import subprocess

    command("report", "yearend", "--year", "2031", "--unit", "C1", "--pdf", "-o", str(tmp_path / "x.docx"))
    pdf = tmp_path / "x.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "2031年消费者权益保护工作总结" in text.replace(" ", "").replace("\n", "")


def test_bad_arguments(tree, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--year 2024"):
        command("report", "yearend", "-o", str(tmp_path / "x.docx"))
    with pytest.raises(CommandError, match=".docx"):
        command("report", "yearend", "--year", "2024", "-o", str(tmp_path / "x.pdf"))
    with pytest.raises(CommandError, match="不存在"):
        command("report", "yearend", "--year", "2024", "--unit", "NOPE", "-o", str(tmp_path / "x.docx"))
