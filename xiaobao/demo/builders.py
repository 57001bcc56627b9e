"""Deterministic builders for the demo branch. Each later domain adds its own builder here.

Everything is derived from one random.Random(seed), so the same seed gives the same branch.
"""

import datetime as dt
import random
from dataclasses import dataclass
from functools import lru_cache

from django.contrib.auth.hashers import make_password
from django.db import transaction

from xiaobao.accounts.models import Role, User
from xiaobao.customers.services import customer_create
from xiaobao.demo.names import BRANCH_DEPARTMENTS, CENTRAL_DEPARTMENTS, CENTRAL_SUB_BRANCHES, GIVEN, SURNAMES
from xiaobao.lib.idcard import id_check_char
from xiaobao.org.models import Unit, UnitLevel
from xiaobao.org.services import unit_save

DEMO_PASSWORD = "Xiaobao@2024"
COMPANY = "瀚海人寿保险股份有限公司"
HEAD_CODE = "86"
BRANCH_CODE = "8637"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def id_number(rng: random.Random, region: str) -> str:
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 52))
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_check_char(first17)


def mobile(rng: random.Random) -> str:
    return (
        rng.choice(["138", "139", "135", "186", "187", "150", "158", "177", "199"])
        + f"{rng.randrange(0, 10**8):08d}"
    )


def bank_account(rng: random.Random) -> str:
    return rng.choice(["6222", "6217", "6228", "6214"]) + f"{rng.randrange(0, 10**15):015d}"


def _unit(code: str, name: str, level: str, parent: Unit | None) -> Unit:
    return unit_save(unit=Unit(code=code, name=name, level=level, parent=parent))


def build_org() -> dict[str, Unit]:
    """总公司 → 山东分公司 (six departments) → six 中心支公司 (two departments each)."""
    units = {}
    units[HEAD_CODE] = head = _unit(HEAD_CODE, COMPANY, UnitLevel.HEAD_OFFICE, None)
    units[BRANCH_CODE] = branch = _unit(BRANCH_CODE, "山东分公司", UnitLevel.BRANCH, head)
    for suffix, name in BRANCH_DEPARTMENTS:
        units[BRANCH_CODE + suffix] = _unit(
            BRANCH_CODE + suffix, f"分公司{name}", UnitLevel.DEPARTMENT, branch
        )
    for suffix, city, _region in CENTRAL_SUB_BRANCHES:
        code = BRANCH_CODE + suffix
        units[code] = central = _unit(code, f"{city}中心支公司", UnitLevel.CENTRAL_SUB_BRANCH, branch)
        for dept, name in CENTRAL_DEPARTMENTS:
            units[code + dept] = _unit(code + dept, f"{city}中支{name}", UnitLevel.DEPARTMENT, central)
    return units


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    # Hashing is deliberately slow; every demo user shares one password, so hash it once.
    return make_password(DEMO_PASSWORD)


def _user(username: str, name: str, unit: Unit, roles: list[str], *, superuser: bool = False) -> User:
    user = User(
        username=username,
        display_name=name,
        unit=unit,
        roles=roles,
        is_superuser=superuser,
        is_staff=superuser,
    )
    user.password = _demo_password_hash()
    user.save()
    return user


def build_users(rng: random.Random, units: dict[str, Unit]) -> list[User]:
    """About 30 users across every role: the branch's officers, heads, auditor and handlers, and
    in each 中心支公司 a head, an officer and two handlers."""
    branch = units[BRANCH_CODE]
    users = [
        _user("admin", "系统管理员", branch, [Role.ADMIN], superuser=True),
        # The branch's consumer-protection officers oversee the whole branch, so they sit at its level.
        _user("xb_wang", person_name(rng), branch, [Role.OFFICER]),
        _user("xb_li", person_name(rng), branch, [Role.OFFICER, Role.HANDLER]),
        _user("fgs_head", person_name(rng), branch, [Role.UNIT_HEAD]),
        _user("audit", person_name(rng), branch, [Role.AUDITOR]),
        _user("kf_zhao", person_name(rng), units[BRANCH_CODE + "KF"], [Role.HANDLER]),
        _user("lp_chen", person_name(rng), units[BRANCH_CODE + "LP"], [Role.HANDLER]),
    ]
    pinyin = {"济南": "jn", "青岛": "qd", "烟台": "yt", "潍坊": "wf", "临沂": "ly", "济宁": "jnx"}
    for suffix, city, _region in CENTRAL_SUB_BRANCHES:
        code = BRANCH_CODE + suffix
        p = pinyin[city]
        users += [
            _user(f"{p}_head", person_name(rng), units[code], [Role.UNIT_HEAD]),
            _user(f"{p}_officer", person_name(rng), units[code], [Role.OFFICER]),
            _user(f"{p}_kf1", person_name(rng), units[code + "KF"], [Role.HANDLER]),
            _user(f"{p}_kf2", person_name(rng), units[code + "KF"], [Role.HANDLER]),
        ]
    return users


def build_customers(rng: random.Random, units: dict[str, Unit], per_central: int = 40) -> int:
    count = 0
    for suffix, _city, region in CENTRAL_SUB_BRANCHES:
        unit = units[BRANCH_CODE + suffix]
        for _ in range(per_central):
            customer_create(
                actor=None,
                unit=unit,
                name=person_name(rng),
                id_no=id_number(rng, region),
                phone=mobile(rng),
                account=bank_account(rng) if rng.random() < 0.6 else "",
            )
            count += 1
    return count


def demo_loaded() -> bool:
    return Unit.objects.filter(code=HEAD_CODE).exists()


@transaction.atomic
def build_demo(seed: int, today: dt.date | None = None, scale: float = 1.0, with_apps: bool = True) -> dict:
    from django.utils import timezone

    from xiaobao.demo.cases_builder import CaseBook, build_rectifications

    rng = random.Random(seed)
    today = today or timezone.localdate()
    units = build_org()
    users = build_users(rng, units)
    customers = build_customers(rng, units)
    book = CaseBook(rng, units, today)
    book.build_year(2024, work_orders=int(3000 * scale), complaints=int(150 * scale))
    for year in range(2025, today.year + 1):
        book.build_year(year, work_orders=int(2800 * scale), complaints=int(140 * scale), regulator=2)
    book.add_current_queue()
    by_name = {u.username: u for u in users}
    counts = book.save(approver=by_name["fgs_head"])
    rectifications = build_rectifications(rng, by_name["xb_li"], by_name["xb_wang"], today)
    summary = {
        "units": len(units),
        "users": len(users),
        "customers": customers,
        **counts,
        "rectifications": rectifications,
    }
    if with_apps:
        # Each domain app adds its own demo records through `xiaobao/<app>/demo.py: build(ctx) -> dict`.
        from xiaobao.lib.appmodules import app_modules

        ctx = DemoContext(seed=seed, rng=rng, today=today, units=units, users=by_name, scale=scale)
        for module in app_modules("demo"):
            summary.update(module.build(ctx) or {})
    return summary


@dataclass
class DemoContext:
    """What each app's demo builder gets: the seed and shared random stream, today, the units by code,
    the users by username, and the volume scale (tests use a small one)."""

    seed: int
    rng: random.Random
    today: dt.date
    units: dict
    users: dict
    scale: float
