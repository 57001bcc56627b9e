"""KPI figures for the self-assessment (自评) and the year-end report: the complaint rates and the
service-quality index of a unit (and every unit below it) for a calendar year, computed by the KPI
engine exactly as the KPI page shows them (definitions from xiaobao.kpi.registry).

One engine run gives every figure, so the run is kept for a short while: a pre-fill asks for the
three keys one after another.
"""

import threading
import time

from django.urls import reverse

from xiaobao.kpi import engine
from xiaobao.kpi.periods import parse_period

RUN_SECONDS = 60  # how long one engine run serves further figures of the same unit and year
_runs: dict[tuple, tuple[float, dict]] = {}
_lock = threading.Lock()


def _results(unit, year: int) -> dict:
    key = (getattr(unit, "pk", None), year)
    with _lock:
        cached = _runs.get(key)
        if cached is not None and time.monotonic() - cached[0] < RUN_SECONDS:
            return cached[1]
    results = engine.compute(period=parse_period(str(year)), unit=unit).results
    with _lock:
        _runs[key] = (time.monotonic(), results)
    return results


def _link(unit, year: int) -> str:
    code = getattr(unit, "code", "")
    return reverse("kpi-index") + f"?period={year}" + (f"&unit={code}" if code else "")


def _rate_figure(kpi_id: str, suffix: str):
    def compute(unit, year):
        from xiaobao.assessment.sources import Figure
        from xiaobao.kpi.registry import format_value

        cell = _results(unit, year)[kpi_id]
        value = cell["value"]
        detail = ""
        if cell.get("denominator") is not None:
            detail = f"{cell['numerator']} / {cell['denominator']}"
        return Figure(
            value=value,
            display=f"{format_value(kpi_id, value)} {suffix}" if value is not None else "—",
            detail=detail,
            link=_link(unit, year),
        )

    return compute


def _quality_figure(unit, year):
    from xiaobao.assessment.sources import Figure

    results = _results(unit, year)
    value = results["quality_index"]["value"]
    grade = results.get("quality_grade", {}).get("value")
    return Figure(
        value=value,
        display=f"{value:.1f} 分" + (f" ({grade})" if grade else "") if value is not None else "—",
        detail=f"等级 {grade}" if grade else "",
        link=reverse("kpi-quality-values") + f"?period={year}&unit={getattr(unit, 'code', '')}",
    )


def _sources() -> list:
    try:
        from xiaobao.assessment.sources import Source
    except ImportError:  # the self-assessment app is optional
        return []
    from xiaobao.kpi.registry import definition

    return [
        Source(
            key="kpi.complaints_per_100m_premium",
            label="亿元保费投诉量",
            definition=definition("complaints_per_100m_premium", {}, english=False),
            compute=_rate_figure("complaints_per_100m_premium", "件/亿元"),
            unit="件/亿元",
        ),
        Source(
            key="kpi.complaints_per_10k_policies",
            label="万张保单投诉量",
            definition=definition("complaints_per_10k_policies", {}, english=False),
            compute=_rate_figure("complaints_per_10k_policies", "件/万张"),
            unit="件/万张",
        ),
        Source(
            key="kpi.service_quality_index",
            label="服务质量指数",
            definition=definition("quality_index", {}, english=False),
            compute=_quality_figure,
            unit="分",
        ),
    ]


SOURCES = _sources()
