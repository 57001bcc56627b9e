"""报告数字 (report figures): every number a report quotes, with where it came from.

A report never computes a figure of its own when an app already does. The figures come from:
- the pre-fill registry (xiaobao.assessment.sources: cases, governance, training, reviews, education,
  and risk when that app provides it), one Source per key, each with its label and definition;
- the education statistics behind `xiaobao education stats` (the seed's headline counts and reach);
- the case statistics behind `xiaobao cases stats` (work orders, urgent work orders);
- a KPI snapshot of the period (xiaobao.kpi: persistency, surrender, claims, complaint rates, the
  quality index and its grade), whose id the appendix cites.

A figure nobody can compute (a key not provided, a ratio with no denominator) has value None and
reads "暂无数据" in the text: never "None", never an error.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.assessment.assessment_sources import EXCLUDED
from xiaobao.assessment.sources import figure_for
from xiaobao.cases.models import Case, CaseKind, Channel
from xiaobao.cases.stats import case_stats
from xiaobao.education.models import Activity
from xiaobao.education.models import Plan as EducationPlan
from xiaobao.education.selectors import activity_in_unit, plan_in_unit
from xiaobao.education.stats import education_stats
from xiaobao.kpi.models import KpiSnapshot
from xiaobao.kpi.periods import Period, parse_period
from xiaobao.kpi.registry import REGISTRY, format_value
from xiaobao.kpi.services import snapshot_freeze

NO_DATA = "暂无数据"


@dataclass(frozen=True)
class Fig:
    name: str  # the placeholder a narrative template uses: {complaints}
    label: str
    value: float | int | str | None  # None: not available (the text says 暂无数据)
    display: str  # how the number reads in a sentence, without its unit word
    definition: str
    source: str  # "cases.complaints", "kpi.persistency_13m", "education.stats.videos" …
    snapshot_id: int | None = None
    unit: str = ""  # 件, 人, %, …: printed after the display in the appendix
    detail: str = ""

    @property
    def text(self) -> str:
        """How the figure reads in a sentence: "18场", "98.50%", "A"; 暂无数据 stands alone, without
        a counter word after it ("暂无数据条" would not be Chinese)."""
        if self.value is None:
            return NO_DATA
        if self.unit and self.unit != "%" and not self.display.endswith(self.unit):
            return f"{self.display}{self.unit}"
        return self.display

    @property
    def appendix_value(self) -> str:
        if self.value is None:
            return NO_DATA
        if self.unit and self.unit != "%" and not self.display.endswith(self.unit):
            return f"{self.display} {self.unit}"
        return self.display


def _count_display(value) -> str:
    return str(int(value))


def number_text(value) -> str:
    """A numerator or denominator as a person reads it: 120,355,080 / 135,579,580, 8,609.62."""
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


def _percent(value) -> str:
    """A fraction (0.9834) as 98.34%; trailing zeros kept to two places, as the KPI pages print."""
    return f"{float(value) * 100:.2f}%"


# placeholder → (registry key, how its value reads). Registry rates are percentages (98.5, not 0.985).
REGISTRY_FIGURES = {
    "complaints": "cases.complaints",
    "complaint_on_time_rate": "cases.complaint_on_time_rate",
    "regulator_forwarded": "cases.regulator_forwarded",
    "work_order_on_time_rate": "cases.work_order_on_time_rate",
    "rectification_verified_rate": "cases.rectification_verified_rate",
    "committee_meetings": "governance.committee_meetings",
    "committee_month_rate": "governance.committee_months",
    "executive_talks": "governance.executive_talks",
    "plans_approved_rate": "governance.plans_approved",
    "rules_in_force": "governance.rules_in_force",
    "rules_updated": "governance.rules_updated",
    "drills": "governance.drills",
    "actions_on_time_rate": "governance.actions_closed_on_time",
    "quality_issues_closed_rate": "governance.quality_issues_closed",
    "bulletins": "governance.bulletins",
    "training_sessions": "training.sessions",
    "training_coverage": "training.coverage",
    "training_hours": "training.hours",
    "reviews_done": "reviews.done",
    "review_adoption_rate": "reviews.adoption_rate",
    "education_plan_completion": "education.plan_completion",
    # 退保风险监测 (surrender-risk monitoring): provided by xiaobao.risk once it lands.
    "risk_alerts": "risk.alerts",
    "rings_confirmed": "risk.rings_confirmed",
}
# Labels of keys whose app may not provide them yet, so the appendix names them in words.
PENDING_LABELS = {
    "risk.alerts": ("退保风险预警条数", "条"),
    "risk.rings_confirmed": ("确认的“退保黑产”团伙数", "个"),
}

# placeholder → KPI id of the snapshot
KPI_FIGURES = {
    "quality_index": "quality_index",
    "quality_grade": "quality_grade",
    "persistency_13m": "persistency_13m",
    "persistency_25m": "persistency_25m",
    "surrender_rate": "surrender_rate_policies",
    "surrender_rate_amount": "surrender_rate_amount",
    "full_refund_share": "full_refund_share",
    "claims_median_days": "claims_median_days_to_pay",
    "claims_within_10_days_share": "claims_paid_within_10_days_share",
    "claims_payout_ratio": "claims_payout_ratio",
    "urgent_same_day_rate": "urgent_same_day_rate",
    "complaints_per_100m_premium": "complaints_per_100m_premium",
    "complaints_per_10k_policies": "complaints_per_10k_policies",
    "complaints_per_10k_insured": "complaints_per_10k_insured",
    "complaints_per_100m_premium_regulator": "complaints_per_100m_premium_regulator",
    "complaints_per_10k_policies_regulator": "complaints_per_10k_policies_regulator",
    "complaints_per_10k_insured_regulator": "complaints_per_10k_insured_regulator",
}

# placeholder → (key of education_stats(), label)
EDUCATION_FIGURES = {
    "offline_events": ("offline_events", "线下金融教育活动场次", "场", "形式为线下的活动条数"),
    "offline_reach": ("offline_reach", "线下活动触达人数", "人", "线下活动登记的触达人数之和"),
    "videos": ("videos", "金融教育视频", "部", "形式为视频的活动条数"),
    "case_articles": ("case_articles", "原创“以案说险”文章", "篇", "形式为原创文章的活动条数"),
    "published_pieces": ("published_pieces", "原创宣传稿件", "篇", "形式为宣传稿件的活动条数"),
    "media_reports": ("media_reports", "媒体报道", "次", "形式为媒体报道的活动条数"),
    "online_reach": (
        "online_reach",
        "线上触达人数",
        "人",
        "视频、原创文章、宣传稿件、媒体报道的触达人数之和",
    ),
    "education_reach": ("total_reach", "金融教育触达人数合计", "人", "全部活动 (线下与线上) 的触达人数之和"),
}
EDUCATION_SCOPE = "年度内活动日期在该年的金融教育活动, 含下级机构 (xiaobao education stats): "

CASE_FIGURES = {
    "work_orders": ("工单件数 (非投诉)", "件"),
    "hotline_work_orders": ("4008热线工单件数 (非投诉)", "件"),
    "urgent_work_orders": ("紧急工单件数", "件"),
    "cases_total": ("受理工单合计 (含投诉)", "件"),
}

TEXT_FIGURES = {
    "year": "报告年度",
    "unit_name": "机构名称",
    "regulator_phrase": "监管转办表述 (零转办时为“监管投诉零转办”)",
}


def placeholder_names() -> list[str]:
    """Every {placeholder} a narrative template may use."""
    return [
        *TEXT_FIGURES,
        *REGISTRY_FIGURES,
        *KPI_FIGURES,
        *EDUCATION_FIGURES,
        *CASE_FIGURES,
    ]


def placeholder_labels() -> list[tuple[str, str]]:
    """(placeholder, what it stands for) for the template pages."""
    from xiaobao.assessment.sources import source_for

    labels = dict(TEXT_FIGURES)
    for name, key in REGISTRY_FIGURES.items():
        source = source_for(key)
        labels[name] = str(source.label) if source else PENDING_LABELS.get(key, (key, ""))[0]
    for name, kpi_id in KPI_FIGURES.items():
        labels[name] = REGISTRY[kpi_id].label_zh
    for name, (_key, label, _unit, _definition) in EDUCATION_FIGURES.items():
        labels[name] = label
    for name, (label, _unit) in CASE_FIGURES.items():
        labels[name] = label
    return [(name, labels[name]) for name in placeholder_names()]


def _registry_figure(name: str, key: str, unit, year: int) -> Fig:
    stored = figure_for(key, unit, year)
    value = stored.get("value") if stored.get("available") else None
    unit_word = stored.get("unit", "")
    if value is None:
        display = NO_DATA
    elif unit_word == "%":
        display = f"{value:.2f}%"
    elif float(value).is_integer():
        display = _count_display(value)
    else:
        display = f"{value:g}"
    definition = stored.get("definition", "")
    label = stored.get("label") or PENDING_LABELS.get(key, (key, ""))[0]
    if "label" not in stored:  # nobody provides the key (yet)
        definition = _("数据来源 %(key)s 尚未接入, 接入后自动计算") % {"key": key}
        unit_word = PENDING_LABELS.get(key, ("", ""))[1]
    elif value is None and stored.get("note"):
        definition = f"{definition} ({stored['note']})"
    return Fig(
        name=name,
        label=label,
        value=value,
        display=display,
        definition=definition,
        source=key,
        unit=unit_word,
        detail=stored.get("detail", ""),
    )


def _kpi_figure(name: str, kpi_id: str, snapshot: KpiSnapshot) -> Fig:
    entry = snapshot.results.get(kpi_id) or {}
    value = entry.get("value")
    kdef = REGISTRY[kpi_id]
    if value is None:
        display = NO_DATA
    elif kdef.unit == "fraction":
        display = _percent(value)
    else:
        display = format_value(kpi_id, value)
    detail = ""
    numerator, denominator = entry.get("numerator"), entry.get("denominator")
    if kdef.unit in ("grade", "index") or denominator in (None, 0):
        detail = ""
    elif numerator is None:  # a median: the population size only
        detail = _("n = %(n)s") % {"n": number_text(denominator)}
    else:
        detail = f"{number_text(numerator)} / {number_text(denominator)}"
    return Fig(
        name=name,
        label=kdef.label_zh,
        value=value,
        display=display,
        definition=entry.get("definition") or kdef.definition_zh,
        source=f"kpi.{kpi_id}",
        snapshot_id=snapshot.pk,
        unit={"days": "天", "count": "件"}.get(kdef.unit, "%" if kdef.unit == "fraction" else ""),
        detail=detail,
    )


def education_year(unit, year: int) -> dict:
    """The figures `xiaobao education stats --year Y --unit CODE` prints, for the unit's subtree."""
    activities = activity_in_unit(Activity.objects.all(), unit.code)
    plans = plan_in_unit(EducationPlan.objects.all(), unit.code)
    return education_stats(activities, year=year, plans=plans)


