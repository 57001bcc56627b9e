"""Pre-fill sources for a self-assessment (xiaobao.assessment.sources): 消保审查 done, adoption, turnaround."""

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaobao.assessment.sources import Figure, Source
from xiaobao.reviews.models import ReviewRequest
from xiaobao.reviews.stats import review_period, review_stats


def _stats(unit, year: int) -> dict:
    reviews = ReviewRequest.objects.filter(unit__path__startswith=unit.path)
    return review_stats(review_period(reviews, dt.date(year, 1, 1), dt.date(year, 12, 31)))["total"]


def _link(unit, year: int) -> str:
    return (
        reverse("reviews-stats")
        + "?"
        + urlencode({"from": f"{year}-01-01", "to": f"{year}-12-31", "unit": unit.code})
    )


def reviews_done(unit, year: int) -> Figure:
    total = _stats(unit, year)
    return Figure(
        value=total["signed_off"],
        display=_("%(n)s 项") % {"n": total["signed_off"]},
        detail=_("提交 %(s)s 项，其中不通过 %(r)s 项，重新审查 %(again)s 项")
        % {"s": total["submitted"], "r": total["not_approved"], "again": total["rereviews"]},
        link=_link(unit, year),
    )


def adoption_rate(unit, year: int) -> Figure:
    total = _stats(unit, year)
    rate = total["adoption_rate"]
    return Figure(
        value=round(rate * 100, 2) if rate is not None else None,
        display=f"{rate:.1%}" if rate is not None else "—",
        detail=_("采纳 %(a)s + 部分采纳 %(p)s / 已回复 %(n)s 条意见")
        % {"a": total["adopted"], "p": total["partly_adopted"], "n": total["answered"]},
        link=_link(unit, year),
    )


def median_turnaround(unit, year: int) -> Figure:
    total = _stats(unit, year)
    days = total["median_days"]
    return Figure(
        value=days,
        display=_("%(n)s 天") % {"n": days} if days is not None else "—",
        detail=_("%(n)s 项已签批，平均 %(m)s 天") % {"n": total["signed_off"], "m": total["mean_days"]}
        if days is not None
        else "",
        link=_link(unit, year),
    )


SOURCES = [
    Source(
        key="reviews.done",
        label=gettext_lazy("完成消保审查项数"),
        definition=gettext_lazy("年度内提交并已签批的消保审查事项，含下级机构"),
        unit=gettext_lazy("项"),
        compute=reviews_done,
    ),
    Source(
        key="reviews.adoption_rate",
        label=gettext_lazy("审查意见采纳率"),
        definition=gettext_lazy("年度内提交的审查中, (采纳 + 部分采纳) ÷ 已回复的审查意见"),
        unit="%",
        compute=adoption_rate,
    ),
    Source(
        key="reviews.median_turnaround_days",
        label=gettext_lazy("审查办理时长中位数"),
        definition=gettext_lazy("年度内提交并已签批的审查，自提交至签批的自然日数的中位数"),
        unit=gettext_lazy("天"),
        compute=median_turnaround,
    ),
]
