"""Risk figures for the year-end report and the self-assessment (自评).

Each function takes (year, unit) — unit an org.Unit or its code — and covers the unit and every unit
below it, returning {"value", "numerator", "denominator", "definition"} (counts: denominator None).

- alerts: risk alerts (series anomalies and suspected rings) raised in the year.
- rings_confirmed: suspected 退保黑产 rings confirmed by an investigator in the year.

SOURCES offers them to xiaobao.assessment.sources under the keys "risk.<function name>".
"""

from django.urls import reverse

from xiaobao.org.models import Unit
from xiaobao.risk.models import Alert, AlertKind, AlertStatus

DEFINITIONS = {
    "alerts": "年度内生成的退保风险预警数 (退保序列异常与疑似退保黑产团伙)",
    "rings_confirmed": "年度内经调查确认的疑似退保黑产团伙数",
}


def _unit(unit) -> Unit:
    return unit if isinstance(unit, Unit) else Unit.objects.get(code=unit)


def _count(name: str, value: int) -> dict:
    return {"value": value, "numerator": value, "denominator": None, "definition": DEFINITIONS[name]}


def alerts(year: int, unit) -> dict:
    scope = Alert.objects.filter(unit__path__startswith=_unit(unit).path, created_at__year=year)
    return _count("alerts", scope.count())


def rings_confirmed(year: int, unit) -> dict:
    scope = Alert.objects.filter(
        unit__path__startswith=_unit(unit).path,
        kind=AlertKind.CLUSTER,
        status=AlertStatus.CONFIRMED,
        decided_at__year=year,
    )
    return _count("rings_confirmed", scope.count())


PRESENTED = [
    (alerts, "退保风险预警数", "件"),
    (rings_confirmed, "确认的疑似退保黑产团伙数", "个"),
]


def _compute(function, count_unit: str):
    def compute(unit, year):
        from xiaobao.assessment.sources import Figure

        result = function(year, unit)
        return Figure(
            value=result["value"], display=f"{result['value']} {count_unit}", link=reverse("risk-alerts")
        )

    return compute


def _sources() -> list:
    try:
        from xiaobao.assessment.sources import Source
    except ImportError:  # the self-assessment app is optional
        return []
    return [
        Source(
            key=f"risk.{function.__name__}",
            label=label,
            definition=DEFINITIONS[function.__name__],
            compute=_compute(function, count_unit),
            unit=count_unit,
        )
        for function, label, count_unit in PRESENTED
    ]


SOURCES = _sources()
