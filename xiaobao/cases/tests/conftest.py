import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from xiaobao.accounts.models import Role

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def clock():
    """Freeze time at 2024-09-20 09:00 Shanghai; tests move it with clock.move_to(at(...))."""
    with time_machine.travel(at("2024-09-20 09:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def bob(personas):
    """A handler of C1."""
    return personas[(Role.HANDLER, "inside")]


@pytest.fixture
def head(personas):
    return personas[(Role.UNIT_HEAD, "inside")]


@pytest.fixture
def make_case(tree, alice, clock):
    from xiaobao.cases.services import case_create

    def make(**kw):
        defaults = dict(
            actor=alice,
            unit=tree["C1"],
            kind="投诉",
            channel="4008热线",
            category="销售纠纷",
            description="客户反映业务员销售时承诺保本高收益, 要求全额退保",
            customer_name="张小三",
            customer_phone="13812345678",
        )
        defaults.update(kw)
        return case_create(**defaults)

    return make
