import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xiaobao.accounts.models import Role
from xiaobao.cases.tests import conftest as cases_conftest

MEETING_DAY = dt.date(2024, 9, 12)
clock = cases_conftest.clock  # the frozen clock: 2024-09-20 09:00 Shanghai
make_case = cases_conftest.make_case  # a complaint of C1 registered by alice


def pdf(name: str = "佐证.pdf", body: bytes = b"") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + (body or name.encode()), content_type="application/pdf")


@pytest.fixture
def bob(personas):
    """A handler of C1: owns action items."""
    return personas[(Role.HANDLER, "inside")]


@pytest.fixture
def head(personas):
    """The unit head of C1: approves plans."""
    return personas[(Role.UNIT_HEAD, "inside")]


@pytest.fixture
def meeting(alice, tree, clock):
    from xiaobao.governance.services import meeting_create

    return meeting_create(
        actor=alice,
        unit=tree["C1"],
        title="2024年第9次消保工作事务委员会",
        held_on=MEETING_DAY,
        agenda="1. 部署金融知识普及月\n2. 三季度投诉分析",
        minutes="会议听取了消保部汇报并形成决议",
    )


@pytest.fixture
def resolution(alice, meeting):
    from xiaobao.governance.services import resolution_add

    return resolution_add(actor=alice, meeting=meeting, text="热线高峰时段增加坐席")


@pytest.fixture
def make_action(alice, bob, resolution):
    from xiaobao.governance.services import action_create

    def make(**kw):
        defaults = dict(
            actor=alice, resolution=resolution, title="调整热线排班", owner=bob, due_date=dt.date(2024, 9, 30)
        )
        defaults.update(kw)
        return action_create(**defaults)

    return make
