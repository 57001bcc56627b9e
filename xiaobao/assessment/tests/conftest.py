import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from xiaobao.accounts.models import Role

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock():
    """Freeze time at 2025-01-15 09:00 Shanghai: the 2024 year is complete, its self-assessment is due."""
    with time_machine.travel(dt.datetime(2025, 1, 15, 9, 0, tzinfo=SH), tick=False) as traveller:
        yield traveller


@pytest.fixture
def admin(personas):
    return personas[(Role.ADMIN, "outside")]


@pytest.fixture
def catalogue(db):
    from xiaobao.assessment.services import catalogue_create

    return catalogue_create(actor=None, year=2024)
