import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from xiaobao.accounts.models import Role, User
from xiaobao.cases.models import Case
from xiaobao.customers.models import Customer
from xiaobao.demo.builders import build_demo
from xiaobao.org.models import Unit, UnitLevel

TODAY = dt.date(2026, 11, 28)


def load(seed=7, scale=0.1):
    out = StringIO()
    call_command("demo-data", seed=seed, scale=scale, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_demo_builds_a_branch_with_six_central_sub_branches_every_role_and_a_case_book():
    summary = load()
    assert summary["loaded"] is True
    assert Unit.objects.filter(level=UnitLevel.BRANCH).count() == 1
    assert Unit.objects.filter(level=UnitLevel.CENTRAL_SUB_BRANCH).count() == 6
    assert 28 <= User.objects.count() <= 35
    held = {role for user in User.objects.all() for role in user.roles}
    assert held == set(Role.values)
    assert Customer.objects.count() == summary["customers"] > 0
    assert not Customer.objects.filter(name_masked="").exists()
    assert Case.objects.count() == summary["cases"] > 0
    # Every assigned handler can see the case they were given.
    for case in Case.objects.exclude(handler=None).select_related("unit", "handler__unit")[:500]:
        assert case.unit.path.startswith(case.handler.unit.path)
    # 零转办: no regulator-forwarded complaint in 2024.
    assert not Case.objects.filter(channel="监管转办", received_at__year=2024).exists()
    assert load()["loaded"] is False  # loads once


@pytest.mark.django_db
def test_a_full_year_has_the_volumes_of_a_real_branch():
    build_demo(2024, today=TODAY, with_apps=False)
    year = Case.objects.filter(received_at__year=2024)
    assert 2800 <= year.exclude(kind="投诉").count() <= 3200
    assert 140 <= year.filter(kind="投诉").count() <= 160
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"登记", "受理", "处理中", "暂停", "已办结", "已合并", "已撤诉"} <= statuses
    assert Case.objects.filter(deadline_provisional=True).exists()  # a deadline in an unpublished year
    assert Case.objects.filter(kind="投诉", status="已办结", root_cause=None).count() == 0


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_branch():
    def snapshot():
        build_demo(11, today=TODAY, scale=0.05)
        return (
            sorted(User.objects.values_list("username", "display_name")),
            sorted(Customer.objects.values_list("name_masked", "phone_masked")),
            sorted(Case.objects.values_list("case_no", "status", "due_date", "description")),
        )

    class Rollback(Exception):
        pass

    results = []
    for _ in range(2):
        try:
            with transaction.atomic():
                results.append(snapshot())
                raise Rollback
        except Rollback:
            pass
    assert results[0] == results[1]
    assert len(results[0][2]) > 100
