"""预填数据来源 (pre-fill providers): the figures xiaobao's own records can give a self-assessment.

An indicator of the catalogue names a source by key (e.g. "cases.complaint_on_time_rate"). When a
self-assessment is pre-filled, the source computes the figure for the assessed unit (and every unit
below it) and the year; the figure is stored with the source's label and definition, so the page
shows where each number came from. A key nobody provides is shown as "not available", never an error.

The hook, for any app (training, governance, kpi…): add `<app>/assessment_sources.py` with

    from xiaobao.assessment.sources import Figure, Source

    def coverage(unit, year):            # unit: org.Unit, year: int → Figure
        trained, staff = ...              # computed from your app's records, in the database
        return Figure(
            value=trained / staff * 100 if staff else None,   # a number, or None when undefined
            display=f"{trained / staff:.1%}" if staff else "—",
            detail=f"{trained} / {staff} 人",
            link="/training/?year=2024",  # a page listing the records behind the figure
        )

    SOURCES = [
        Source(
            key="training.coverage",      # what indicators name; "<app>.<figure>"
            label="员工消保培训覆盖率",
            definition="年度内参加过消保培训的在职员工 ÷ 在职员工",
            unit="%",
            compute=coverage,
        ),
    ]

Nothing else is needed: every installed xiaobao app's `assessment_sources` module is found on first
use (xiaobao.lib.appmodules), in INSTALLED_APPS order, and a key registered twice is an error. Sources
for apps that predate the hook (cases) live in xiaobao/assessment/assessment_sources.py. A source that
raises is reported as not available with the error, so one broken provider cannot stop a pre-fill.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

# Keys the default catalogue expects from apps that may not be installed yet, and which app owns each.
EXPECTED_OWNERS = {"training": "xiaobao.training", "governance": "xiaobao.governance", "kpi": "xiaobao.kpi"}


@dataclass(frozen=True)
class Figure:
    value: float | int | Decimal | None
    display: str
    detail: str = ""
    link: str = ""
    note: str = ""


@dataclass(frozen=True)
class Source:
    key: str
    label: str  # a str or a lazy translation, stored as text
    definition: str
    compute: Callable[..., Figure]
    unit: str = ""
    tags: tuple[str, ...] = field(default=())


_sources: dict[str, Source] = {}
_discovered = False


def register(source: Source) -> Source:
    existing = _sources.get(source.key)
    if existing is not None and existing is not source:
        raise ValueError(f"预填来源 {source.key!r} 已注册")
    _sources[source.key] = source
    return source


def autodiscover() -> None:
    global _discovered
    if _discovered:
        return
    from xiaobao.lib.appmodules import app_modules

    for module in app_modules("assessment_sources"):
        for source in getattr(module, "SOURCES", ()):
            register(source)
    _discovered = True


def all_sources() -> dict[str, Source]:
    autodiscover()
    return dict(_sources)


def source_for(key: str) -> Source | None:
    return all_sources().get(key)


def figure_for(key: str, unit, year: int) -> dict:
    """The stored form of a figure: what the page shows and what the score was suggested from."""
    source = source_for(key)
    if source is None:
        owner = EXPECTED_OWNERS.get(key.split(".", 1)[0], "")
        note = (
            _("数据来源未接入: %(app)s 尚未提供该指标，请手工填写") % {"app": owner}
            if owner
            else _("未知的数据来源 %(key)s, 请手工填写") % {"key": key}
        )
        return {"available": False, "source": key, "note": note}
    try:
        figure = source.compute(unit, year)
    except Exception as exc:  # one broken provider must not stop the whole pre-fill
        return {
            "available": False,
            "source": key,
            "label": str(source.label),
            "definition": str(source.definition),
            "note": _("计算出错: %(e)s") % {"e": f"{exc.__class__.__name__}: {exc}"[:200]},
        }
    value = figure.value
    return {
        "available": value is not None,
        "source": key,
        "label": str(source.label),
        "definition": str(source.definition),
        "unit": str(source.unit),
        "value": float(value) if value is not None else None,
        "display": figure.display,
        "detail": figure.detail,
        "link": figure.link,
        "note": figure.note or ("" if value is not None else _("该期间没有可计算的记录")),
    }
