"""Governance figures for the year-end report and the self-assessment (自评).

Each function takes (year, unit) — unit an org.Unit or its code — and covers the unit and every unit
below it. It returns {"value", "numerator", "denominator", "definition"}: for a count, value and
numerator are the count and denominator is None; for a rate, value = numerator / denominator (None
when the denominator is 0).

- committee_meetings: 消保工作事务委员会 meetings held (minutes recorded) in the year.
- committee_months: months of the year with a held meeting ÷ months elapsed (月度召开率).
- executive_talks: 高管讲消保 sessions held in the year.
- plans_approved: plans of the year approved by the unit head ÷ plans of the year.
- rules_in_force: 制度 in force at the end of the year (today, for the current year).
- rules_updated: rule versions (new rules and revisions) that took effect in the year.
- drills: 应急演练 held in the year.
- actions_closed_on_time: action items due in the year and closed by their due date ÷ action items
  due in the year (cancelled ones left out).
- quality_issues_closed: business-quality issues found in the year and closed ÷ found in the year.
- bulletins: 通报 issued in the year.

SOURCES offers them to xiaobao.assessment.sources under the keys "governance.<function name>".
"""

from django.urls import reverse
from django.utils import timezone

from xiaobao.governance.selectors import year_figures
from xiaobao.org.models import Unit

DEFINITIONS = {
    "committee_meetings": "年度内已召开 (已登记会议纪要) 的消保工作事务委员会会议次数",
    "committee_months": "召开过委员会会议的月份数 ÷ 年内已过月份数",
    "executive_talks": "年度内开展的高管讲消保次数",
    "plans_approved": "经机构负责人批准的本年度计划数 ÷ 本年度计划数",
    "rules_in_force": "年末 (当年为今日) 现行有效的消保制度数",
    "rules_updated": "年度内生效的制度版本数 (新制定与修订)",
    "drills": "年度内开展的应急演练次数",
    "actions_closed_on_time": "期限在本年的督办事项中按期办结的数量 ÷ 期限在本年的督办事项 (不含撤销)",
    "quality_issues_closed": "年度内发现的业务品质问题中已关闭的数量 ÷ 发现数量",
    "bulletins": "年度内印发的通报数",
}


def _unit(unit) -> Unit:
    return unit if isinstance(unit, Unit) else Unit.objects.get(code=unit)


def _figures(year: int, unit) -> dict:
    return year_figures(year=year, unit=_unit(unit))


def _count(name: str, value: int) -> dict:
    return {"value": value, "numerator": value, "denominator": None, "definition": DEFINITIONS[name]}


def _rate(name: str, numerator: int, denominator: int) -> dict:
    value = numerator / denominator if denominator else None
    return {
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "definition": DEFINITIONS[name],
    }


def committee_meetings(year: int, unit) -> dict:
    return _count("committee_meetings", _figures(year, unit)["meetings_held"])


def committee_months(year: int, unit) -> dict:
    today = timezone.localdate()
    elapsed = 12 if year < today.year else (today.month if year == today.year else 0)
    return _rate("committee_months", _figures(year, unit)["meeting_months"], elapsed)


def executive_talks(year: int, unit) -> dict:
    return _count("executive_talks", _figures(year, unit)["talks"])


def plans_approved(year: int, unit) -> dict:
    figures = _figures(year, unit)
    return _rate("plans_approved", figures["plans_approved"], figures["plans"])


def rules_in_force(year: int, unit) -> dict:
    return _count("rules_in_force", _figures(year, unit)["rules_active"])


def rules_updated(year: int, unit) -> dict:
    return _count("rules_updated", _figures(year, unit)["rule_versions"])


def drills(year: int, unit) -> dict:
    return _count("drills", _figures(year, unit)["drills"])


def actions_closed_on_time(year: int, unit) -> dict:
    figures = _figures(year, unit)
    return _rate("actions_closed_on_time", figures["actions_done_on_time"], figures["actions"])


def quality_issues_closed(year: int, unit) -> dict:
    figures = _figures(year, unit)
    return _rate("quality_issues_closed", figures["issues_closed"], figures["issues"])


def bulletins(year: int, unit) -> dict:
    return _count("bulletins", _figures(year, unit)["bulletins"])


# --- xiaobao.assessment.sources ---------------------------------------------------------------------

# (function, label, page listing the records, unit of a count; None for a rate shown in %)
PRESENTED = [
    (committee_meetings, "消保工作事务委员会召开次数", "governance-meetings", "次"),
    (committee_months, "委员会月度召开率", "governance-meetings", None),
    (executive_talks, "高管讲消保次数", "governance-talks", "次"),
    (plans_approved, "消保计划审批率", "governance-plans", None),
    (rules_in_force, "现行消保制度数", "governance-rules", "项"),
    (rules_updated, "年内制定或修订的制度版本数", "governance-rules", "版"),
    (drills, "应急演练次数", "governance-drills", "次"),
    (actions_closed_on_time, "督办事项按期办结率", "governance-actions", None),
    (quality_issues_closed, "业务品质问题关闭率", "governance-issues", None),
    (bulletins, "业务品质通报次数", "governance-bulletins", "次"),
]


def _compute(function, page: str, count_unit: str | None):
    """compute(unit, year) -> Figure: a count as is, a rate as a percentage (0–100)."""

    def compute(unit, year):
        from xiaobao.assessment.sources import Figure

        result = function(year, unit)
        link = reverse(page) + f"?year={year}"
        if count_unit is not None:
            return Figure(value=result["value"], display=f"{result['value']} {count_unit}", link=link)
        value = result["value"]
        return Figure(
            value=round(value * 100, 1) if value is not None else None,
            display=f"{value:.1%}" if value is not None else "—",
            detail=f"{result['numerator']} / {result['denominator']}",
            link=link,
        )

    return compute


def _sources() -> list:
    try:
        from xiaobao.assessment.sources import Source
    except ImportError:  # the self-assessment app is optional
        return []
    return [
        Source(
            key=f"governance.{function.__name__}",
            label=label,
            definition=DEFINITIONS[function.__name__],
            compute=_compute(function, page, count_unit),
            unit=count_unit or "%",
        )
        for function, label, page, count_unit in PRESENTED
    ]


SOURCES = _sources()
