"""A deterministic synthetic book (policies, premiums, surrenders, claims) as Arrow tables, built
with numpy column operations so that it scales from a few thousand policies (the parity test) to
millions (bench/kpi_bench.py). Not realistic in detail; it exercises every branch of the KPIs:
every channel and payment mode, lapses, cooling-off cancellations, claim terminations, late
premiums, full refunds, pending and withdrawn claims."""

import numpy as np
import pyarrow as pa

from xiaobao.book.schema import SCHEMAS

CHANNELS = np.array(["个险", "银保", "团险", "经代", "互联网", "电销"])
CHANNEL_P = [0.45, 0.2, 0.05, 0.1, 0.12, 0.08]
MODES = np.array(["趸交", "年交", "半年交", "季交", "月交"])
MODE_P = [0.2, 0.6, 0.05, 0.05, 0.1]
STATUSES = np.array(["有效", "退保", "犹豫期撤单", "满期", "理赔终止", "失效", "效力中止"])
STATUS_P = [0.7, 0.1, 0.03, 0.02, 0.02, 0.1, 0.03]
DECISIONS = np.array(["正常给付", "部分给付", "拒赔", "撤案"])
DECISION_P = [0.75, 0.1, 0.1, 0.05]
APPLY = np.array(["柜面", "线上", "业务员代办", "委托代办"])
PRODUCT_TYPES = np.array(["普通寿险", "年金", "分红", "万能", "投连", "健康", "意外"])

EPOCH = np.datetime64("1970-01-01")


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype("datetime64[D]"), pa.date32())


def _amounts(yuan: np.ndarray) -> pa.Array:
    return pa.array(np.round(yuan, 2)).cast(pa.decimal128(18, 2))