def year_cases(unit, period: Period):
    start = timezone.make_aware(dt.datetime.combine(period.start, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min))
    return Case.objects.filter(
        unit__path__startswith=unit.path, received_at__gte=start, received_at__lt=end
    ).exclude(status__in=EXCLUDED)


def kpi_snapshot(*, unit, period: Period, snapshot_id: int | None = None, actor=None) -> KpiSnapshot:
    """The snapshot a report cites: the one asked for (to reproduce a report), else a new freeze of
    the period for the unit, which records the data versions and import batches behind it."""
    if snapshot_id is not None:
        snapshot = KpiSnapshot.objects.filter(pk=snapshot_id).first()
        if snapshot is None:
            raise ValueError(_("指标快照 #%(id)s 不存在") % {"id": snapshot_id})
        if snapshot.period != period.code or snapshot.unit_id != unit.pk:
            raise ValueError(
                _("指标快照 #%(id)s 属于 %(p)s / %(u)s, 与报告期间或机构不符")
                % {"id": snapshot_id, "p": snapshot.period, "u": snapshot.unit.code if snapshot.unit else "*"}
            )
        return snapshot
    return snapshot_freeze(actor=actor, period=period, unit=unit)


@dataclass
class YearFigures:
    unit: object
    year: int
    snapshot: KpiSnapshot
    figures: dict[str, Fig]
    education: dict
    has_records: bool
    monthly: list[dict]  # [{"month": "2024-01", "complaints": n, "work_orders": n, "education_reach": n}, …]

    def values(self) -> dict[str, str]:
        """placeholder → text for the narrative templates."""
        return {name: fig.text for name, fig in self.figures.items()}


