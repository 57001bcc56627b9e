"""Demo 退保黑产 for the risk app, planted in the demo book and cases among innocent coincidences,
then one scan as of today.

Planted in place, so the book keeps its rows and policy numbers and the case book its counts:
- the proxy ring: the surrenders of twelve policyholders in the two years before today, rewritten as
  委托代办 full refunds that give one contact phone (the proxy's), paid into two accounts held by
  the proxy's associate 钱志强; up to twelve of the demo's complaints since 2025 (never 监管转办, so
  2024 keeps its empty regulator channel and the yearly regulator counts do not move) become one
  template letter about those policies, logged with the proxy as the caller;
- the mailing-address ring: eight other policyholders' surrenders within a few weeks, rewritten as
  委托代办 full refunds paid to the policyholders themselves, each giving their own phone but all
  one 维权 agency's mailing address (written four ways, one token): found through the address alone;
- decoy, a family: four surrenders of one 中心支公司 giving the same home phone, ordinary refunds paid
  to the policyholders themselves;
- decoy, a couple: two policyholders' surrenders giving their one home address (two policyholders
  are below the minimum a token needs to link);
- decoy, agents' ordinary customers: the book has them already (an agent sells dozens of policies).
The book's own three small rings (xiaobao.book.demo) are there too. Volumes do not depend on `scale`.
"""

import datetime as dt
import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaobao.book import store
from xiaobao.book.demo import _sealed

PROXY_ACCOUNTS = ["6217001234566789", "6228009876544321"]
PROXY_PAYEE = "钱志强"
FAMILY_PHONE = "13953112233"
RING_SIZE = 12
# The agency's mailing address, as its clients wrote it on their applications.
AGENCY_ADDRESS = [
    "山东省济南市历下区泉城路188号金融大厦1203室",
    "山东省济南市历下区泉城路 188 号 金融大厦 1203 室",
    "山东省济南市历下区泉城路１８８号金融大厦１２０３室。",
    "山东省济南市历下区泉城路188#金融大厦1203室",
]
ADDRESS_RING_SIZE = 8
COUPLE_ADDRESS = "山东省烟台市芝罘区南大街8号2单元502室"
TEMPLATE = (
    "尊敬的保险公司领导: 本人于{year}年经贵公司业务员推销购买{product}, 业务员在销售过程中夸大收益、"
    "承诺保本高息, 隐瞒现金价值和退保损失, 未履行《保险法》第十七条规定的明确说明义务, 属于销售误导。"
    "现本人要求解除合同并全额退还已交保费, 请于七日内书面答复, 否则本人将向国家金融监督管理总局及"
    "12378热线投诉, 并保留追究法律责任的权利。(保单号 {policy_no})"
)
PRODUCTS = ["瀚海福享终身寿险(分红型)", "瀚海鑫享年金保险", "瀚海金账户两全保险(万能型)"]


def build(ctx) -> dict:
    from xiaobao.risk.rings import RingConfig
    from xiaobao.risk.services import scan_run

    if not store.current_version("policies") or not store.current_version("surrenders"):
        return {}
    rng = random.Random(f"{ctx.seed}:risk")
    planted = _plant(rng, ctx.today)
    result = scan_run(as_of=ctx.today)
    rings = sum(1 for c in result["clusters"] if c["score"] >= RingConfig().alert_score)
    return {**planted, "risk_ring_alerts": rings, "risk_series_alerts": len(result["series_alerts"])}


def _plant(rng: random.Random, today: dt.date) -> dict:
    from xiaobao.cases.models import Case
    from xiaobao.privacy.services import holder_decrypt

    surrenders = pq.read_table(store.version_dir("surrenders"))
    policies = pq.read_table(
        store.version_dir("policies"), columns=["policy_no", "org_code", "applicant_id_no_token"]
    )
    org = dict(
        zip(policies.column("policy_no").to_pylist(), policies.column("org_code").to_pylist(), strict=True)
    )
    holder = dict(
        zip(
            policies.column("policy_no").to_pylist(),
            policies.column("applicant_id_no_token").to_pylist(),
            strict=True,
        )
    )
    numbers = surrenders.column("policy_no").to_pylist()
    days = surrenders.column("apply_date").to_pylist()
    channels = surrenders.column("apply_channel").to_pylist()
    refs = surrenders.column("complaint_ref").to_pylist()
    # Candidates: surrenders of the last two years, not already a 委托代办 (the book's rings), not the
    # follow-up of a complaint.
    since = today - dt.timedelta(days=730)
    candidates = [
        i
        for i in range(len(numbers))
        if since <= days[i] <= today - dt.timedelta(days=30) and channels[i] != "委托代办" and not refs[i]
    ]
    rng.shuffle(candidates)
    ring = sorted(candidates[:RING_SIZE], key=lambda i: days[i])
    # The proxy's complaints: demo complaints since 2025 outside the regulator channel.
    complaints = list(
        Case.objects.filter(kind="投诉", received_at__date__gte=dt.date(2025, 1, 1), merged_into=None)
        .exclude(channel="监管转办")
        .exclude(customer=None)
        .select_related("customer", "unit")
        .order_by("received_at", "pk")[: RING_SIZE + 1]
    )
    if len(ring) < RING_SIZE or len(complaints) < 2:
        return {}
    # The proxy is the caller of the first of them; his phone is the one on every ring surrender.
    proxy = complaints[0].customer
    proxy_phone = holder_decrypt(proxy, "phone")
    letters = complaints[1:]
    family_pool = [i for i in candidates[RING_SIZE:] if org.get(numbers[i]) == org.get(numbers[ring[0]])]
    family = family_pool[:4]
    rest = [i for i in candidates[RING_SIZE:] if i not in family]
    by_address = _address_ring(rest, numbers, days, holder)
    couple = _distinct_holders([i for i in rest if i not in by_address], numbers, holder, 2)
    addresses = {i: AGENCY_ADDRESS[k % len(AGENCY_ADDRESS)] for k, i in enumerate(by_address)}
    addresses.update(dict.fromkeys(couple, COUPLE_ADDRESS))
    changed = {i: (proxy_phone, PROXY_PAYEE, PROXY_ACCOUNTS[k % 2]) for k, i in enumerate(ring)}
    _rewrite(surrenders, changed, family, addresses, set(by_address))
    for k, case in enumerate(letters):
        i = ring[k % RING_SIZE]
        Case.objects.filter(pk=case.pk).update(
            customer=proxy,
            description=TEMPLATE.format(
                year=days[i].year - rng.randint(2, 5), product=PRODUCTS[k % 3], policy_no=numbers[i]
            ),
        )
    return {
        "risk_ring_surrenders": len(ring),
        "risk_ring_letters": len(letters),
        "risk_family": len(family),
        "risk_address_ring": len(by_address),
        "risk_couple": len(couple),
    }


