"""A small book written to the Parquet store, with one planted ring and its decoys, for the risk tests.

- ring: a proxy's phone 13700001234 on twelve policyholders' 委托代办 surrenders, full refunds paid to
  two accounts (…6789 and …4321) held by 赵代办, and twelve template complaints from that phone;
- family: four policyholders sharing one home phone, ordinary surrenders;
- agent: thirty customers of agent A900 surrendering at the counter, paid to themselves;
- switchboard: sixty policyholders whose surrenders give the branch switchboard 05318888888;
- others: surrenders without any phone or account.
"""

import datetime as dt

import pyarrow as pa

from xiaobao.book import store
from xiaobao.book.demo import _sealed, _table
from xiaobao.lib.address import normalize_address
from xiaobao.lib.idcard import id_check_char

RING_PHONE = "13700001234"
RING_ACCOUNTS = ["6222000011116789", "6228000022224321"]
SWITCHBOARD = "05318888888"
TEMPLATE = (
    "本人于{year}年在贵公司业务员处购买{product}, 业务员销售时夸大收益、隐瞒退保损失, 未履行说明义务, "
    "违反《保险法》第十七条及《保险销售行为管理办法》, 现要求全额退还已交保费共计{amount}元, "
    "否则本人将向国家金融监督管理总局投诉并保留诉讼权利。"
)


def id_no(serial: int) -> str:
    first17 = f"370102198{serial % 10}0101{serial % 1000:03d}"
    return first17 + id_check_char(first17)


def _phone(serial: int) -> str:
    return f"139{serial:08d}"


def people(prefix: str, n: int, start: int) -> list[dict]:
    return [
        {
            "name": f"{prefix}{i:02d}号",
            "id_no": id_no(start + i),
            "phone": _phone(start + i),
            "serial": start + i,
        }
        for i in range(n)
    ]


def write_book(policies: list[dict], surrenders: list[dict]) -> None:
    numbers = pa.array([p["policy_no"] for p in policies], pa.string())
    plain = pa.table(
        {
            "applicant_name": pa.array([p["name"] for p in policies], pa.string()),
            "applicant_id_no": pa.array([p["id_no"] for p in policies], pa.string()),
            "applicant_phone": pa.array([p.get("phone") for p in policies], pa.string()),
            "insured_id_no": pa.array([p["id_no"] for p in policies], pa.string()),
        }
    )
    columns = _sealed("policies", plain, numbers)
    n = len(policies)
    columns.update(
        policy_no=numbers,
        org_code=pa.array([p.get("org_code", "C1") for p in policies], pa.string()),
        channel=pa.array([p.get("channel", "个险") for p in policies], pa.string()),
        product_code=pa.array([p.get("product_code", "P1001") for p in policies], pa.string()),
        agent_code=pa.array([p.get("agent", "A001") for p in policies], pa.string()),
        effective_date=pa.array([p.get("effective", dt.date(2021, 3, 1)) for p in policies], pa.date32()),
        payment_mode=pa.array(["年交"] * n, pa.string()),
        annual_premium=pa.array([p.get("premium", 10000) for p in policies], pa.decimal128(18, 2)),
        status=pa.array(["退保"] * n, pa.string()),
        _batch=pa.array([1] * n, pa.int64()),
    )
    store.write_table("policies", _table("policies", columns))
    keys = pa.array([f"{s['policy_no']}|{s['apply_date']}" for s in surrenders], pa.string())
    plain = pa.table(
        {
            "contact_phone": pa.array([s.get("phone") for s in surrenders], pa.string()),
            "payee_name": pa.array([s.get("payee_name") for s in surrenders], pa.string()),
            "payee_account": pa.array([s.get("account") for s in surrenders], pa.string()),
            # Normalised, as an import stores it (these rows skip the importers).
            "contact_address": pa.array(
                [normalize_address(s.get("address") or "") or None for s in surrenders], pa.string()
            ),
        }
    )
    columns = _sealed("surrenders", plain, keys)
    m = len(surrenders)
    columns.update(
        policy_no=pa.array([s["policy_no"] for s in surrenders], pa.string()),
        apply_date=pa.array([s["apply_date"] for s in surrenders], pa.date32()),
        surrender_date=pa.array([s.get("surrender_date", s["apply_date"]) for s in surrenders], pa.date32()),
        amount=pa.array([s.get("amount", 3000) for s in surrenders], pa.decimal128(18, 2)),
        cash_value=pa.array([s.get("cash_value", 3000) for s in surrenders], pa.decimal128(18, 2)),
        full_refund=pa.array([s.get("full", False) for s in surrenders], pa.bool_()),
        apply_channel=pa.array([s.get("apply_channel", "柜面") for s in surrenders], pa.string()),
        reason=pa.array([s.get("reason", "资金周转") for s in surrenders], pa.string()),
        complaint_ref=pa.array([s.get("complaint_ref") for s in surrenders], pa.string()),
        _batch=pa.array([1] * m, pa.int64()),
    )
    store.write_table("surrenders", _table("surrenders", columns))


