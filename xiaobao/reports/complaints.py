"""季度投诉统计 (the regulator's quarterly complaint statistics) as an Excel workbook.

Sheets:
- 汇总: the quarter, the unit, the KPI snapshot cited, and the three complaint rates (亿元保费,
  万张保单, 万人次), over all complaints and over regulator-forwarded ones, each with its numerator,
  denominator and definition (the denominator variant in force is part of the definition);
- 按事由, 按险种, 按渠道: complaint counts and regulator-forwarded counts by category (事由), by the
  product type of the policy complained about (险种, from the policy book) and by channel.

Reproducible: the rates are the snapshot's; the counts are over the complaints received in the quarter
and recorded at or before the snapshot's case cut-off, and the product type is read from the policy-book
version the snapshot recorded. Given the same snapshot (--snapshot ID), the workbook comes out the same.
"""

from collections import Counter

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.legend import Legend
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from xiaobao.cases.models import CaseKind, Channel
from xiaobao.kpi.periods import parse_period
from xiaobao.kpi.registry import REGISTRY
from xiaobao.lib.spreadsheet import safe_cell
from xiaobao.reports.figures import NO_DATA, kpi_snapshot, year_cases

RATES = (
    "complaints_per_100m_premium",
    "complaints_per_10k_policies",
    "complaints_per_10k_insured",
    "complaints_per_100m_premium_regulator",
    "complaints_per_10k_policies_regulator",
    "complaints_per_10k_insured_regulator",
)
NO_POLICY = "(未关联保单)"
UNKNOWN_TYPE = "(保单库中无此保单)"
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


def product_types(policy_nos: set[str], version: str | None) -> dict[str, str]:
    """policy number → 险种 (product_type) from the policy book, at the version given."""
    if not policy_nos:
        return {}
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from xiaobao.book import store

    folder = store.version_dir("policies", version)
    if folder is None or not folder.exists():
        return {}
    table = ds.dataset(str(folder), format="parquet").to_table(
        columns=["policy_no", "product_type"], filter=pc.field("policy_no").isin(sorted(policy_nos))
    )
    return {
        no: kind or ""
        for no, kind in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)
    }


def quarter_complaints(*, unit, quarter: str, snapshot) -> list[dict]:
    """The complaints of the quarter, as of the snapshot's cut-off, with their 险种."""
    period = parse_period(quarter)
    rows = list(
        year_cases(unit, period)
        # Rows created after the freeze (a late registration, an import with old receipt dates) are
        # left out too, so the same snapshot gives the same counts however long after.
        .filter(
            kind=CaseKind.COMPLAINT,
            received_at__lte=snapshot.cases_cutoff,
            created_at__lte=snapshot.cases_cutoff,
        )
        .values("category", "channel", "policy_no")
    )
    types = product_types(
        {r["policy_no"] for r in rows if r["policy_no"]}, snapshot.store_versions.get("policies")
    )
    for row in rows:
        if not row["policy_no"]:
            row["product_type"] = NO_POLICY
        else:
            row["product_type"] = types.get(row["policy_no"]) or UNKNOWN_TYPE
        row["regulator"] = row["channel"] == Channel.REGULATOR
    return rows


def breakdown(rows: list[dict], field: str, order: list[str] | None = None) -> list[tuple[str, int, int]]:
    counts = Counter(r[field] for r in rows)
    forwarded = Counter(r[field] for r in rows if r["regulator"])
    # Known values in their usual order, then the others; "(未关联保单)" and such come last.
    keys = list(order or []) + sorted(
        (k for k in counts if k not in (order or [])), key=lambda k: (k.startswith("("), k)
    )
    return [(k or "(未填)", counts.get(k, 0), forwarded.get(k, 0)) for k in keys]


def _rate_text(value) -> str | float:
    return NO_DATA if value is None else round(float(value), 4)


def _sheet(wb, title: str, header: list[str], rows: list[list], widths: list[int]):
    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        # Unit names, product types and the like come from records and imports: never a formula.
        ws.append([safe_cell(value) for value in row])
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    return ws


