"""委员会月度材料 (the consumer-protection committee's monthly pack), as Word or Excel.

For the month before the meeting: the complaints and work orders received, the cases overdue at the
month's end, the rectifications (溯源整改), the status of the committee's action items (督办事项),
the month's KPIs from a snapshot frozen for it, and the surrender-risk alerts (when xiaobao.risk
provides them). Each part is a table with a note saying how it was counted; the Word and Excel
outputs show the same tables.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from xiaobao.assessment.sources import figure_for
from xiaobao.cases.models import Case, CaseKind, Category, Channel, Rectification, RectificationStatus
from xiaobao.governance.models import ActionItem, ActionStatus
from xiaobao.kpi.periods import parse_period
from xiaobao.kpi.registry import REGISTRY, format_value
from xiaobao.lib.spreadsheet import safe_cell
from xiaobao.reports.figures import EXCLUDED, NO_DATA, kpi_snapshot, number_text, year_cases

KPIS = (
    "complaints_count",
    "regulator_forwarded_count",
    "complaint_on_time_rate",
    "urgent_same_day_rate",
    "overdue_count",
    "persistency_13m",
    "surrender_rate_policies",
    "full_refund_share",
    "claims_median_days_to_pay",
    "claims_payout_ratio",
    "quality_index",
    "quality_grade",
)
LIST_LIMIT = 30


@dataclass
class Part:
    title: str
    headers: list[str]
    rows: list[list]
    note: str = ""
    extra: list[str] = field(default_factory=list)


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def pack_parts(*, unit, month: str, actor=None) -> tuple[list[Part], object]:
    """The tables of the pack and the KPI snapshot of the month."""
    period = parse_period(month)
    end = period.end
    end_at = _end_of(end)
    parts: list[Part] = []

    # 1. Complaints received in the month by category (事由), and work orders by kind.
    cases = year_cases(unit, period)
    by_category = {
        r["category"]: r
        for r in cases.filter(kind=CaseKind.COMPLAINT)
        .values("category")
        .annotate(n=Count("pk"), forwarded=Count("pk", filter=Q(channel=Channel.REGULATOR)))
    }
    rows = [
        [category or "(未填)", by_category[category]["n"], by_category[category]["forwarded"]]
        for category in [*Category.values, *sorted(k for k in by_category if k not in Category.values)]
        if category in by_category
    ]
    complaints, forwarded = sum(r[1] for r in rows), sum(r[2] for r in rows)
    rows.append(["合计", complaints, forwarded])
    parts.append(
        Part(
            f"一、{period.code} 投诉 (按事由)",
            ["事由", "投诉件数", "其中监管转办"],
            rows,
            "按受理日期统计, 不含已撤诉和合并件, 含下级机构。"
            + ("本月监管转办投诉为零 (零转办)。" if forwarded == 0 else f"本月监管转办投诉{forwarded}件。"),
        )
    )
    by_kind = {
        r["kind"]: r
        for r in cases.exclude(kind=CaseKind.COMPLAINT)
        .values("kind")
        .annotate(n=Count("pk"), urgent=Count("pk", filter=Q(urgent=True)))
    }
    rows = [
        [kind, by_kind[kind]["n"], by_kind[kind]["urgent"]] for kind in CaseKind.values if kind in by_kind
    ]
    rows.append(["合计", sum(r[1] for r in rows), sum(r[2] for r in rows)])
    parts.append(
        Part(
            f"二、{period.code} 热线等非投诉工单 (按类型)",
            ["类型", "工单件数", "其中紧急"],
            rows,
            "咨询、求助、建议、表扬工单, 按受理日期统计, 不含合并件。",
        )
    )

    # 2. Cases overdue at the month's end: received by then, due before then, not closed by then.
    overdue = (
        Case.objects.filter(unit__path__startswith=unit.path, received_at__lt=end_at, due_date__lt=end)
        .exclude(status__in=EXCLUDED)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end_at))
        .select_related("unit")
        .order_by("due_date", "pk")
    )
    count = overdue.count()
    parts.append(
        Part(
            "三、月末超期未办结的工单",
            ["工单号", "类型", "事由", "机构", "受理日期", "期限"],
            [
                [
                    c.case_no,
                    c.kind,
                    c.category,
                    c.unit.name,
                    f"{timezone.localtime(c.received_at):%Y-%m-%d}",
                    f"{c.due_date:%Y-%m-%d}",
                ]
                for c in overdue[:LIST_LIMIT]
            ],
            f"截至 {end:%Y-%m-%d} 已过期限仍未办结的工单共 {count} 件"
            + (f", 列出期限最早的 {LIST_LIMIT} 件。" if count > LIST_LIMIT else "。"),
        )
    )

    # 3. Rectifications (溯源整改): opened in the month, and the state of the unit's open ones.
    rects = Rectification.objects.filter(unit__path__startswith=unit.path, created_at__lt=end_at)
    opened = rects.filter(
        created_at__gte=_end_of(period.start - dt.timedelta(days=1))
    ).count()  # from the 1st, 00:00
    status_rows = [
        [str(label), rects.filter(status=value).count()] for value, label in RectificationStatus.choices
    ]
    late = rects.filter(
        status__in=[RectificationStatus.OPEN, RectificationStatus.SUBMITTED], due_date__lt=end
    ).count()
    parts.append(
        Part(
            "四、溯源整改",
            ["状态", "事项数"],
            [*status_rows, ["本月新建", opened], ["逾期未验证", late]],
            "月末前建立的整改事项按当前状态计; 逾期 = 整改期限早于月末且尚未验证。",
        )
    )

    # 4. Action items (督办事项) of the committee: due in the month, and open past due at its end.
    actions = ActionItem.objects.filter(unit__path__startswith=unit.path).exclude(
        status=ActionStatus.CANCELLED
    )
    due = actions.filter(due_date__gte=period.start, due_date__lte=end)
    due_done = due.filter(status=ActionStatus.DONE, closed_at__lt=end_at).count()
    late_items = (
        actions.filter(due_date__lt=end)
        .filter(Q(status=ActionStatus.OPEN) | Q(closed_at__gte=end_at))
        .select_related("owner", "unit")
        .order_by("due_date", "pk")
    )
    parts.append(
        Part(
            "五、督办事项",
            ["事项", "责任机构", "责任人", "完成期限", "状态"],
            [
                [
                    a.title,
                    a.unit.name,
                    a.owner.get_full_name() or a.owner.username,
                    f"{a.due_date:%Y-%m-%d}",
                    "超期",
                ]
                for a in late_items[:LIST_LIMIT]
            ],
            f"本月到期 {due.count()} 项, 月末前已办结 {due_done} 项; 月末超期未办结 {late_items.count()} 项 (下表)。",
        )
    )

    # 5. KPIs of the month, from a snapshot frozen for it.
    snapshot = kpi_snapshot(unit=unit, period=period, actor=actor)
    kpi_rows = []
    for kpi in KPIS:
        entry = snapshot.results.get(kpi, {})
        value = entry.get("value")
        text = NO_DATA if value is None else format_value(kpi, value)
        den = entry.get("denominator")
        shown = den not in (None, 0) and REGISTRY[kpi].unit not in ("index", "grade")
        kpi_rows.append([REGISTRY[kpi].label_zh, text, number_text(den) if shown else ""])
    parts.append(
        Part(
            "六、本月关键指标",
            ["指标", "数值", "分母"],
            kpi_rows,
            f"取自指标快照 #{snapshot.pk} ({snapshot.period}); 口径见系统“指标”页面。",
        )
    )

    # 6. Surrender-risk alerts (退保风险预警), when xiaobao.risk provides them.
    risk_rows = []
    for key, label in (
        ("risk.alerts", "退保风险预警 (本年累计)"),
        ("risk.rings_confirmed", "确认的团伙 (本年累计)"),
    ):
        stored = figure_for(key, unit, period.start.year)
        risk_rows.append([label, stored.get("display") if stored.get("available") else NO_DATA])
    parts.append(Part("七、风险预警", ["项目", "数值"], risk_rows, "“暂无数据”: 风险预警数据来源尚未接入。"))
    return parts, snapshot


def write(*, unit, month: str, target, fmt: str, actor=None):
    """Write the pack as .docx or .xlsx; returns the snapshot cited."""
    parts, snapshot = pack_parts(unit=unit, month=month, actor=actor)
    title = f"{unit.name}消保工作事务委员会 {month} 月度材料"
    if fmt == "xlsx":
        _write_xlsx(title, parts, target)
    else:
        _write_docx(title, parts, target)
    return snapshot


def _write_docx(title: str, parts: list[Part], target) -> None:
    from xiaobao.reports import word

    doc = word.new_document()
    word.title(doc, title, f"生成时间 {timezone.localtime():%Y-%m-%d %H:%M}")
    for part in parts:
        word.heading(doc, part.title, 2)
        if part.note:
            word.paragraph(doc, part.note, indent=False, size=10.5)
        if part.rows:
            word.table(doc, part.headers, [[str(c) for c in r] for r in part.rows], size=9)
        else:
            word.paragraph(doc, "无。", indent=False, size=10.5)
    doc.save(target)


def _write_xlsx(title: str, parts: list[Part], target) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    wb.remove(wb.active)
    for part in parts:
        ws = wb.create_sheet(part.title.split("、", 1)[-1][:31].replace("/", "-"))
        ws.append([safe_cell(title)])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append([part.title])
        ws.append([part.note])
        ws.append(part.headers)
        for cell in ws[4]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE4EE")
        for row in part.rows:
            # Titles, names and unit names are user text: never a formula.
            ws.append([safe_cell(value) for value in row])
        for i in range(len(part.headers)):
            ws.column_dimensions[chr(ord("A") + i)].width = 40 if i == 0 else 16
    wb.save(target)
