"""Shared fixtures: a small unit tree and one persona per role, inside and outside the unit.

Tree:  HQ 总公司 → BR 分公司 → C1 中心支公司 (→ C1KF 部门)
                              → C2 中心支公司
Objects under test live in C1. "inside" personas sit in C1 (or above it); "outside" ones in C2.
"""

from contextlib import contextmanager

import pytest

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