def planted_book(day: dt.date, *, with_cases: bool = True, actor=None, unit=None) -> dict:
    """Write the book (and, with_cases, the ring's twelve template complaints) and return the labels:
    {"ring": policy numbers, "family": ..., "agent": ..., "switchboard": ..., "others": ...}."""
    policies, surrenders, labels = [], [], {}

    def add(group, person, i, *, policy_extra=None, surrender=None):
        number = f"8637{group[:2].upper()}{i:06d}"
        policies.append({"policy_no": number, **person, **(policy_extra or {})})
        row = {"policy_no": number, "apply_date": day - dt.timedelta(days=i % 20), **(surrender or {})}
        surrenders.append(row)
        labels.setdefault(group, []).append(number)
        return number

    for i, person in enumerate(people("环", 12, 100)):
        add(
            "ring",
            person,
            i,
            surrender={
                "phone": RING_PHONE,
                "payee_name": "赵代办",
                "account": RING_ACCOUNTS[i % 2],
                "full": True,
                "amount": 30000,
                "apply_channel": "委托代办",
            },
        )
    for i, person in enumerate(people("家", 4, 200)):
        add(
            "family",
            {**person, "phone": "13911112222"},
            i,
            surrender={"phone": "13911112222", "payee_name": person["name"]},
        )
    for i, person in enumerate(people("客", 30, 300)):
        add("agent", person, i, policy_extra={"agent": "A900"}, surrender={"payee_name": person["name"]})
    for i, person in enumerate(people("总", 60, 400)):
        add("switchboard", {**person, "phone": None}, i, surrender={"phone": SWITCHBOARD})
    for i, person in enumerate(people("散", 20, 500)):
        add("others", {**person, "phone": None}, i, surrender={"phone": "", "account": None})
    write_book(policies, surrenders)
    if with_cases:
        labels["ring_cases"] = ring_complaints(day, labels["ring"], actor=actor, unit=unit)
    return labels


def ring_complaints(day: dt.date, policy_nos: list[str], *, actor, unit) -> list[str]:
    from django.utils import timezone

    from xiaobao.cases.services import case_create

    products = ["瀚海福享终身寿险", "瀚海鑫享年金保险", "瀚海金账户两全保险"]
    numbers = []
    for i, policy_no in enumerate(policy_nos):
        case = case_create(
            actor=actor,
            unit=unit,
            kind="投诉",
            channel="4008热线",
            category="退保纠纷",
            description=TEMPLATE.format(year=2018 + i % 4, product=products[i % 3], amount=10000 + 731 * i),
            customer_name=f"环{i:02d}号",
            customer_phone=RING_PHONE,
            policy_no=policy_no,
            received_at=timezone.make_aware(
                dt.datetime.combine(day - dt.timedelta(days=i % 10), dt.time(10))
            ),
        )
        numbers.append(case.case_no)
    return numbers


PROXY_ADDRESS = "山东省青岛市市南区香港中路 10 号 3 号楼 1203 室"
# The same mailing address as the ring's members wrote it.
PROXY_ADDRESS_SPELLINGS = [
    PROXY_ADDRESS,
    "山东省青岛市市南区香港中路10号3号楼1203室",
    "山东省青岛市市南区香港中路１０号３号楼１２０３室。",
    "山东省青岛市市南区香港中路10#3#楼1203室",
]
FAMILY_ADDRESS = "山东省烟台市芝罘区南大街8号2单元502室"
OFFICE_ADDRESS = "山东省济南市历下区经十路9999号瀚海人寿大厦"


def address_book(day: dt.date) -> dict:
    """A book whose only ring is linked by an address: eight policyholders' 委托代办 full refunds,
    each with their own phone and paid to themselves, all giving a proxy's mailing address (written
    four ways); a family of two policyholders at one address (three surrenders); sixty policyholders
    giving the branch office's address (a hub); twenty without an address (blank or 不详); and others
    at addresses of their own. Returns the policy numbers by group."""
    policies, surrenders, labels = [], [], {}

    def add(group, person, i, surrender):
        number = f"8637{group[:2].upper()}{i:06d}"
        # An agent of their own: no agent link (see rings.py) muddles what the addresses do.
        policies.append({"policy_no": number, "agent": f"A{person['serial']}-{i}", **person})
        row = {"policy_no": number, "apply_date": day - dt.timedelta(days=i % 20), **surrender}
        surrenders.append(row)
        labels.setdefault(group, []).append(number)

    for i, person in enumerate(people("址", 8, 600)):
        add(
            "ring",
            person,
            i,
            {
                "phone": person["phone"],
                "payee_name": person["name"],
                "address": PROXY_ADDRESS_SPELLINGS[i % 4],
                "full": True,
                "amount": 30000,
                "apply_channel": "委托代办",
            },
        )
    husband, wife = people("户", 2, 700)
    for i, person in enumerate([husband, wife, husband]):  # the husband holds two policies
        add("family", person, i, {"address": FAMILY_ADDRESS, "full": True, "apply_channel": "委托代办"})
    for i, person in enumerate(people("办", 60, 800)):
        add("office", person, i, {"address": OFFICE_ADDRESS, "apply_channel": "委托代办", "full": True})
    for i, person in enumerate(people("空", 20, 900)):
        add(
            "blank",
            person,
            i,
            {"address": "不详" if i % 2 else "", "apply_channel": "委托代办", "full": True},
        )
    for i, person in enumerate(people("散", 10, 950)):
        add("others", person, i, {"address": f"山东省潍坊市奎文区东风东街{i + 1}号"})
    write_book(policies, surrenders)
    return labels
