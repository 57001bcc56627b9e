"""Deterministic cases for the KPI tests that need many (the parity test)."""

import datetime as dt
import random

from django.utils import timezone

from xiaobao.cases.models import Case

KINDS = ["投诉", "投诉", "投诉", "咨询", "求助"]
CHANNELS = ["4008热线", "柜面", "监管转办", "微信", "信函"]
STATUSES = ["已办结", "已办结", "已告知", "处理中", "受理", "暂停", "已撤诉", "已合并"]
CATEGORIES = ["销售纠纷", "理赔纠纷", "退保纠纷", "服务质量"]


def make_cases(
    units: list,
    policy_nos: list[str],
    customers: list,
    *,
    n: int = 400,
    seed: int = 11,
    start=dt.date(2023, 10, 1),
    end=dt.date(2024, 12, 31),
) -> list[Case]:
    rng = random.Random(seed)
    span = (end - start).days
    rows = []
    for i in range(n):
        received = timezone.make_aware(
            dt.datetime.combine(
                start + dt.timedelta(days=rng.randint(0, span)), dt.time(rng.randint(0, 23), 30)
            )
        )
        day = timezone.localdate(received)
        status = rng.choice(STATUSES)
        decided = status in ("已办结", "已告知")
        decided_at = received + dt.timedelta(days=rng.randint(1, 25), hours=3) if decided else None
        due = day + dt.timedelta(days=15)
        urgent = rng.random() < 0.2
        responded = (
            received + dt.timedelta(hours=rng.choice([2, 20, 30, 60])) if rng.random() < 0.85 else None
        )
        rows.append(
            Case(
                case_no=f"PAR{i:05d}",
                kind=rng.choice(KINDS),
                channel=rng.choice(CHANNELS),
                status=status,
                unit=rng.choice(units),
                description="对比测试",
                received_at=received,
                due_date=due,
                decided_at=decided_at,
                on_time=(timezone.localdate(decided_at) <= due) if decided_at else None,
                urgent=urgent,
                response_due_date=day + dt.timedelta(days=1) if urgent else None,
                responded_at=responded,
                extension_level=rng.choice([0, 0, 0, 1, 2]),
                claims_related=rng.random() < 0.2,
                category=rng.choice(CATEGORIES),
                customer=rng.choice(customers) if customers and rng.random() < 0.6 else None,
                policy_no=rng.choice(policy_nos) if rng.random() < 0.7 else "",
            )
        )
    return Case.objects.bulk_create(rows)