def _bar_chart(sheet, title: str, *, rows: int) -> None:
    """A native Excel bar chart of the counts (合计 row left out), beside the table. Excel draws it
    with the workbook's own fonts, so the Chinese labels need no font file on the server."""
    chart = BarChart()
    chart.type = "bar"  # horizontal: long category names stay readable
    chart.title = title
    chart.style = 10
    chart.legend = None
    chart.y_axis.title = "件"
    data = Reference(sheet, min_col=2, max_col=3, min_row=1, max_row=rows + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows + 1))
    chart.legend = Legend()
    chart.legend.position = "b"
    chart.height, chart.width = max(6.0, 0.7 * rows + 3), 16.0
    sheet.add_chart(chart, "F2")


def write_xlsx(*, unit, quarter: str, target, actor=None, snapshot_id: int | None = None):
    """Write the quarter's complaint statistics for `unit` (and below); returns the snapshot cited.

    1. The KPI snapshot of the quarter (frozen now unless one is given): the rates and the cut-off.
    2. The quarter's complaints up to the cut-off, with their 险种 from the recorded policy version.
    3. The workbook: 汇总 then the three breakdowns, each with a 合计 row.
    """
    period = parse_period(quarter)
    snapshot = kpi_snapshot(unit=unit, period=period, snapshot_id=snapshot_id, actor=actor)
    rows = quarter_complaints(unit=unit, quarter=quarter, snapshot=snapshot)
    total, forwarded = len(rows), sum(r["regulator"] for r in rows)

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append([safe_cell(f"{unit.name} {period.code} 投诉统计")])
    ws["A1"].font = Font(bold=True, size=14)
    info = [
        ("统计期间", f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d} (按受理日期)"),
        ("统计范围", f"{unit.name} ({unit.code}) 及其下级机构"),
        ("投诉件数", total),
        ("其中监管转办", forwarded if forwarded else "0 (零转办)"),
        ("指标快照", f"#{snapshot.pk}"),
        ("工单截止时间", timezone.localtime(snapshot.cases_cutoff).strftime("%Y-%m-%d %H:%M:%S")),
        ("工单数据哈希", snapshot.cases_sha256),
        ("保单数据版本", snapshot.store_versions.get("policies") or "(空)"),
        ("生成时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")),
    ]
    for label, value in info:
        ws.append([label, safe_cell(value)])
    ws.append([])
    ws.append(["投诉率", "数值", "分子 (投诉件数)", "分母", "口径定义"])
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for kpi in RATES:
        entry = snapshot.results.get(kpi, {})
        ws.append(
            [
                REGISTRY[kpi].label_zh,
                _rate_text(entry.get("value")),
                entry.get("numerator") if entry.get("numerator") is not None else NO_DATA,
                entry.get("denominator") if entry.get("denominator") not in (None, 0) else NO_DATA,
                entry.get("definition") or REGISTRY[kpi].definition_zh,
            ]
        )
    for col, width in zip("ABCDE", (30, 44, 16, 20, 90), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=header_row + 1):
        row[4].alignment = Alignment(wrap_text=True, vertical="top")

    from xiaobao.cases.models import Category

    header = ["{}", "投诉件数", "其中监管转办", "占比"]
    for title, field, order in (
        ("按事由", "category", list(Category.values)),
        ("按险种", "product_type", None),
        ("按渠道", "channel", list(Channel.values)),
    ):
        lines = [
            [k, n, f, round(n / total, 4) if total else NO_DATA] for k, n, f in breakdown(rows, field, order)
        ]
        lines.append(["合计", total, forwarded, 1 if total else NO_DATA])
        sheet = _sheet(
            wb, title, [title[1:] if i == 0 else h for i, h in enumerate(header)], lines, [22, 12, 14, 10]
        )
        for (cell,) in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
            if isinstance(cell.value, float | int):
                cell.number_format = "0.00%"
        if total:
            _bar_chart(sheet, f"{period.code} 投诉件数{title}", rows=len(lines) - 1)
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    wb.save(target)
    return snapshot
