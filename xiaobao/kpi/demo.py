"""Demo hand-entered indicators of the 服务质量指数 (保单送达率，电话呼入接通率，电话回访成功率，保全时效达标率)
for the head office, the branch and each 中心支公司, per year from 2024 to today and per quarter of
the current year, so the demo dashboard shows an index and a grade. Drawn from a random.Random
derived from the demo seed; the volumes do not depend on `scale`."""

import random
from decimal import Decimal

from xiaobao.kpi.models import QualityIndicator, QualityValue
from xiaobao.org.models import UnitLevel

# indicator code → (typical value, spread)
TYPICAL = {
    "policy_delivery": (0.975, 0.015),
    "call_answer": (0.90, 0.04),
    "callback_success": (0.93, 0.03),
    "servicing_timeliness": (0.96, 0.02),
}


def build(ctx) -> dict:
    rng = random.Random(f"{ctx.seed}-kpi")
    indicators = {i.code: i for i in QualityIndicator.objects.filter(code__in=TYPICAL)}
    units = [
        u
        for u in ctx.units.values()
        if u.level in (UnitLevel.HEAD_OFFICE, UnitLevel.BRANCH, UnitLevel.CENTRAL_SUB_BRANCH)
    ]
    periods = [str(year) for year in range(2024, ctx.today.year + 1)]
    periods += [f"{ctx.today.year}Q{q}" for q in range(1, (ctx.today.month - 1) // 3 + 2)]
    rows = []
    for unit in units:
        for period in periods:
            for code, (typical, spread) in TYPICAL.items():
                value = min(1.0, max(0.0, rng.gauss(typical, spread)))
                rows.append(
                    QualityValue(
                        indicator=indicators[code],
                        unit=unit,
                        period=period,
                        value=Decimal(f"{value:.4f}"),
                        note="演示数据",
                    )
                )
    QualityValue.objects.bulk_create(rows, ignore_conflicts=True)
    return {"kpi_quality_values": len(rows)}
