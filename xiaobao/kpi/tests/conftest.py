import datetime as dt

import pytest
from django.utils import timezone

from xiaobao.cases.models import Case


@pytest.fixture
def make_case(tree):
    """A case row as the KPI engine reads it (clock fields given, no services involved)."""
    counter = iter(range(1, 100000))

    def make(unit="C1", *, received=dt.datetime(2024, 7, 10, 9), **kw) -> Case:
        n = next(counter)
        fields = dict(
            case_no=f"K{n:05d}",
            kind="投诉",
            channel="4008热线",
            status="已办结",
            unit=tree[unit],
            description="测试",
            received_at=timezone.make_aware(received),
        )
        for name in ("decided_at", "responded_at"):
            if isinstance(kw.get(name), dt.datetime) and timezone.is_naive(kw[name]):
                kw[name] = timezone.make_aware(kw[name])
        fields.update(kw)
        return Case.objects.create(**fields)

    return make
