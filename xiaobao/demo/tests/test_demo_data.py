import json
from io import StringIO

import pytest
from django.core.management import call_command

from xiaobao.accounts.models import Role, User
from xiaobao.customers.models import Customer
from xiaobao.org.models import Unit, UnitLevel


def load(seed=7):
    out = StringIO()
    call_command("demo-data", seed=seed, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_demo_builds_a_branch_with_six_central_sub_branches_and_every_role():
    summary = load()
    assert summary["loaded"] is True
    assert Unit.objects.filter(level=UnitLevel.BRANCH).count() == 1
    assert Unit.objects.filter(level=UnitLevel.CENTRAL_SUB_BRANCH).count() == 6
    assert 28 <= User.objects.count() <= 35
    held = {role for user in User.objects.all() for role in user.roles}
    assert held == set(Role.values)
    assert Customer.objects.count() == summary["customers"] > 0
    assert not Customer.objects.filter(name_masked="").exists()


@pytest.mark.django_db
def test_demo_data_loads_once():
    load()
    again = load()
    assert again["loaded"] is False
    assert Unit.objects.filter(level=UnitLevel.BRANCH).count() == 1


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_branch():
    load(seed=11)
    first = sorted(User.objects.values_list("username", "display_name"))
    masked = sorted(Customer.objects.values_list("name_masked", "phone_masked"))
    Customer.objects.all().delete()
    User.objects.all().delete()
    for unit in Unit.objects.order_by("-path"):
        unit.delete()
    load(seed=11)
    assert sorted(User.objects.values_list("username", "display_name")) == first
    assert sorted(Customer.objects.values_list("name_masked", "phone_masked")) == masked
