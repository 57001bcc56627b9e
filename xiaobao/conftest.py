"""Shared fixtures: a small unit tree and one persona per role, inside and outside the unit.

Tree:  HQ 总公司 → BR 分公司 → C1 中心支公司 (→ C1KF 部门)
                              → C2 中心支公司
Objects under test live in C1. "inside" personas sit in C1 (or above it); "outside" ones in C2.
"""

import importlib
from contextlib import contextmanager

import pytest
from django.utils import translation

from xiaobao.accounts.models import Role, User
from xiaobao.org.models import Unit, UnitLevel
from xiaobao.org.services import unit_save

PASSWORD = "Test-Passw0rd!"


@contextmanager
def isolated_data_dir(settings, root):
    """A data folder of its own under `root` (keys, files), and a fast password hasher, for a while."""
    from xiaobao.privacy import keys
    from xiaobao.privacy.services import _unwrap_dek

    # Tests create dozens of users; the production hasher is slow on purpose, so swap it here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = root / "data"
    settings.FIELD_KEY_FILE = root / "data" / "keys" / "field.key"
    settings.MEDIA_ROOT = root / "data" / "media"
    keys.clear_caches()
    _unwrap_dek.cache_clear()
    yield
    keys.clear_caches()
    _unwrap_dek.cache_clear()


@pytest.fixture(autouse=True)
def _isolated_data_dir(settings, tmp_path):
    """Every test gets its own data folder, so keys and files never leak between tests."""
    with isolated_data_dir(settings, tmp_path):
        yield


@pytest.fixture(autouse=True)
def _language_reset():
    """Every test starts and ends in the site's language. A request through the test client with an
    English browser leaves English active in the test's thread (LocaleMiddleware activates it and
    nothing in the test thread undoes that), and a later test on the same worker then stored English
    text, e.g. a risk alert's title from scan_run()."""
    translation.deactivate()
    yield
    translation.deactivate()


def pytest_collection_modifyitems(items):
    """schemathesis names the test of each API operation ("…[POST /api/v1/cases/]") but gives them all
    the function's node id; pytest-xdist schedules by node id and would run one operation of five.
    Each gets the node id its name says."""
    for item in items:
        node = getattr(item, "_id", None)  # pytest 9's structured node id
        if node is not None and node.params is None and item.name.endswith("]") and "[" in item.name:
            item._id = node.with_params(item.name.partition("[")[2][:-1])
    seen: set[str] = set()
    twice = sorted({item.nodeid for item in items if item.nodeid in seen or seen.add(item.nodeid)})
    if twice:
        raise pytest.UsageError(f"tests share a node id (pytest-xdist would run one of them): {twice}")


# The rows the data migrations seed: app label → (migration, function).
SEEDS = {
    "cases": ("0002_defaults_and_search", "seed"),  # the root-cause taxonomy
    "kpi": ("0002_default_indicators", "add"),  # the quality index's indicators
    "reviews": ("0002_default_checklist", "seed"),  # the 消保审查 checklists
}


def _reseed(sender, **kwargs) -> None:
    from django.apps import apps

    if sender.label in SEEDS:
        migration, function = SEEDS[sender.label]
        getattr(importlib.import_module(f"xiaobao.{sender.label}.migrations.{migration}"), function)(
            apps, None
        )


@pytest.fixture(scope="session", autouse=True)
def _seeds_survive_a_flush():
    """A transactional test (a browser test, a worker) ends with a flush, which empties every table,
    the rows the data migrations seeded too. In one process pytest-django runs those tests last; on
    several workers (pytest-xdist) a worker goes on with other tests after one. The flush emits
    post_migrate: seed again there, so every test starts from the database migrate leaves."""
    from django.db.models.signals import post_migrate

    post_migrate.connect(_reseed, dispatch_uid="xiaobao-test-reseed")
    yield
    post_migrate.disconnect(dispatch_uid="xiaobao-test-reseed")


def make_unit(code, name, level, parent=None) -> Unit:
    return unit_save(unit=Unit(code=code, name=name, level=level, parent=parent))


@pytest.fixture
def tree(db):
    hq = make_unit("HQ", "总公司", UnitLevel.HEAD_OFFICE)
    br = make_unit("BR", "测试分公司", UnitLevel.BRANCH, hq)
    c1 = make_unit("C1", "甲中心支公司", UnitLevel.CENTRAL_SUB_BRANCH, br)
    c1kf = make_unit("C1KF", "甲中支客服部", UnitLevel.DEPARTMENT, c1)
    c2 = make_unit("C2", "乙中心支公司", UnitLevel.CENTRAL_SUB_BRANCH, br)
    return {"HQ": hq, "BR": br, "C1": c1, "C1KF": c1kf, "C2": c2}


def make_user(username, unit, roles) -> User:
    user = User(username=username, unit=unit, roles=list(roles), display_name=username)
    user.set_password(PASSWORD)
    user.save()
    return user


ROLES = [Role.ADMIN, Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD, Role.AUDITOR]


@pytest.fixture
def personas(tree):
    """{(role, "inside"|"outside"): user}. The admin sits in C2 on purpose: it sees everything anyway."""
    people = {}
    for role in ROLES:
        people[(role, "inside")] = make_user(f"{role}_in", tree["C1"], [role])
        people[(role, "outside")] = make_user(f"{role}_out", tree["C2"], [role])
    return people


@pytest.fixture
def alice(personas):
    """A consumer-protection officer of C1."""
    return personas[(Role.OFFICER, "inside")]


@pytest.fixture
def customer(tree):
    from xiaobao.customers.services import customer_create

    return customer_create(
        actor=None,
        unit=tree["C1"],
        name="张小三",
        id_no="11010519491231002X",
        phone="13812345678",
        account="6222020202021234",
    )