def _distinct_holders(rows: list[int], numbers: list, holder: dict, n: int) -> list[int]:
    """The first `n` of `rows` with policyholders of their own."""
    seen, out = set(), []
    for i in rows:
        who = holder.get(numbers[i])
        if who and who not in seen:
            seen.add(who)
            out.append(i)
        if len(out) == n:
            break
    return out


def _address_ring(rows: list[int], numbers: list, days: list, holder: dict) -> list[int]:
    """ADDRESS_RING_SIZE surrenders of different policyholders applied for close together: the run
    of them, in date order, spanning the fewest days (a ring works in a burst)."""
    ordered = _distinct_holders(sorted(rows, key=lambda i: (days[i], numbers[i])), numbers, holder, len(rows))
    size = ADDRESS_RING_SIZE
    if len(ordered) < size:
        return []
    start = min(
        range(len(ordered) - size + 1), key=lambda k: (days[ordered[k + size - 1]] - days[ordered[k]], k)
    )
    return ordered[start : start + size]


def _rewrite(
    surrenders: pa.Table,
    ring: dict[int, tuple[str, str, str]],
    family: list[int],
    addresses: dict[int, str],
    by_address: set[int],
) -> None:
    """A new version of the surrenders table: the rows of the ring, the family, the address ring and
    the couple rewritten (personal values sealed again), every other row as it was."""
    from xiaobao.lib.address import normalize_address

    # replace_with_mask takes the new values in row order.
    rows = sorted(set(ring) | set(family) | set(addresses))
    n = surrenders.num_rows
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    numbers = surrenders.column("policy_no").to_pylist()
    days = surrenders.column("apply_date").to_pylist()
    phone, payee, account = [], [], []
    for i in rows:
        if i in ring:
            phone.append(ring[i][0])
            payee.append(ring[i][1])
            account.append(ring[i][2])
        elif i in family:  # their own payee and account stay; only the phone is the home phone
            phone.append(FAMILY_PHONE)
            payee.append(None)
            account.append(None)
        else:  # the address ring and the couple: only the address changes
            phone.append(None)
            payee.append(None)
            account.append(None)
    keys = pa.array([f"{numbers[i]}|{days[i]}" for i in rows], pa.string())
    plain = pa.table(
        {
            "contact_phone": pa.array(phone, pa.string()),
            "payee_name": pa.array(payee, pa.string()),
            "payee_account": pa.array(account, pa.string()),
            "contact_address": pa.array(
                [normalize_address(addresses[i]) if i in addresses else None for i in rows], pa.string()
            ),
        }
    )
    sealed = _sealed("surrenders", plain, keys)
    is_ring = np.array([i in ring for i in rows])
    # Which rows take each new personal column; the others keep their stored values.
    takes = {
        "contact_phone": np.array([i in ring or i in family for i in rows]),
        "payee_name": is_ring,
        "payee_account": is_ring,
        "contact_address": np.array([i in addresses for i in rows]),
    }
    proxied = is_ring | np.array([i in by_address for i in rows])  # 委托代办 full refunds
    columns = {}
    for name in surrenders.column_names:
        column = surrenders.column(name).combine_chunks()
        if name in sealed:
            keep = column.take(pa.array(rows))
            new = pc.if_else(pa.array(takes[name.rsplit("_", 1)[0]]), sealed[name].cast(column.type), keep)
            column = pc.replace_with_mask(column, pa.array(mask), new.cast(column.type))
        elif name == "full_refund":
            column = pc.replace_with_mask(
                column, pa.array(mask), pa.array(proxied | _was(column, rows, ~proxied))
            )
        elif name == "apply_channel":
            kept = column.take(pa.array(rows)).to_pylist()
            values = [
                "委托代办" if p else ("柜面" if i in family else kept[k])
                for k, (i, p) in enumerate(zip(rows, proxied, strict=True))
            ]
            column = pc.replace_with_mask(column, pa.array(mask), pa.array(values, column.type))
        elif name == "reason":
            kept = column.take(pa.array(rows)).to_pylist()
            values = ["委托维权机构代办, 要求全额退保" if r else kept[k] for k, r in enumerate(proxied)]
            column = pc.replace_with_mask(column, pa.array(mask), pa.array(values, column.type))
        columns[name] = column
    store.write_table("surrenders", pa.table(columns, schema=surrenders.schema))


def _was(column: pa.Array, rows: list[int], where: np.ndarray) -> np.ndarray:
    """The old boolean values of `rows`, where `where`; False elsewhere."""
    old = np.array([bool(v) for v in column.take(pa.array(rows)).to_pylist()])
    return old & where
