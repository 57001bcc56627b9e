"""Pre-fill sources for a self-assessment (xiaobao.assessment.sources): the year's education figures."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaobao.assessment.sources import Figure, Source
from xiaobao.education.models import Activity, Plan
from xiaobao.education.stats import education_stats


def _stats(unit, year: int) -> dict:
    return education_stats(
        Activity.objects.filter(unit__path__startswith=unit.path),
        year=year,
        plans=Plan.objects.filter(unit__path__startswith=unit.path),
    )


def _link(unit, year: int) -> str:
    return reverse("education-stats") + "?" + urlencode({"year": year, "unit": unit.code})


def offline_events(unit, year: int) -> Figure:
    stats = _stats(unit, year)
    return Figure(
        value=stats["offline_events"],
        display=_("%(n)s 场") % {"n": stats["offline_events"]},
        detail=_("触达 %(n)s 人") % {"n": stats["offline_reach"]},
        link=_link(unit, year),
    )


def total_reach(unit, year: int) -> Figure:
    stats = _stats(unit, year)
    return Figure(
        value=stats["total_reach"],
        display=_("%(n)s 人") % {"n": stats["total_reach"]},
        detail=_("线下 %(a)s + 线上 %(b)s") % {"a": stats["offline_reach"], "b": stats["online_reach"]},
        link=_link(unit, year),
    )


def online_items(unit, year: int) -> Figure:
    stats = _stats(unit, year)
    count = stats["videos"] + stats["case_articles"] + stats["published_pieces"] + stats["media_reports"]
    return Figure(
        value=count,
        display=_("%(n)s 项") % {"n": count},
        detail=_("视频 %(v)s, 原创文章 %(a)s, 宣传稿件 %(p)s, 媒体报道 %(m)s; 线上触达 %(r)s 人")
        % {
            "v": stats["videos"],
            "a": stats["case_articles"],
            "p": stats["published_pieces"],
            "m": stats["media_reports"],
            "r": stats["online_reach"],
        },
        link=_link(unit, year),
    )


def plan_completion(unit, year: int) -> Figure:
    stats = _stats(unit, year)
    target = stats["plan"]["target_reach"]
    if not target:
        return Figure(value=None, display="—", note=_("该年度没有设定触达目标的计划"), link=_link(unit, year))
    return Figure(
        value=round(stats["total_reach"] / target * 100, 2),
        display=f"{stats['total_reach'] / target:.1%}",
        detail=_("%(a)s / %(b)s 人") % {"a": stats["total_reach"], "b": target},
        link=_link(unit, year),
    )


SOURCES = [
    Source(
        key="education.offline_events",
        label=gettext_lazy("线下金融教育活动场次"),
        definition=gettext_lazy("年度内活动日期在该年的线下活动条数，含下级机构"),
        unit=gettext_lazy("场"),
        compute=offline_events,
    ),
    Source(
        key="education.total_reach",
        label=gettext_lazy("金融教育触达人数"),
        definition=gettext_lazy("年度内全部活动 (线下、视频、原创文章、宣传稿件、媒体报道) 的触达人数之和"),
        unit=gettext_lazy("人"),
        compute=total_reach,
    ),
    Source(
        key="education.online_items",
        label=gettext_lazy("线上宣传作品数"),
        definition=gettext_lazy("年度内视频、原创文章、宣传稿件和媒体报道的条数之和"),
        unit=gettext_lazy("项"),
        compute=online_items,
    ),
    Source(
        key="education.plan_completion",
        label=gettext_lazy("金融教育计划完成率"),
        definition=gettext_lazy(
            "年度触达人数 ÷ 年度计划各形式目标触达人数之和 (取该机构及下级机构中最上级的计划)"
        ),
        unit="%",
        compute=plan_completion,
    ),
]
