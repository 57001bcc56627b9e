"""The demo branch's book: ten years of policies, premiums, surrenders and claims (演示业务数据).

About 160,000 policies at scale 1 (2016 to today) for the six 中心支公司, their premiums by policy
year, surrenders and claims, shaped like a real mid-sized branch so the KPIs come out as one would
expect: 13-month persistency around 90 %, 25-month around 85 %, 1–3 % of policies surrendered a
year (a few as full refunds, some through 委托代办, and three small rings sharing a payee account
or a phone: the 退保黑产 a later check looks for; most give the policyholder's home address as
contact address), claims paid a median 3–5 days after the papers
were complete, and some 93 % of decided claims paid.

It agrees with the cases: every policy number a demo case names is a policy here, in the case's
中心支公司, with the complainant as applicant when the case has a customer (same person, same tokens);
a 退保纠纷 complaint is often followed by that policy's surrender (complaint_ref = the case), a
理赔纠纷 complaint by a claim. A few hundred other policies belong to the demo customers too.

Everything is drawn from one numpy generator seeded from the demo seed, columns at a time, and
written straight to the store (no importer), one version per table under one "演示数据" batch each.
"""

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.utils import timezone

from xiaobao.book import personal, store
from xiaobao.book.schema import SCHEMAS
from xiaobao.demo.names import CENTRAL_SUB_BRANCHES, GIVEN, SURNAMES
from xiaobao.lib.idcard import id_check_char

POLICIES_AT_SCALE_1 = 160_000
FIRST_DAY = dt.date(2016, 1, 1)
EPOCH = np.datetime64("1970-01-01", "D")
CENTRALS = [f"8637{suffix}" for suffix, _city, _region in CENTRAL_SUB_BRANCHES]
REGIONS = [region for _suffix, _city, region in CENTRAL_SUB_BRANCHES]
CENTRAL_WEIGHTS = [0.25, 0.24, 0.15, 0.13, 0.13, 0.10]
CHANNELS = ["个险", "银保", "团险", "经代", "互联网", "电销"]
CHANNEL_WEIGHTS = [0.50, 0.29, 0.03, 0.05, 0.08, 0.05]
# code, name, type, typical annual premium (yuan), sum assured per yuan of premium
PRODUCTS = [
    ("P1001", "瀚海福享终身寿险(分红型)", "分红", 8000, 25),
    ("P1002", "瀚海鑫享年金保险", "年金", 20000, 6),
    ("P1003", "瀚海安康重大疾病保险", "健康", 5000, 60),
    ("P1004", "瀚海金账户两全保险(万能型)", "万能", 10000, 8),
    ("P1005", "瀚海护航医疗保险", "健康", 800, 500),
    ("P1006", "瀚海少儿成长年金保险", "年金", 6000, 10),
]
# Product mix per channel (rows: CHANNELS, columns: PRODUCTS).
MIX = np.array(
    [
        [0.28, 0.10, 0.30, 0.07, 0.10, 0.15],  # 个险
        [0.12, 0.48, 0.05, 0.33, 0.00, 0.02],  # 银保
        [0.00, 0.00, 0.30, 0.00, 0.70, 0.00],  # 团险
        [0.25, 0.25, 0.25, 0.10, 0.10, 0.05],  # 经代
        [0.05, 0.05, 0.20, 0.05, 0.60, 0.05],  # 互联网
        [0.20, 0.10, 0.40, 0.10, 0.20, 0.00],  # 电销
    ]
)
YEAR_WEIGHT = {2016: 0.72, 2017: 0.78, 2018: 0.83, 2019: 0.88, 2020: 0.82, 2021: 0.92, 2022: 0.95}
MONTH_WEIGHT = [2.1, 1.8, 1.6, 0.9, 0.8, 0.9, 0.8, 0.8, 0.9, 0.8, 0.8, 1.1]  # 开门红 in Q1
COOLING_OFF = 0.015  # cancelled within the cooling-off period
PAY_ON = {2: 0.935, 3: 0.955}  # probability of paying policy year y, given year y-1 was paid
PAY_LATER = 0.97
PAID_IN_30_DAYS = 0.97  # the others pay 31–60 days after the due date (inside the grace period)
GRACE_DAYS = 60
SUSPENSION_DAYS = 730  # 效力中止 for two years, then 失效
SURRENDER_HAZARD = 0.012  # a year, for policies in force
SURRENDER_INSTEAD_OF_LAPSE = 0.25  # of those who stop paying, apply for a surrender instead
CLAIM_RATE = {
    "P1001": 0.0015,
    "P1002": 0.0005,
    "P1003": 0.02,
    "P1004": 0.0015,
    "P1005": 0.15,
    "P1006": 0.0005,
}
TERMINATING = {"P1001", "P1004", "P1003"}  # a paid death or critical-illness claim ends the policy
APPLY_CHANNELS = ["柜面", "线上", "业务员代办", "委托代办"]
APPLY_WEIGHTS = [0.45, 0.30, 0.20, 0.05]
REASONS = [
    "资金周转",
    "经济困难, 无力续缴",
    "对产品收益不满意",
    "已购买其他保险",
    "家庭变故",
    "投保时对退保损失不了解",
]
RING_REASON = "委托维权机构代办, 要求全额退保"
DECISIONS = ["正常给付", "部分给付", "拒赔", "撤案"]
DECISION_WEIGHTS = [0.86, 0.06, 0.06, 0.02]
# Home addresses (联系地址 of a surrender): districts of each 中心支公司's city, and streets.
DISTRICTS = {
    "济南": ["历下区", "市中区", "槐荫区", "天桥区", "历城区"],
    "青岛": ["市南区", "市北区", "黄岛区", "崂山区", "李沧区"],
    "烟台": ["芝罘区", "福山区", "莱山区", "牟平区"],
    "潍坊": ["奎文区", "潍城区", "坊子区", "寒亭区"],
    "临沂": ["兰山区", "罗庄区", "河东区"],
    "济宁": ["任城区", "兖州区"],
}
CITIES = [city for _suffix, city, _region in CENTRAL_SUB_BRANCHES]
STREETS = ["人民路", "解放路", "建设路", "文化路", "和平路", "胜利街", "新华路", "青年路", "中山路", "东风街"]
WITH_ADDRESS = 0.7  # of surrenders give a contact address (the column is optional in the extracts)
SURNAME_CHARS = list(SURNAMES)
GIVEN_CHARS = list(GIVEN)
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])


