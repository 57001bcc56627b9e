import datetime as dt

import pytest

from xiaobao.cases.tests import conftest as cases_conftest

clock = cases_conftest.clock  # the frozen clock: 2024-09-20 09:00 Shanghai


@pytest.fixture
def make_session(alice, tree, clock):
    from xiaobao.training.services import session_create

    def make(**kw):
        defaults = dict(
            actor=alice,
            unit=tree["C1"],
            topic="投诉接待与沟通技巧",
            kind="投诉处理技能",
            trainer="外部讲师",
            held_on=dt.date(2024, 9, 10),
        )
        defaults.update(kw)
        return session_create(**defaults)

    return make
