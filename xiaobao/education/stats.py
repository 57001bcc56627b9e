"""Education statistics against the plan: per mode, month, campaign and audience.

Every figure is an aggregate over the activities of the year (one row per activity), computed in the
database; the plan's targets are summed over the outermost plans in scope, so a branch's plan is not
counted twice with the plans of the units below it.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Count, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, ExtractMonth

from xiaobao.education.models import ONLINE_MODES, Activity, Dimension, Mode, Plan, PlanTarget

# The seed summary's headline figures, by the JSON name each is reported under.
HEADLINES = {
    "offline_events": Mode.OFFLINE,
    "videos": Mode.VIDEO,
    "case_articles": Mode.ARTICLE,
    "published_pieces": Mode.PIECE,
    "media_reports": Mode.MEDIA,
}
DEFINITION = (
    "按活动日期所在年度统计; count = 活动条数, reach = 触达人数之和; "
    "offline_reach = 线下活动触达人数, online_reach = 视频、原创文章、宣传稿件、媒体报道的触达人数之和; "
    "计划目标取统计范围内最上级机构的年度计划之和"
)
NO_CAMPAIGN = "(未归属活动)"
NO_AUDIENCE = "(未注明受众)"


def _sum(field: str = "reach", **filters):
    q = Q(**filters) if filters else None
    return Coalesce(Sum(field, filter=q), Value(0), output_field=IntegerField())


def year_activities(activities: QuerySet[Activity], year: int) -> QuerySet[Activity]:
    return activities.filter(date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31))


def outermost_plans(plans: QuerySet[Plan]) -> list[Plan]:
    """The plans in scope whose unit has no planned unit above it (a unit's plan covers its subtree)."""
    rows = list(plans.select_related("unit"))
    paths = [p.unit.path for p in rows]
    return [
        p for p in rows if not any(p.unit.path != other and p.unit.path.startswith(other) for other in paths)
    ]


def plan_targets(plans: list[Plan]) -> dict[tuple[str, str], dict[str, int | None]]:
    """{(dimension, key): {"count": n | None, "reach": n | None}} summed over the plans."""
    totals: dict[tuple[str, str], dict[str, int | None]] = {}
    for target in PlanTarget.objects.filter(plan__in=plans):
        slot = totals.setdefault((target.dimension, target.key), {"count": None, "reach": None})
        for name in ("count", "reach"):
            value = getattr(target, name)
            if value is not None:
                slot[name] = (slot[name] or 0) + value
    return totals


def _rate(actual: int, target: int | None) -> float | None:
    return round(actual / target, 4) if target else None


def _with_targets(row: dict, target: dict | None) -> dict:
    target = target or {"count": None, "reach": None}
    row["target_count"] = target["count"]
    row["target_reach"] = target["reach"]
    row["count_rate"] = _rate(row["count"], target["count"])
    row["reach_rate"] = _rate(row["reach"], target["reach"])
    return row


def education_stats(activities: QuerySet[Activity], *, year: int, plans: QuerySet[Plan]) -> dict:
    """The year's figures for the activities given (already restricted to a scope or unit)."""
    acts = year_activities(activities, year)
    chosen = outermost_plans(plans.filter(year=year))
    targets = plan_targets(chosen)

    # Aliases differ from the field names: an alias "reach" would shadow the column in the next Sum.
    sums = dict(
        people=_sum(),
        offline_people=_sum(mode=Mode.OFFLINE),
        online_people=_sum(mode__in=ONLINE_MODES),
    )
    totals = acts.aggregate(n=Count("pk"), **sums, spent=Coalesce(Sum("cost"), Value(Decimal("0.00"))))
    by_mode = {row["mode"]: row for row in acts.values("mode").annotate(n=Count("pk"), people=_sum())}
    modes = {}
    for mode in Mode.values:
        row = by_mode.get(mode, {"n": 0, "people": 0})
        modes[mode] = _with_targets(
            {"count": row["n"], "reach": row["people"]}, targets.get((Dimension.MODE, mode))
        )

    months = {
        row["m"]: row
        for row in acts.annotate(m=ExtractMonth("date")).values("m").annotate(n=Count("pk"), **sums)
    }
    by_month = []
    running = 0
    for m in range(1, 13):
        row = months.get(m, {"n": 0, "people": 0, "offline_people": 0, "online_people": 0})
        running += row["people"]
        by_month.append(
            {
                "key": f"{year}-{m:02d}",
                "count": row["n"],
                "reach": row["people"],
                "offline_reach": row["offline_people"],
                "online_reach": row["online_people"],
                "cumulative_reach": running,
            }
        )

    def grouped(field: str, dimension: str, blank: str) -> list[dict]:
        rows = {
            row[field]: {"count": row["n"], "reach": row["people"]}
            for row in acts.values(field).annotate(n=Count("pk"), people=_sum())
        }
        keys = sorted(set(rows) | {k for d, k in targets if d == dimension}, key=lambda k: (k == "", k))
        return [
            _with_targets(
                {"key": key or blank, **rows.get(key, {"count": 0, "reach": 0})},
                targets.get((dimension, key)),
            )
            for key in keys
        ]

    result = {
        "year": year,
        "activities": totals["n"],
        "total_reach": totals["people"],
        "cost": str(Decimal(totals["spent"]).quantize(Decimal("0.01"))),  # yuan, as text: never a float
        "modes": modes,
    }
    for name, mode in HEADLINES.items():
        result[name] = modes[mode]["count"]
    result["offline_reach"] = totals["offline_people"]
    result["online_reach"] = totals["online_people"]
    result["by_month"] = by_month
    result["by_campaign"] = grouped("campaign", Dimension.CAMPAIGN, NO_CAMPAIGN)
    result["by_audience"] = grouped("audience", Dimension.AUDIENCE, NO_AUDIENCE)
    result["plan"] = {
        "plans": [{"unit": p.unit.code, "title": p.title} for p in chosen],
        "target_count": sum(t["count"] or 0 for (d, _k), t in targets.items() if d == Dimension.MODE) or None,
        "target_reach": sum(t["reach"] or 0 for (d, _k), t in targets.items() if d == Dimension.MODE) or None,
    }
    result["plan"]["reach_rate"] = _rate(totals["people"], result["plan"]["target_reach"])
    result["definition"] = DEFINITION
    return result
