"""Demo 退保黑产 for the risk app, planted among innocent coincidences, then one scan.

Added to the book (a new version of the policies and surrenders tables) and the cases:
- the proxy ring: twelve policyholders of one 中心支公司, surrendered through 委托代办 within six weeks
  ending two months before today, all full refunds, the same contact phone (the proxy's), paid into
  two accounts held by the proxy's associate; eleven 格式化信函 complaints from that phone with one
  template text, and one more forwarded by the regulator (监管转办) — never in 2024, whose regulator
  channel the seed keeps empty;
- decoy, a family: four members sharing a home phone, ordinary surrenders paid to themselves;
- decoy, an agent's customers: ten ordinary counter surrenders of one agent in one month.
The book's own three small rings (xiaobao.book.demo) are there too. Finally the scan runs as of
today and saves its alerts. Volumes do not depend on `scale`; the scan over the book does.
"""

import datetime as dt
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from xiaobao.book import store
from xiaobao.book.demo import CENTRALS, REGIONS, People, _sealed, _table
from xiaobao.risk.rings import RingConfig

PROXY_PHONE = "13791234567"
PROXY_ACCOUNTS = ["6217001234566789", "6228009876544321"]
PROXY_PAYEE = "钱志强"
FAMILY_PHONE = "13953112233"
TEMPLATE = (
    "尊敬的保险公司领导: 本人于{year}年经贵公司业务员推销购买{product}, 业务员在销售过程中夸大收益、"
    "承诺保本高息, 隐瞒现金价值和退保损失, 未履行《保险法》第十七条规定的明确说明义务, 属于销售误导。"
    "现本人要求解除合同并全额退还已交保费{amount}元, 请于七日内书面答复, 否则本人将向国家金融监督"
    "管理总局及12378热线投诉, 并保留追究法律责任的权利。"
)
PRODUCTS = ["瀚海福享终身寿险(分红型)", "瀚海鑫享年金保险", "瀚海金账户两全保险(万能型)"]


def build(ctx) -> dict:
    from xiaobao.risk.services import scan_run

    if not store.current_version("policies") or not store.current_version("surrenders"):
        return {}
    rng = random.Random(f"{ctx.seed}:risk")
    nprng = np.random.default_rng(rng.getrandbits(32))
    end = ctx.today - dt.timedelta(days=60)
    if end.year == 2024:  # keep the ring's 监管转办 complaint out of 2024
        end = dt.date(2025, 1, 20)
    central = CENTRALS[1]  # 青岛中心支公司
    people = People(nprng, 26, ("1960-01-01", "1995-12-31"), np.array(REGIONS)[nprng.integers(0, 6, 26)])
    policies, surrenders = [], []
    serial = iter(range(1, 1000))

    def add(i, *, phone, payee, account, full, channel, day, agent):
        number = f"8637{central[4:]}9{next(serial):07d}"
        premium = rng.choice([6000, 8000, 10000, 20000])
        policies.append(
            {
                "policy_no": number,
                "org_code": central,
                "name": people.names[i],
                "id_no": people.id_nos[i],
                "phone": people.phones[i] if phone != FAMILY_PHONE else FAMILY_PHONE,
                "agent": agent,
                "effective": day - dt.timedelta(days=rng.randint(400, 1500)),
                "premium": premium,
            }
        )
        paid = premium * rng.randint(2, 4)
        surrenders.append(
            {
                "policy_no": number,
                "apply_date": day,
                "surrender_date": day + dt.timedelta(days=rng.randint(1, 5)),
                "amount": paid if full else int(paid * 0.45),
                "cash_value": int(paid * 0.45),
                "full": full,
                "apply_channel": channel,
                "phone": phone,
                "payee_name": payee or people.names[i],
                "account": account or people.accounts[i],
            }
        )
        return number

    ring = []
    for i in range(12):
        day = end - dt.timedelta(days=rng.randint(0, 42))
        ring.append(
            add(
                i,
                phone=PROXY_PHONE,
                payee=PROXY_PAYEE,
                account=PROXY_ACCOUNTS[i % 2],
                full=True,
                channel="委托代办",
                day=day,
                agent=f"A{central[4:]}{rng.randint(100, 999)}",
            )
        )
    for i in range(12, 16):
        day = end - dt.timedelta(days=rng.randint(100, 300))
        add(
            i, phone=FAMILY_PHONE, payee="", account="", full=False, channel="柜面", day=day, agent="A0000001"
        )
    agent_month = end - dt.timedelta(days=200)
    for i in range(16, 26):
        day = agent_month + dt.timedelta(days=rng.randint(0, 27))
        add(
            i,
            phone=people.phones[i],
            payee="",
            account="",
            full=False,
            channel="柜面",
            day=day,
            agent="A0000002",
        )
    _append_to_book(policies, surrenders)
    cases = _ring_complaints(rng, ctx, central, ring, surrenders[:12], end)
    result = scan_run(as_of=ctx.today)
    alerts = sum(1 for c in result["clusters"] if c["score"] >= RingConfig().alert_score) + len(
        result["series_alerts"]
    )
    return {"risk_planted_policies": len(policies), "risk_ring_cases": cases, "risk_alerts": alerts}