def _add_years(days: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Anniversaries: the same month and day `years` later (29 Feb → 28 Feb), as datetime64[D]."""
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    day_of_month = (d - months.astype("datetime64[D]")).astype(int)
    target = months + (12 * years).astype("timedelta64[M]")
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(int)
    return target.astype("datetime64[D]") + np.minimum(day_of_month, month_len - 1)


def generate(
    n: int,
    *,
    seed: int = 7,
    org_codes=("C1", "C2", "C1KF"),
    start="2019-01-01",
    end="2024-12-31",
    batch: int = 1,
) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    first, last = np.datetime64(start), np.datetime64(end)
    span = int((last - first).astype(int))

    # -- policies
    eff = first + rng.integers(0, span + 1, n).astype("timedelta64[D]")
    channel = rng.choice(CHANNELS, n, p=CHANNEL_P)
    mode = rng.choice(MODES, n, p=MODE_P)
    years = np.where(mode == "趸交", 1, rng.choice([1, 3, 5, 10, 20], n, p=[0.05, 0.15, 0.3, 0.3, 0.2]))
    annual = np.round(rng.lognormal(8.0, 0.8, n), 2)
    status = rng.choice(STATUSES, n, p=STATUS_P)
    ended_after = rng.integers(1, 1500, n)
    status_day = eff + ended_after.astype("timedelta64[D]")
    status_day = np.where(
        status == "犹豫期撤单", eff + rng.integers(1, 15, n).astype("timedelta64[D]"), status_day
    )
    status_day = np.minimum(status_day, last)
    has_status_date = status != "有效"
    persons = max(1, int(n * 0.8))
    person = rng.integers(0, persons, n)
    no = np.char.add("P", np.char.zfill(np.arange(n).astype(str), 8))
    product = rng.integers(1, 21, n)
    agent = rng.integers(1, max(2, n // 40), n)
    policies = pa.table(
        {
            "policy_no": pa.array(no),
            "org_code": pa.array(rng.choice(np.array(org_codes), n)),
            "channel": pa.array(channel),
            "product_code": pa.array(np.char.add("PR", np.char.zfill(product.astype(str), 3))),
            "product_name": pa.array(np.char.add("产品", product.astype(str))),
            "product_type": pa.array(PRODUCT_TYPES[product % len(PRODUCT_TYPES)]),
            "agent_code": pa.array(
                np.char.add("A", np.char.zfill(agent.astype(str), 5)), mask=rng.random(n) < 0.05
            ),
            "applicant_name_masked": pa.array(np.full(n, "张*三")),
            "insured_id_no_token": pa.array(np.char.add("T", person.astype(str)), mask=rng.random(n) < 0.02),
            "effective_date": _dates(eff),
            "payment_mode": pa.array(mode),
            "payment_years": pa.array(years.astype(np.int32), mask=rng.random(n) < 0.03),
            "annual_premium": _amounts(annual),
            "sum_assured": pa.array(
                np.round(annual * rng.integers(5, 50, n), 2), mask=rng.random(n) < 0.05
            ).cast(pa.decimal128(18, 2)),
            "status": pa.array(status),
            "status_date": pa.array(status_day.astype("datetime64[D]"), pa.date32(), mask=~has_status_date),
            "_batch": pa.array(np.full(n, batch, dtype=np.int64)),
        }
    )

    # -- premiums: one row per policy year due by `end`, until the policy ended; some late, some unpaid
    regular = mode != "趸交"
    count = np.where(regular, np.minimum(years, 6), 1)
    idx = np.repeat(np.arange(n), count)
    year = _ranks(count)
    due = _add_years(eff[idx], year - 1)
    ended = np.where(has_status_date[idx] & (status[idx] != "效力中止"), status_day[idx], last + 1)
    lag = rng.choice([0, 5, 20, 45, 75], idx.size, p=[0.5, 0.25, 0.12, 0.08, 0.05])
    received = due + lag.astype("timedelta64[D]")
    keep = (due <= last) & (received <= last) & (due < ended) & (rng.random(idx.size) > 0.04)
    keep |= year == 1
    idx, year, due, received = idx[keep], year[keep], due[keep], np.minimum(received[keep], last)
    premiums = pa.table(
        {
            "policy_no": pa.array(no[idx]),
            "policy_year": pa.array(year.astype(np.int32)),
            "due_date": _dates(due),
            "received_date": _dates(received),
            "amount": _amounts(annual[idx] * rng.choice([1.0, 1.0, 1.0, 0.5], idx.size)),
            "_batch": pa.array(np.full(idx.size, batch, dtype=np.int64)),
        }
    )

    # -- surrenders: every 退保 policy, on its status date
    s = np.flatnonzero(status == "退保")
    apply_day = status_day[s] - rng.integers(0, 10, s.size).astype("timedelta64[D]")
    cash = np.round(annual[s] * rng.uniform(0.2, 3.0, s.size), 2)
    full = rng.random(s.size) < 0.12
    surrenders = pa.table(
        {
            "policy_no": pa.array(no[s]),
            "apply_date": _dates(apply_day),
            "surrender_date": _dates(status_day[s]),
            "amount": _amounts(np.where(full, annual[s] * 2, cash)),
            "cash_value": _amounts(cash),
            "full_refund": pa.array(full, mask=rng.random(s.size) < 0.05),
            "apply_channel": pa.array(rng.choice(APPLY, s.size)),
            "payee_name_masked": pa.array(np.full(s.size, "李*四")),
            "reason": pa.array(np.full(s.size, "资金需求")),
            "_batch": pa.array(np.full(s.size, batch, dtype=np.int64)),
        }
    )

    # -- claims: ~4 % of policies, some pending (no decision), withdrawn, declined (no payment)
    c = np.flatnonzero(rng.random(n) < 0.04)
    report = np.maximum(eff[c], last - rng.integers(0, 900, c.size).astype("timedelta64[D]"))
    docs = report + rng.integers(0, 20, c.size).astype("timedelta64[D]")
    decision_day = docs + rng.integers(0, 35, c.size).astype("timedelta64[D]")
    decision = rng.choice(DECISIONS, c.size, p=DECISION_P)
    pending = (decision_day > last) | (rng.random(c.size) < 0.03)
    paid = np.isin(decision, ["正常给付", "部分给付"]) & ~pending
    pay_day = decision_day + rng.integers(0, 16, c.size).astype("timedelta64[D]")
    paid &= pay_day <= last
    amount = np.round(rng.lognormal(8.5, 1.0, c.size), 2)
    claims = pa.table(
        {
            "claim_no": pa.array(np.char.add("C", np.char.zfill(np.arange(c.size).astype(str), 8))),
            "policy_no": pa.array(no[c]),
            "report_date": _dates(report),
            "docs_complete_date": _dates(np.minimum(docs, last)),
            "decision_date": pa.array(decision_day.astype("datetime64[D]"), pa.date32(), mask=pending),
            "payment_date": pa.array(pay_day.astype("datetime64[D]"), pa.date32(), mask=~paid),
            "decision": pa.array(decision, mask=pending),
            "claimed_amount": _amounts(amount),
            "paid_amount": pa.array(np.round(amount * 0.9, 2), mask=~paid).cast(pa.decimal128(18, 2)),
            "_batch": pa.array(np.full(c.size, batch, dtype=np.int64)),
        }
    )
    out = {"policies": policies, "premiums": premiums, "surrenders": surrenders, "claims": claims}
    return {name: _conform(name, table) for name, table in out.items()}


def _ranks(count: np.ndarray) -> np.ndarray:
    """1..count[i] for every i, concatenated, without a Python loop."""
    ends = np.cumsum(count)
    starts = np.repeat(ends - count, count)
    return np.arange(ends[-1] if ends.size else 0) - starts + 1


def _conform(name: str, table: pa.Table) -> pa.Table:
    schema = SCHEMAS[name]
    columns = [
        table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)