def _days(values: Any) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[D]")


def _date(value: dt.date) -> np.datetime64:
    return np.datetime64(value, "D")


def _dates(days: np.ndarray) -> pa.Array:
    """datetime64[D] with NaT as NULL → an Arrow date32 array."""
    return pa.array(days.astype("datetime64[D]"), type=pa.date32(), from_pandas=True)


def _amounts(fen: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Integer fen → decimal(18, 2) (whose unscaled value is the fen), NULL where mask."""
    fen = np.asarray(fen, dtype=np.int64)
    words = np.empty((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = np.where(
        fen < 0, -1, 0
    )  # two's complement: the high word is all ones for a negative amount
    array = pa.Array.from_buffers(pa.decimal128(18, 2), len(fen), [None, pa.py_buffer(words.tobytes())])
    if mask is not None and mask.any():
        array = pc.if_else(pa.array(mask), pa.scalar(None, pa.decimal128(18, 2)), array)
    return array


class People:
    """A pool of fictitious people of the branch: names, 身份证号 (valid check digits), phones, accounts."""

    def __init__(self, rng: np.random.Generator, n: int, born: tuple[str, str], regions: np.ndarray) -> None:
        surname = rng.integers(0, len(SURNAME_CHARS), n)
        given1 = rng.integers(0, len(GIVEN_CHARS), n)
        given2 = np.where(rng.random(n) < 0.7, rng.integers(0, len(GIVEN_CHARS), n), -1)
        self.names = [
            SURNAME_CHARS[s] + GIVEN_CHARS[a] + (GIVEN_CHARS[b] if b >= 0 else "")
            for s, a, b in zip(surname, given1, given2, strict=True)
        ]
        first, last = (np.datetime64(d, "D") for d in born)
        birth = first + rng.integers(0, int((last - first).astype(int)), n)
        serial = rng.integers(0, 1000, n)
        births = np.datetime_as_string(birth).tolist()
        first17 = [
            f"{region}{b[:4]}{b[5:7]}{b[8:10]}{s:03d}"
            for region, b, s in zip(regions.tolist(), births, serial.tolist(), strict=True)
        ]
        self.id_nos = [f + id_check_char(f) for f in first17]
        prefixes = np.array(["138", "139", "135", "136", "150", "158", "186", "187", "177", "199"])
        self.phones = [
            p + f"{x:08d}"
            for p, x in zip(prefixes[rng.integers(0, 10, n)], rng.integers(0, 10**8, n), strict=True)
        ]
        banks = np.array(["6222", "6217", "6228", "6214", "6225"])
        self.accounts = [
            b + f"{x:015d}"
            for b, x in zip(banks[rng.integers(0, 5, n)], rng.integers(0, 10**15, n), strict=True)
        ]


def builder_for(ctx) -> "BookBuilder":
    """The simulation for a demo context (seed, today, scale), fed with the demo cases and customers."""
    from xiaobao.cases.models import Case
    from xiaobao.customers.models import Customer
    from xiaobao.privacy.services import holder_decrypt

    seed = getattr(ctx, "seed", None)
    if seed is None:
        seed = ctx.rng.getrandbits(32)
    cases = list(
        Case.objects.exclude(policy_no="")
        .order_by("pk")
        .values(
            "case_no", "policy_no", "unit__code", "customer_id", "received_at", "category", "kind", "extra"
        )
    )
    # A few hundred customers, decrypted once (seed data, shown to nobody) to write the same person
    # into the book: same values, so the same tokens.
    customers = {
        c.pk: (*(holder_decrypt(c, field) for field in ("name", "id_no", "phone", "account")), c.unit.code)
        for c in Customer.objects.select_related("subject", "unit").order_by("pk")
    }
    return BookBuilder(np.random.default_rng(seed), ctx.today, ctx.scale, cases, customers)


def build(ctx) -> dict:
    """Build the book for the demo branch (see the module docstring); returns the row counts."""
    from xiaobao.imports.models import BatchStatus, ImportBatch

    book = builder_for(ctx)
    book.build()
    counts = {}
    batches = {}
    for table in ("policies", "premiums", "surrenders", "claims"):
        batches[table] = ImportBatch.objects.create(
            kind=table,
            file_name="演示数据",
            file_sha256="",
            actor_name="演示数据生成器",
            status=BatchStatus.DONE,
            finished_at=timezone.now(),
        )
    for table, data in book.tables({t: b.pk for t, b in batches.items()}).items():
        store.write_table(table, data)
        counts[table] = data.num_rows
        batch = batches[table]
        batch.rows_read = batch.created = data.num_rows
        batch.details = {"demo": True, "records": {"created": data.num_rows}}
        batch.message = f"演示数据: 新增 {data.num_rows} 行"
        batch.save()
    return {f"book_{table}": count for table, count in counts.items()}


class BookBuilder:
    """The simulation, a column at a time. Dates are numpy datetime64[D]; amounts integer fen."""

    def __init__(self, rng: np.random.Generator, today: dt.date, scale: float, cases: list, customers: dict):
        self.rng = rng
        self.today = _date(today)
        self.today_date = today
        self.scale = scale
        self.cases = cases
        self.customers = customers

    # ------------------------------------------------------------ policies

    def build(self) -> None:
        rng = self.rng
        case_policies = self._case_policies()
        n_random = max(int(POLICIES_AT_SCALE_1 * self.scale), 200)
        eff = self._effective_dates(n_random)
        central = rng.choice(len(CENTRALS), n_random, p=CENTRAL_WEIGHTS)
        channel = rng.choice(len(CHANNELS), n_random, p=CHANNEL_WEIGHTS)
        product = self._products_by_channel(channel)
        customer_ids = np.full(n_random, -1)
        if self.customers:  # a few hundred policies of the demo customers (besides their cases')
            pool = np.array(sorted(self.customers))
            chosen = rng.choice(n_random, min(len(pool) * 2, n_random // 10), replace=False)
            customer_ids[chosen] = rng.choice(pool, len(chosen))
        # Case policies first: their numbers, units, dates and people are fixed by the cases.
        n_case = len(case_policies["policy_no"])
        self.n = n_case + n_random
        self.policy_no = np.array(
            case_policies["policy_no"] + self._numbers(eff, central, case_policies["policy_no"])
        )
        self.eff = np.concatenate([case_policies["eff"], eff])
        self.central = np.concatenate([case_policies["central"], central])
        self.channel = np.concatenate([np.zeros(n_case, dtype=int), channel])
        self.product = np.concatenate([case_policies["product"], product])
        self.customer = np.concatenate([case_policies["customer"], customer_ids])
        self.case_category = np.array(case_policies["category"] + [""] * n_random, dtype=object)
        self.case_no = np.array(case_policies["case_no"] + [""] * n_random, dtype=object)
        self.case_day = np.concatenate(
            [case_policies["day"], np.full(n_random, np.datetime64("NaT"), "datetime64[D]")]
        )
        self._terms()
        self._people()
        self._lifecycle()

    def _case_policies(self) -> dict[str, Any]:
        """One policy per policy number the demo cases name, effective one to six years before the case."""
        rng = self.rng
        seen: dict[str, dict] = {}
        for case in self.cases:
            seen.setdefault(case["policy_no"], case)
        out: dict[str, list] = {
            k: []
            for k in ("policy_no", "eff", "central", "product", "customer", "category", "case_no", "day")
        }
        codes = {p[0]: i for i, p in enumerate(PRODUCTS)}
        for number, case in seen.items():
            unit = case["unit__code"] or ""
            central = next((i for i, code in enumerate(CENTRALS) if unit.startswith(code)), None)
            if central is None:
                central = int(rng.choice(len(CENTRALS), p=CENTRAL_WEIGHTS))
            day = _date(case["received_at"].date())
            earliest = max(_date(FIRST_DAY), day - 6 * 365)
            span = max(int((day - 30 - earliest).astype(int)), 1)
            out["policy_no"].append(number)
            out["eff"].append(earliest + int(rng.integers(0, span)))
            out["central"].append(central)
            out["product"].append(codes.get((case["extra"] or {}).get("product"), int(rng.integers(0, 4))))
            out["customer"].append(case["customer_id"] if case["customer_id"] in self.customers else -1)
            out["category"].append(case["category"] if case["kind"] == "投诉" else "")
            out["case_no"].append(case["case_no"])
            out["day"].append(day)
        return {
            "policy_no": out["policy_no"],
            "eff": _days(out["eff"]) if out["eff"] else np.zeros(0, "datetime64[D]"),
            "central": np.array(out["central"], dtype=int),
            "product": np.array(out["product"], dtype=int),
            "customer": np.array(out["customer"], dtype=int),
            "category": out["category"],
            "case_no": out["case_no"],
            "day": _days(out["day"]) if out["day"] else np.zeros(0, "datetime64[D]"),
        }

    def _effective_dates(self, n: int) -> np.ndarray:
        rng = self.rng
        days = np.arange(_date(FIRST_DAY), self.today - 1, dtype="datetime64[D]")
        years = days.astype("datetime64[Y]").astype(int) + 1970
        months = days.astype("datetime64[M]").astype(int) % 12
        weight = np.array([YEAR_WEIGHT.get(y, 1.0) for y in range(2016, self.today_date.year + 1)])[
            years - 2016
        ]
        weight = weight * np.array(MONTH_WEIGHT)[months]
        return np.sort(rng.choice(days, n, p=weight / weight.sum()))

    def _products_by_channel(self, channel: np.ndarray) -> np.ndarray:
        rng = self.rng
        product = np.zeros(len(channel), dtype=int)
        for c in range(len(CHANNELS)):
            where = np.flatnonzero(channel == c)
            product[where] = rng.choice(len(PRODUCTS), len(where), p=MIX[c])
        return product

    def _numbers(self, eff: np.ndarray, central: np.ndarray, taken: Sequence[str]) -> list[str]:
        """8637 + 中支 + two-digit year + a seven-digit serial: 15 digits like the core system's."""
        years = (eff.astype("datetime64[Y]").astype(int) + 1970) % 100
        taken = set(taken)
        numbers = []
        serial: dict[tuple[int, int], int] = {}
        for c, y in zip(central.tolist(), years.tolist(), strict=True):
            key = (c, y)
            while True:
                serial[key] = serial.get(key, 0) + 1
                number = f"{CENTRALS[c]}{y:02d}{serial[key]:07d}"
                if number not in taken:
                    break
            numbers.append(number)
        return numbers

    def _terms(self) -> None:
        """Payment mode and term, premium, sum assured and agent of every policy."""
        rng = self.rng
        n = self.n
        code = np.array([p[0] for p in PRODUCTS])[self.product]
        self.product_code = code
        single = np.zeros(n, dtype=bool)
        single |= (self.channel == 1) & np.isin(code, ["P1002", "P1004"]) & (rng.random(n) < 0.55)
        single |= (self.channel == 3) & (code == "P1002") & (rng.random(n) < 0.3)
        short = code == "P1005"
        mode = rng.choice(["年交", "月交", "季交", "半年交"], n, p=[0.85, 0.08, 0.04, 0.03])
        mode = np.where(single, "趸交", np.where(short, "年交", mode))
        years = np.select(
            [code == "P1002", code == "P1003", code == "P1006", code == "P1004"],
            [
                rng.choice([3, 5, 10], n),
                rng.choice([10, 20, 30], n, p=[0.3, 0.5, 0.2]),
                rng.choice([5, 10], n),
                rng.choice([3, 5, 10], n),
            ],
            rng.choice([5, 10, 20], n, p=[0.3, 0.5, 0.2]),
        )
        years = np.where(single | short, 1, years)
        typical = np.array([p[3] for p in PRODUCTS], dtype=float)[self.product]
        premium = typical * rng.lognormal(0, 0.55, n) * np.where(single, 5.0, 1.0)
        premium = np.maximum(np.round(premium / 10) * 10, 100)
        self.mode, self.years = mode, years.astype(int)
        self.premium_fen = (premium * 100).astype(np.int64)
        ratio = np.array([p[4] for p in PRODUCTS], dtype=float)[self.product]
        assured = premium * ratio * np.where(single, 0.25, 1.0) * rng.uniform(0.8, 1.2, n)
        self.assured_fen = (np.round(assured / 1000) * 1000 * 100).astype(np.int64)
        agents = np.array(
            [f"A8637{c + 1}{a:03d}" for c, a in zip(self.central, rng.integers(0, 260, n), strict=True)]
        )
        bank = np.array(
            [f"A8637{c + 1}{900 + a:03d}" for c, a in zip(self.central, rng.integers(0, 40, n), strict=True)]
        )
        tele = np.array([f"A86379{a:03d}" for a in rng.integers(0, 60, n)])
        self.agent = np.where(self.channel == 1, bank, np.where(self.channel == 5, tele, agents)).astype(
            object
        )
        self.agent[self.channel == 4] = None  # 互联网: no agent

    def _people(self) -> None:
        """Applicants (some of them the demo customers) and insured persons (often the applicant)."""
        rng = self.rng
        n = self.n
        regions = np.array(REGIONS)[self.central]
        # Customers hold 1.3 policies on average: a person pool a little smaller than the book.
        pool = People(
            rng, int(n * 0.8) + 1, ("1950-01-01", "2000-12-31"), regions[rng.integers(0, n, int(n * 0.8) + 1)]
        )
        who = rng.integers(0, len(pool.names), n)
        names = [pool.names[i] for i in who]
        ids = [pool.id_nos[i] for i in who]
        phones = [pool.phones[i] for i in who]
        accounts = [pool.accounts[i] for i in who]
        for i in np.flatnonzero(self.customer >= 0).tolist():
            name, id_no, phone, account, _unit = self.customers[int(self.customer[i])]
            names[i], ids[i], phones[i] = name, id_no or ids[i], phone or phones[i]
            accounts[i] = account or accounts[i]
        children = People(rng, n, ("2008-01-01", "2020-12-31"), regions)
        adults = People(rng, n, ("1955-01-01", "2000-12-31"), regions)
        same = rng.random(n) < 0.6
        insured = [
            ids[i]
            if (same[i] and self.product_code[i] != "P1006")
            else (children.id_nos[i] if self.product_code[i] == "P1006" else adults.id_nos[i])
            for i in range(n)
        ]
        missing_phone = rng.random(n) < 0.03
        self.applicant_name = names
        self.applicant_id_no = ids
        self.applicant_phone = [None if m else p for p, m in zip(phones, missing_phone, strict=True)]
        self.insured_id_no = insured
        self.account = accounts

    # ------------------------------------------------------------ what happened to each policy

    def _lifecycle(self) -> None:
        """Premiums paid year by year, lapses, surrenders, claims and the resulting status."""
        rng = self.rng
        n = self.n
        today = self.today
        eff = self.eff
        regular = (self.mode != "趸交") & (self.product_code != "P1005")
        end = np.full(n, np.datetime64("NaT"), "datetime64[D]")  # the day the policy ended, if it did
        status = np.full(n, "有效", dtype=object)

        cancel = (rng.random(n) < COOLING_OFF) & (eff + 15 < today)
        end[cancel] = eff[cancel] + rng.integers(3, 16, cancel.sum())
        status[cancel] = "犹豫期撤单"

        # Year by year: who pays, who stops (and then lapses or surrenders).
        paid_years = np.ones(n, dtype=int)
        stop_day = np.full(n, np.datetime64("NaT"), "datetime64[D]")
        alive = regular & ~cancel
        received: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
        for year in range(2, int(self.years.max()) + 1):
            due = _add_years(eff, year - 1)
            asked = alive & (self.years >= year) & (due <= today)
            if not asked.any():
                continue
            pays = asked & (rng.random(n) < PAY_ON.get(year, PAY_LATER))
            late = rng.random(n) >= PAID_IN_30_DAYS
            delay = np.where(late, rng.integers(31, GRACE_DAYS + 1, n), rng.integers(-10, 31, n))
            got = due + delay
            pays &= got <= today
            received.append((np.flatnonzero(pays), year, due[pays], got[pays]))
            paid_years[pays] = year
            stops = asked & ~pays & (due + GRACE_DAYS < today)
            stop_day[stops] = due[stops]
            alive &= ~stops
        self.received = received
        self.paid_years = paid_years

        # Those who stopped paying: most lapse (效力中止, then 失效), some surrender instead.
        stopped = ~np.isnat(stop_day)
        surrender_day = np.full(n, np.datetime64("NaT"), "datetime64[D]")
        instead = stopped & (rng.random(n) < SURRENDER_INSTEAD_OF_LAPSE)
        surrender_day[instead] = stop_day[instead] + rng.integers(0, GRACE_DAYS, instead.sum())
        lapsed = stopped & ~instead
        suspended_until = stop_day + GRACE_DAYS + SUSPENSION_DAYS
        status[lapsed & (suspended_until > today)] = "效力中止"
        gone = lapsed & (suspended_until <= today)
        status[gone] = "失效"
        end[lapsed] = np.where(
            status[lapsed] == "失效", suspended_until[lapsed], stop_day[lapsed] + GRACE_DAYS
        )

        # Surrenders of policies in force, at a constant yearly hazard (a little higher for 银保 趸交).
        hazard = np.where(self.mode == "趸交", SURRENDER_HAZARD * 1.6, SURRENDER_HAZARD)
        wait = rng.exponential(1 / hazard) * 365.25
        candidate = eff + 30 + wait.astype(int)
        in_force = ~cancel & ~stopped & (self.product_code != "P1005")
        chosen = in_force & (candidate <= today)
        surrender_day[chosen] = candidate[chosen]
        # A 退保纠纷 complaint: the policy is surrendered a few weeks after it, seven times in ten.
        complained = (self.case_category == "退保纠纷") & ~np.isnat(self.case_day) & ~cancel
        follow = complained & (rng.random(n) < 0.7) & (self.case_day + 20 < today)
        surrender_day[follow] = self.case_day[follow] + rng.integers(5, 20, follow.sum())
        # Nothing happens after a policy's end: the earliest event wins.
        surrendered = ~np.isnat(surrender_day) & (surrender_day <= today) & ~cancel
        surrendered &= np.isnat(end) | (surrender_day < end) | instead | follow
        status[surrendered] = "退保"
        end[surrendered] = surrender_day[surrendered]
        self.surrendered = surrendered
        self.complaint_ref = np.where(follow & surrendered, self.case_no, None)

        # One-year medical policies mature; paid-up long-term ones stay in force.
        short = self.product_code == "P1005"
        matures = short & ~cancel & ~surrendered & (_add_years(eff, 1) <= today)
        status[matures] = "满期"
        end[matures] = _add_years(eff, 1)[matures]

        self.status = status
        self.end = end
        self._claims()
        # Premiums stop at the end: drop payments received after a policy ended.
        self.received = [
            (idx[keep], year, due[keep], got[keep])
            for idx, year, due, got in self.received
            for keep in [np.isnat(self.end[idx]) | (got < self.end[idx])]
        ]

    def _claims(self) -> None:
        """Claims during each policy's life; a paid death or critical-illness claim ends the policy."""
        rng = self.rng
        n = self.n
        today = self.today
        start = self.eff + 30
        stop = np.where(np.isnat(self.end), today, self.end)
        life_years = np.maximum((stop - start).astype(int), 0) / 365.25
        rate = np.array([CLAIM_RATE[c] for c in self.product_code])
        count = rng.poisson(rate * life_years)
        count = np.minimum(count, 3)
        count[self.status == "犹豫期撤单"] = 0
        # A 理赔纠纷 complaint has a claim behind it.
        disputed = (self.case_category == "理赔纠纷") & ~np.isnat(self.case_day)
        count[disputed] = np.maximum(count[disputed], 1)
        idx = np.repeat(np.arange(n), count)
        m = len(idx)
        span = np.maximum((stop[idx] - start[idx]).astype(int), 1)
        report = start[idx] + (rng.random(m) * span).astype(int)
        first_of = np.r_[True, idx[1:] != idx[:-1]]
        dispute = disputed[idx] & first_of
        report[dispute] = np.minimum(
            self.case_day[idx][dispute] - rng.integers(10, 40, dispute.sum()), today - 1
        )
        report = np.maximum(report, self.eff[idx])
        docs = report + rng.geometric(0.3, m) - 1
        complex_ = np.isin(self.product_code[idx], ["P1003", "P1001", "P1004"])
        days = np.round(rng.lognormal(np.where(complex_, 1.4, 0.6), 0.6, m)).astype(int)
        slow = rng.random(m) < 0.03  # appraisals and investigations
        days[slow] += rng.integers(15, 40, slow.sum())
        decision_day = docs + days
        pay_day = decision_day + rng.integers(0, 3, m)
        decision = rng.choice(DECISIONS, m, p=DECISION_WEIGHTS).astype(object)
        decision[dispute & (rng.random(m) < 0.5)] = "拒赔"
        pending = decision_day > today
        decision[pending] = None
        paid = np.isin(decision, PAID_CHOICES)
        decision_day = np.where(pending, np.datetime64("NaT"), decision_day)
        pay_day = np.where(paid & (pay_day <= today), pay_day, np.datetime64("NaT"))
        assured = self.assured_fen[idx]
        claimed = np.where(
            self.product_code[idx] == "P1005",
            (np.round(rng.lognormal(np.log(6000), 0.9, m) / 10) * 1000).astype(np.int64),
            assured,
        )
        paid_amount = np.where(
            decision == "部分给付", (claimed * rng.uniform(0.4, 0.8, m)).astype(np.int64), claimed
        )
        self.claims = {
            "policy": idx,
            "report": report,
            "docs": docs,
            "decision_day": decision_day,
            "pay_day": pay_day,
            "decision": decision,
            "claimed": claimed,
            "paid": np.where(~np.isnat(pay_day), paid_amount, -1),
        }
        # A paid death or critical-illness claim terminates the policy (理赔终止).
        ends = (
            (decision == "正常给付") & ~np.isnat(pay_day) & np.isin(self.product_code[idx], list(TERMINATING))
        )
        ends &= (self.product_code[idx] != "P1003") | (rng.random(m) < 0.6)
        for j in np.flatnonzero(ends):
            p = idx[j]
            if self.status[p] in ("有效", "效力中止") and (np.isnat(self.end[p]) or pay_day[j] < self.end[p]):
                self.status[p] = "理赔终止"
                self.end[p] = pay_day[j]
                self.surrendered[p] = False

    # ------------------------------------------------------------ tables

    def tables(self, batches: dict[str, int]) -> dict[str, pa.Table]:
        return {
            "policies": self._policies(batches["policies"]),
            "premiums": self._premiums(batches["premiums"]),
            "surrenders": self._surrenders(batches["surrenders"]),
            "claims": self._claims_table(batches["claims"]),
        }

    def _policies(self, batch: int) -> pa.Table:
        n = self.n
        numbers = pa.array(self.policy_no.tolist(), pa.string())
        plain = pa.table(
            {
                "applicant_name": pa.array(self.applicant_name, pa.string()),
                "applicant_id_no": pa.array(self.applicant_id_no, pa.string()),
                "applicant_phone": pa.array(self.applicant_phone, pa.string()),
                "insured_id_no": pa.array(self.insured_id_no, pa.string()),
            }
        )
        columns = _sealed("policies", plain, numbers)
        status_date = np.where(self.status == "有效", np.datetime64("NaT"), self.end)
        columns.update(
            policy_no=numbers,
            org_code=pa.array(np.array(CENTRALS)[self.central].tolist(), pa.string()),
            channel=pa.array(np.array(CHANNELS)[self.channel].tolist(), pa.string()),
            product_code=pa.array(self.product_code.tolist(), pa.string()),
            product_name=pa.array(np.array([p[1] for p in PRODUCTS])[self.product].tolist(), pa.string()),
            product_type=pa.array(np.array([p[2] for p in PRODUCTS])[self.product].tolist(), pa.string()),
            agent_code=pa.array(self.agent.tolist(), pa.string()),
            effective_date=_dates(self.eff),
            payment_mode=pa.array(self.mode.tolist(), pa.string()),
            payment_years=pa.array(self.years, pa.int32()),
            annual_premium=_amounts(self.premium_fen),
            sum_assured=_amounts(self.assured_fen),
            status=pa.array(self.status.tolist(), pa.string()),
            status_date=_dates(status_date),
            _batch=pa.array(np.full(n, batch, dtype=np.int64)),
        )
        return _table("policies", columns)

    def _premiums(self, batch: int) -> pa.Table:
        rng = self.rng
        first = np.ones(
            self.n, dtype=bool
        )  # every policy paid its first premium (a cancelled one got it back)
        idx = [np.flatnonzero(first)]
        years = [np.ones(len(idx[0]), dtype=int)]
        due = [self.eff[first]]
        got = [self.eff[first] - rng.integers(0, 3, len(idx[0]))]
        for where, year, d, g in self.received:
            idx.append(where)
            years.append(np.full(len(where), year))
            due.append(d)
            got.append(g)
        idx_all = np.concatenate(idx)
        return _table(
            "premiums",
            {
                "policy_no": pa.array(self.policy_no[idx_all].tolist(), pa.string()),
                "policy_year": pa.array(np.concatenate(years), pa.int32()),
                "due_date": _dates(np.concatenate(due)),
                "received_date": _dates(np.concatenate(got)),
                "amount": _amounts(self.premium_fen[idx_all]),
                "_batch": pa.array(np.full(len(idx_all), batch, dtype=np.int64)),
            },
        )

    def _surrenders(self, batch: int) -> pa.Table:
        rng = self.rng
        idx = np.flatnonzero(self.surrendered & (self.status == "退保"))
        m = len(idx)
        surrender_day = self.end[idx]
        apply_day = surrender_day - rng.integers(0, 6, m)
        apply_day = np.maximum(apply_day, self.eff[idx])
        paid = np.array([self._premiums_paid(i) for i in idx], dtype=np.int64)
        age = ((surrender_day - self.eff[idx]).astype(int) / 365.25).astype(int) + 1
        factor = np.minimum(0.15 + 0.12 * age, 0.95)
        cash = (paid * factor).astype(np.int64)
        channel = rng.choice(APPLY_CHANNELS, m, p=APPLY_WEIGHTS).astype(object)
        full = rng.random(m) < 0.02
        complaint = np.array([self.complaint_ref[i] for i in idx], dtype=object)
        full |= (complaint != None) & (rng.random(m) < 0.3)  # noqa: E711 - numpy elementwise
        phone = [self.applicant_phone[i] for i in idx]
        payee = [self.applicant_name[i] for i in idx]
        account = [self.account[i] for i in idx]
        address = [home_address(self.applicant_id_no[i], int(self.central[i])) for i in idx]
        reason = rng.choice(REASONS, m).astype(object)
        self._rings(rng, idx, surrender_day, channel, full, phone, account, reason)
        amount = np.where(full, paid, cash)
        numbers = pa.array(self.policy_no[idx].tolist(), pa.string())
        keys = pc.binary_join_element_wise(numbers, pc.cast(_dates(apply_day), pa.string()), "|")
        plain = pa.table(
            {
                "contact_phone": pa.array(phone, pa.string()),
                "payee_name": pa.array(payee, pa.string()),
                "payee_account": pa.array(account, pa.string()),
                "contact_address": pa.array(address, pa.string()),
            }
        )
        columns = _sealed("surrenders", plain, keys)
        columns.update(
            policy_no=numbers,
            apply_date=_dates(apply_day),
            surrender_date=_dates(surrender_day),
            amount=_amounts(amount),
            cash_value=_amounts(cash),
            full_refund=pa.array(full, pa.bool_()),
            apply_channel=pa.array(channel.tolist(), pa.string()),
            reason=pa.array(reason.tolist(), pa.string()),
            complaint_ref=pa.array(complaint.tolist(), pa.string()),
            _batch=pa.array(np.full(m, batch, dtype=np.int64)),
        )
        return _table("surrenders", columns)

    def _premiums_paid(self, i: int) -> int:
        return int(self.premium_fen[i]) * int(self.paid_years[i])

    def _rings(self, rng, idx, day, channel, full, phone, account, reason) -> None:
        """Three small 退保黑产 rings in the last two years: different policyholders' surrenders through
        委托代办, as full refunds, sharing one agent's phone or one payee account."""
        recent = np.flatnonzero(day >= self.today - 730)
        if len(recent) < 30:
            return
        members = rng.choice(recent, min(len(recent), 3 * 12), replace=False)
        for r, group in enumerate(np.array_split(members, 3)):
            group = group[: 6 + 3 * r]
            ring_phone = f"1370000{rng.integers(0, 10**4):04d}"
            ring_account = f"6230{rng.integers(0, 10**15):015d}"
            for j in group:
                channel[j] = "委托代办"
                full[j] = True
                reason[j] = RING_REASON
                phone[j] = ring_phone
                if r != 1:  # one ring shares only the phone
                    account[j] = ring_account

    def _claims_table(self, batch: int) -> pa.Table:
        c = self.claims
        m = len(c["policy"])
        numbers = self.policy_no[c["policy"]]
        years = (c["report"].astype("datetime64[Y]").astype(int) + 1970).tolist()
        claim_no = [f"LP{y}{i:07d}" for i, y in enumerate(years, start=1)]
        paid = c["paid"]
        return _table(
            "claims",
            {
                "claim_no": pa.array(claim_no, pa.string()),
                "policy_no": pa.array(numbers.tolist(), pa.string()),
                "report_date": _dates(c["report"]),
                "docs_complete_date": _dates(c["docs"]),
                "decision_date": _dates(c["decision_day"]),
                "payment_date": _dates(c["pay_day"]),
                "decision": pa.array(c["decision"].tolist(), pa.string()),
                "claimed_amount": _amounts(c["claimed"]),
                "paid_amount": _amounts(np.maximum(paid, 0), mask=paid < 0),
                "_batch": pa.array(np.full(m, batch, dtype=np.int64)),
            },
        )


PAID_CHOICES = ["正常给付", "部分给付"]


def home_address(id_no: str, central: int) -> str | None:
    """A policyholder's home address in their 中心支公司's city, or None (WITH_ADDRESS of them have
    one). Drawn from a hash of the ID number, not from the generator: the same person has the same
    address on every surrender, and the generator's stream (every other column) stays as it was."""
    draw = int.from_bytes(hashlib.blake2b(id_no.encode(), digest_size=8, person=b"demo-addr").digest())
    if draw % 1000 >= WITH_ADDRESS * 1000:
        return None
    draw //= 1000
    city = CITIES[central]
    districts = DISTRICTS[city]
    district, draw = districts[draw % len(districts)], draw // len(districts)
    street, draw = STREETS[draw % len(STREETS)], draw // len(STREETS)
    number, draw = draw % 300 + 1, draw // 300
    building, draw = draw % 20 + 1, draw // 20
    unit, draw = draw % 4 + 1, draw // 4
    room = (draw % 18 + 1) * 100 + draw // 18 % 4 + 1
    return f"山东省{city}市{district}{street}{number}号{building}号楼{unit}单元{room}室"


def _add_years(days: np.ndarray, years: int) -> np.ndarray:
    """The same day `years` later (29 February → 28 February)."""
    ymd = days.astype("datetime64[M]")
    day_of_month = (days - ymd.astype("datetime64[D]")).astype(int)
    target = (ymd + 12 * years).astype("datetime64[D]")
    month_end = ((ymd + 12 * years + 1).astype("datetime64[D]") - 1 - target).astype(int)
    return target + np.minimum(day_of_month, month_end)


def _sealed(table: str, plain: pa.Table, keys: pa.Array) -> dict[str, pa.Array]:
    from xiaobao.privacy.keys import system_key

    arrays = {name: plain.column(name).combine_chunks() for name in plain.column_names}
    columns = personal.derive(table, arrays, system_key("token"))
    key = personal.store_key()
    for name, array in arrays.items():
        columns[f"{name}_enc"] = personal.seal_column(table, name, array, keys, key=key)
    return columns


def _table(table: str, columns: dict[str, pa.Array]) -> pa.Table:
    schema = SCHEMAS[table]
    n = len(next(iter(columns.values())))
    arrays = [columns[f.name].cast(f.type) if f.name in columns else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)