def _append_to_book(policies: list[dict], surrenders: list[dict]) -> None:
    batch = pq.read_table(store.version_dir("policies")).column("_batch")[0].as_py()
    numbers = pa.array([p["policy_no"] for p in policies], pa.string())
    plain = pa.table(
        {
            "applicant_name": pa.array([p["name"] for p in policies], pa.string()),
            "applicant_id_no": pa.array([p["id_no"] for p in policies], pa.string()),
            "applicant_phone": pa.array([p["phone"] for p in policies], pa.string()),
            "insured_id_no": pa.array([p["id_no"] for p in policies], pa.string()),
        }
    )
    columns = _sealed("policies", plain, numbers)
    n = len(policies)
    columns.update(
        policy_no=numbers,
        org_code=pa.array([p["org_code"] for p in policies], pa.string()),
        channel=pa.array(["个险"] * n, pa.string()),
        product_code=pa.array(["P1001"] * n, pa.string()),
        product_name=pa.array(["瀚海福享终身寿险(分红型)"] * n, pa.string()),
        product_type=pa.array(["分红"] * n, pa.string()),
        agent_code=pa.array([p["agent"] for p in policies], pa.string()),
        effective_date=pa.array([p["effective"] for p in policies], pa.date32()),
        payment_mode=pa.array(["年交"] * n, pa.string()),
        payment_years=pa.array([10] * n, pa.int32()),
        annual_premium=pa.array([p["premium"] for p in policies], pa.decimal128(18, 2)),
        sum_assured=pa.array([p["premium"] * 25 for p in policies], pa.decimal128(18, 2)),
        status=pa.array(["退保"] * n, pa.string()),
        status_date=pa.array([s["surrender_date"] for s in surrenders], pa.date32()),
        _batch=pa.array([batch] * n, pa.int64()),
    )
    old = pq.read_table(store.version_dir("policies"))
    store.write_table("policies", pa.concat_tables([old, _table("policies", columns)]))

    batch = pq.read_table(store.version_dir("surrenders")).column("_batch")[0].as_py()
    keys = pa.array([f"{s['policy_no']}|{s['apply_date']}" for s in surrenders], pa.string())
    plain = pa.table(
        {
            name: pa.array([s[key] for s in surrenders], pa.string())
            for name, key in (
                ("contact_phone", "phone"),
                ("payee_name", "payee_name"),
                ("payee_account", "account"),
            )
        }
    )
    columns = _sealed("surrenders", plain, keys)
    m = len(surrenders)
    columns.update(
        policy_no=pa.array([s["policy_no"] for s in surrenders], pa.string()),
        apply_date=pa.array([s["apply_date"] for s in surrenders], pa.date32()),
        surrender_date=pa.array([s["surrender_date"] for s in surrenders], pa.date32()),
        amount=pa.array([s["amount"] for s in surrenders], pa.decimal128(18, 2)),
        cash_value=pa.array([s["cash_value"] for s in surrenders], pa.decimal128(18, 2)),
        full_refund=pa.array([s["full"] for s in surrenders], pa.bool_()),
        apply_channel=pa.array([s["apply_channel"] for s in surrenders], pa.string()),
        reason=pa.array(
            ["委托维权机构代办, 要求全额退保" if s["full"] else "资金周转" for s in surrenders], pa.string()
        ),
        _batch=pa.array([batch] * m, pa.int64()),
    )
    old = pq.read_table(store.version_dir("surrenders"))
    store.write_table("surrenders", pa.concat_tables([old, _table("surrenders", columns)]))


def _ring_complaints(
    rng, ctx, central: str, policy_nos: list[str], surrenders: list[dict], end: dt.date
) -> int:
    """Eleven 格式化信函 and one 监管转办 complaint from the proxy's phone, a week or two before each
    surrender (the ring complains first, then applies for the full refund)."""
    from django.utils import timezone

    from xiaobao.cases.services import case_create

    unit = ctx.units[central]
    for i, (policy_no, surrender) in enumerate(zip(policy_nos, surrenders, strict=True)):
        day = surrender["apply_date"] - dt.timedelta(days=rng.randint(7, 14))
        regulator = i == 11 and day.year != 2024
        case_create(
            actor=None,
            unit=unit,
            kind="投诉",
            channel="监管转办" if regulator else "信函",
            category="退保纠纷",
            description=TEMPLATE.format(
                year=day.year - rng.randint(2, 5), product=PRODUCTS[i % 3], amount=surrender["amount"]
            ),
            customer_phone=PROXY_PHONE,
            policy_no=policy_no,
            regulator_ref=f"鲁金访{day:%Y}{rng.randrange(10000):05d}" if regulator else "",
            received_at=timezone.make_aware(dt.datetime.combine(day, dt.time(9 + i % 8, 30))),
        )
    return len(policy_nos)
