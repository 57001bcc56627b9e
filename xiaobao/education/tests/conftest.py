import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock():
    """Freeze time at 2024-12-20 09:00 Shanghai: the whole 2024 education year lies behind it."""
    with time_machine.travel(dt.datetime(2024, 12, 20, 9, 0, tzinfo=SH), tick=False) as traveller:
        yield traveller


@pytest.fixture
def make_activity(tree, alice, clock):
    from xiaobao.education.services import activity_create

    def make(**kw):
        defaults = dict(
            actor=alice,
            unit=tree["C1"],
            date=dt.date(2024, 3, 15),
            mode="线下",
            campaign="3·15",
            title="3·15 消费者权益保护咨询日",
            location="甲市幸福社区",
            audience="老年人",
            reach=300,
        )
        defaults.update(kw)
        return activity_create(**defaults)

    return make