def year_figures(*, unit, year: int, snapshot_id: int | None = None, actor=None) -> YearFigures:
    """Every figure of the year-end report for `unit` (and the units below it) and `year`.

    1. The KPI snapshot of the year (frozen now unless one is given).
    2. The registry figures, the education statistics and the case counts.
    3. The text figures (year, unit, the 零转办 phrase) and whether the year holds any record at all.
    """
    period = parse_period(str(year))
    snapshot = kpi_snapshot(unit=unit, period=period, snapshot_id=snapshot_id, actor=actor)
    figures: dict[str, Fig] = {}
    figures["year"] = Fig("year", TEXT_FIGURES["year"], year, str(year), _("报告所述年度"), "report")
    figures["unit_name"] = Fig(
        "unit_name", TEXT_FIGURES["unit_name"], unit.name, unit.name, _("统计范围: 该机构及其下级机构"), "org"
    )
    for name, key in REGISTRY_FIGURES.items():
        figures[name] = _registry_figure(name, key, unit, year)
    for name, kpi_id in KPI_FIGURES.items():
        figures[name] = _kpi_figure(name, kpi_id, snapshot)

    education = education_year(unit, year)
    for name, (key, label, unit_word, definition) in EDUCATION_FIGURES.items():
        value = education[key]
        figures[name] = Fig(
            name,
            label,
            value,
            _count_display(value),
            EDUCATION_SCOPE + definition,
            f"education.stats.{key}",
            unit=unit_word,
        )

    cases = year_cases(unit, period)
    work_orders = cases.exclude(kind=CaseKind.COMPLAINT)
    total = case_stats(cases)["total"]
    orders = case_stats(work_orders)["total"]
    urgent = work_orders.filter(Q(urgent=True)).count()
    hotline = work_orders.filter(channel=Channel.HOTLINE).count()
    counts = (
        (
            "work_orders",
            orders["count"],
            _("年度内受理的非投诉工单 (咨询、求助、建议、表扬), 不含已撤诉和合并件, 含下级机构"),
            "work_orders",
        ),
        ("urgent_work_orders", urgent, _("年度内受理的非投诉工单中标记为紧急的件数"), "urgent_work_orders"),
        (
            "hotline_work_orders",
            hotline,
            _("年度内受理的非投诉工单中来源渠道为4008热线的件数"),
            "hotline_work_orders",
        ),
        (
            "cases_total",
            total["count"],
            _("年度内受理的全部工单 (含投诉), 不含已撤诉和合并件, 含下级机构"),
            "total",
        ),
    )
    for key, count, definition, source in counts:
        figures[key] = Fig(
            key, CASE_FIGURES[key][0], count, str(count), definition, f"cases.stats.{source}", unit="件"
        )
    forwarded = figures["regulator_forwarded"].value
    if forwarded is None:
        phrase = _("监管转办投诉暂无数据")
    elif forwarded == 0:
        phrase = _("实现监管投诉零转办")
    else:
        phrase = _("监管转办投诉%(n)s件") % {"n": int(forwarded)}
    figures["regulator_phrase"] = Fig(
        "regulator_phrase",
        TEXT_FIGURES["regulator_phrase"],
        forwarded,
        phrase,
        figures["regulator_forwarded"].definition,
        "cases.regulator_forwarded",
    )
    # Records *of the year*: standing state (rules in force, policies in force, staff) does not count.
    year_counts = (
        "committee_meetings",
        "executive_talks",
        "training_sessions",
        "reviews_done",
        "drills",
        "rules_updated",
    )
    book_populations = ("persistency_13m", "full_refund_share", "claims_payout_ratio", "claims_median_days")
    has_records = bool(
        total["count"]
        or education["activities"]
        or any(figures[n].value for n in year_counts)
        or any((snapshot.results.get(KPI_FIGURES[n]) or {}).get("denominator") for n in book_populations)
    )
    complaints_by_month = {
        g["key"]: g["count"] for g in case_stats(cases.filter(kind=CaseKind.COMPLAINT), by="month")["groups"]
    }
    orders_by_month = {g["key"]: g["count"] for g in case_stats(work_orders, by="month")["groups"]}
    monthly = [
        {
            "month": row["key"],
            "complaints": complaints_by_month.get(row["key"], 0),
            "work_orders": orders_by_month.get(row["key"], 0),
            "education_events": row["count"],
            "education_reach": row["reach"],
        }
        for row in education["by_month"]
    ]
    return YearFigures(
        unit=unit,
        year=year,
        snapshot=snapshot,
        figures=figures,
        education=education,
        has_records=has_records,
        monthly=monthly,
    )
