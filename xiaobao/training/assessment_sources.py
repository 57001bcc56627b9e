"""Training figures for the year-end report and the self-assessment (自评).

Each function takes (year, unit) — unit an org.Unit or its code — and covers the unit and every unit
below it. It returns {"value", "numerator", "denominator", "definition"}; for a rate value is
numerator / denominator (None when the denominator is 0), for a count the denominator is None.

- training_coverage: staff (active users with a unit) who attended at least one session held in the
  year ÷ staff. The duty is that training covers every post and every employee (内部培训).
- training_sessions: sessions held in the year by the unit or a unit below it.
- training_hours: person-hours of the year: the sum, over attendances of sessions held in the year by
  staff of the unit, of the session's hours.

SOURCES offers them to xiaobao.assessment.sources as "training.coverage" (in %, as the default
catalogue's GOV-04 expects), "training.sessions" and "training.hours".
"""

from django.db.models import Sum
from django.urls import reverse

from xiaobao.org.models import Unit
from xiaobao.training.models import Attendance, TrainingSession
from xiaobao.training.selectors import coverage

DEFINITIONS = {
    "training_coverage": "年度内至少参加过一次培训的在职员工 ÷ 在职员工 (启用且有所属机构的用户)",
    "training_sessions": "年度内本机构及下级机构组织的培训场次",
    "training_hours": "年度内在职员工参训学时合计 (每人每场计该场学时)",
}


def _unit(unit) -> Unit:
    return unit if isinstance(unit, Unit) else Unit.objects.get(code=unit)


def training_coverage(year: int, unit) -> dict:
    total = coverage(unit=_unit(unit), year=year).total
    return {
        "value": total.rate,
        "numerator": total.trained,
        "denominator": total.staff,
        "definition": DEFINITIONS["training_coverage"],
    }


def training_sessions(year: int, unit) -> dict:
    count = TrainingSession.objects.filter(
        held_on__year=year, unit__path__startswith=_unit(unit).path
    ).count()
    return {
        "value": count,
        "numerator": count,
        "denominator": None,
        "definition": DEFINITIONS["training_sessions"],
    }


def training_hours(year: int, unit) -> dict:
    hours = Attendance.objects.filter(
        session__held_on__year=year, user__is_active=True, user__unit__path__startswith=_unit(unit).path
    ).aggregate(h=Sum("session__hours"))["h"]
    hours = float(hours or 0)
    return {
        "value": hours,
        "numerator": hours,
        "denominator": None,
        "definition": DEFINITIONS["training_hours"],
    }


# --- xiaobao.assessment.sources ---------------------------------------------------------------------


def _coverage_figure(unit, year):
    from xiaobao.assessment.sources import Figure

    result = training_coverage(year, unit)
    rate = result["value"]
    return Figure(
        value=round(rate * 100, 1) if rate is not None else None,
        display=f"{rate:.1%}" if rate is not None else "—",
        detail=f"{result['numerator']} / {result['denominator']} 人",
        link=reverse("training-coverage") + f"?year={year}&unit={_unit(unit).code}",
    )


def _count_figure(function, suffix: str):
    def compute(unit, year):
        from xiaobao.assessment.sources import Figure

        value = function(year, unit)["value"]
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return Figure(
            value=value, display=f"{shown} {suffix}", link=reverse("training-index") + f"?year={year}"
        )

    return compute


def _sources() -> list:
    try:
        from xiaobao.assessment.sources import Source
    except ImportError:  # the self-assessment app is optional
        return []
    return [
        Source(
            key="training.coverage",
            label="员工消保培训覆盖率",
            definition=DEFINITIONS["training_coverage"],
            compute=_coverage_figure,
            unit="%",
        ),
        Source(
            key="training.sessions",
            label="员工消保培训场次",
            definition=DEFINITIONS["training_sessions"],
            compute=_count_figure(training_sessions, "场"),
            unit="场",
        ),
        Source(
            key="training.hours",
            label="员工消保培训学时",
            definition=DEFINITIONS["training_hours"],
            compute=_count_figure(training_hours, "学时"),
            unit="学时",
        ),
    ]


SOURCES = _sources()
