"""退保监测: monthly surrender series and their anomalies.

Series. Surrenders (by surrender_date) joined to their policies in the Parquet book, counted per month
and per value of each dimension: unit (org_code), channel, product, agent, policy year (1 + whole
years from effective_date to surrender_date) and apply channel. Each month of a series has its count,
its amount (yuan) and its full refunds (是否全额退保, else amount > 1.2 × cash value).

Tests, for the month P of every series with at least `min_count` surrenders in P:
1. Own history (Poisson upper tail). λ = the series' mean monthly count over the `history` months
   before P (at least `min_expected`, so a brand-new agent with a handful of surrenders is not
   "infinitely" surprising); p = P(X ≥ x | Poisson(λ)).
2. Peers (binomial upper tail on the share). The series' share of its dimension's surrenders in P
   against its share over the history months (at least `min_share`): p = P(X ≥ x | Bin(N_P, share)).
   This is what catches an agent whose surrenders jump while the whole branch is quiet, and it does
   not fire in 开门红 months when everyone's counts rise together.
3. Full refunds against peers (binomial upper tail). k full refunds out of x surrenders against the
   full-refund rate of the other values of the dimension in P (clipped to [0.5 %, 99 %]), when k ≥ 3.
All p-values of one run are adjusted together with Benjamini–Hochberg; a test is an alert when its
adjusted p-value is below `false_alarm_rate` (default 1 %: of the alerts raised, about 1 in 100 is
expected to be a false alarm). Each alert carries a Chinese sentence with the figures behind it.
"""

import datetime as dt
import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from xiaobao.book import store

DIMENSIONS = {
    "unit": ("org_code", "机构"),
    "channel": ("channel", "渠道"),
    "product": ("product_code", "产品"),
    "agent": ("agent_code", "业务员"),
    "policy_year": (
        "CAST(FLOOR(date_diff('day', effective_date, surrender_date) / 365.25) + 1 AS INTEGER)",
        "保单年度",
    ),
    "apply_channel": ("apply_channel", "申请渠道"),
}
PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class MonitorConfig:
    history: int = 12  # months of own history
    false_alarm_rate: float = 0.01  # Benjamini–Hochberg level over all tests of one run
    min_count: int = 5  # a series month with fewer surrenders is not tested
    min_expected: float = 1.0
    min_share: float = 0.001
    min_full_refunds: int = 3


def parse_period(text: str) -> dt.date:
    """'2025-06' → the first day of that month; ValueError otherwise."""
    match = PERIOD_RE.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"期间应为 YYYY-MM, 实际为 {text!r}")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def _month_start(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def monthly_series(period: dt.date, by: list[str], history: int, con=None) -> pd.DataFrame:
    """Rows (dimension, value, month, count, amount, full_refunds, unit) for P and the history months;
    unit is the org_code with most of the row's surrenders."""
    surrenders, policies = store.parquet_glob("surrenders"), store.parquet_glob("policies")
    columns = ["dimension", "value", "month", "count", "amount", "full_refunds", "unit"]
    if not surrenders or not policies:
        return pd.DataFrame(columns=columns)
    con = con or duckdb.connect()
    first = _month_start(period, history)
    end = _month_start(period, -1)
    selects = " UNION ALL ".join(
        f"""SELECT '{name}' AS dimension, CAST({DIMENSIONS[name][0]} AS VARCHAR) AS value, month,
                   count(*) AS count, sum(amount) AS amount, sum(CAST(is_full AS INTEGER)) AS full_refunds,
                   mode(org_code) AS unit
            FROM joined GROUP BY ALL"""
        for name in by
    )
    sql = f"""
    WITH joined AS (
        SELECT s.surrender_date, s.amount, s.apply_channel,
               p.org_code, p.channel, p.product_code, p.agent_code, p.effective_date,
               date_trunc('month', s.surrender_date) AS month,
               COALESCE(s.full_refund, s.amount > 1.2 * s.cash_value, FALSE) AS is_full
        FROM read_parquet('{surrenders}') s JOIN read_parquet('{policies}') p USING (policy_no)
        WHERE s.surrender_date >= DATE '{first}' AND s.surrender_date < DATE '{end}'
    )
    SELECT * FROM ({selects}) WHERE value IS NOT NULL
    """
    frame = con.execute(sql).df()
    frame["month"] = pd.to_datetime(frame["month"]).dt.strftime("%Y-%m")
    frame["amount"] = frame["amount"].astype(float)
    return frame[columns]


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values."""
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def surrender_monitor(
    period: dt.date, by: list[str] | None = None, config: MonitorConfig | None = None
) -> dict:
    """The series of month P (with their history means) and the alerts of P (see the module docstring)."""
    config = config or MonitorConfig()
    by = by or list(DIMENSIONS)
    unknown = set(by) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"未知的维度: {', '.join(sorted(unknown))}")
    label = period.strftime("%Y-%m")
    frame = monthly_series(period, by, config.history)
    current = frame[frame["month"] == label].copy()
    past = frame[frame["month"] != label]
    hist = past.groupby(["dimension", "value"])["count"].sum().rename("hist_count")
    hist_total = past.groupby("dimension")["count"].sum().rename("hist_total")
    cur_total = current.groupby("dimension")[["count", "full_refunds"]].sum()
    cur_total.columns = ["dim_count", "dim_full"]
    current = current.join(hist, on=["dimension", "value"]).join(hist_total, on="dimension")
    current = current.join(cur_total, on="dimension")
    current[["hist_count", "hist_total"]] = current[["hist_count", "hist_total"]].fillna(0)
    current["hist_mean"] = current["hist_count"] / config.history
    x = current["count"].to_numpy(dtype=float)
    from scipy.stats import binom, poisson  # here, not at the top: 1.4 s of every start-up

    k = current["full_refunds"].to_numpy(dtype=float)
    lam = np.maximum(current["hist_mean"].to_numpy(dtype=float), config.min_expected)
    share = np.where(
        current["hist_total"] > 0, current["hist_count"] / current["hist_total"].replace(0, 1), 0.0
    )
    share = np.maximum(share, config.min_share)
    peers_n = current["dim_count"].to_numpy(dtype=float) - x
    peers_k = current["dim_full"].to_numpy(dtype=float) - k
    peer_rate = np.clip(np.where(peers_n > 0, peers_k / np.maximum(peers_n, 1), 0.0), 0.005, 0.99)
    tested = x >= config.min_count
    tests = []
    for name, p, applies in (
        ("history", poisson.sf(x - 1, lam), tested),
        ("share", binom.sf(x - 1, current["dim_count"].to_numpy(dtype=float), share), tested),
        ("full_refund", binom.sf(k - 1, x, peer_rate), tested & (k >= config.min_full_refunds)),
    ):
        for i in np.flatnonzero(applies):
            tests.append((i, name, float(p[i])))
    adjusted = _bh(np.array([t[2] for t in tests]))
    rows = current.reset_index(drop=True)
    alerts = []
    for (i, name, p), q in zip(tests, adjusted, strict=True):
        if q >= config.false_alarm_rate:
            continue
        row = rows.iloc[i]
        alerts.append(
            {
                "dimension": row["dimension"],
                "value": row["value"],
                "month": label,
                "test": name,
                "p_value": p,
                "adjusted_p": float(q),
                "count": int(row["count"]),
                "full_refunds": int(row["full_refunds"]),
                "unit": row["unit"],  # the unit with most of the series' surrenders in the month
                "explanation": _explain(row, name, p, float(q), lam[i], share[i], peer_rate[i], config),
            }
        )
    alerts.sort(key=lambda a: a["adjusted_p"])
    series = [
        {
            "dimension": r["dimension"],
            "value": r["value"],
            "month": label,
            "count": int(r["count"]),
            "amount": round(float(r["amount"]), 2),
            "full_refunds": int(r["full_refunds"]),
            "full_refund_share": round(r["full_refunds"] / r["count"], 4) if r["count"] else None,
            "history_mean": round(float(r["hist_mean"]), 2),
        }
        for _, r in rows.sort_values(["dimension", "count"], ascending=[True, False]).iterrows()
    ]
    return {
        "period": label,
        "by": by,
        "false_alarm_rate": config.false_alarm_rate,
        "tests": len(tests),
        "series": series,
        "alerts": alerts,
    }


def _explain(row, test: str, p: float, q: float, lam: float, share: float, peer_rate: float, config) -> str:
    who = f"{DIMENSIONS[row['dimension']][1]} {row['value']}"
    month = row["month"]
    tail = f"p={p:.1e}, BH 校正后 {q:.1e} < {config.false_alarm_rate:g}"
    if test == "history":
        return (
            f"{who} {month} 退保 {int(row['count'])} 件, 过去 {config.history} 个月月均 "
            f"{row['hist_mean']:.1f} 件 (泊松检验, {tail})"
        )
    if test == "share":
        now = row["count"] / row["dim_count"] if row["dim_count"] else 0
        return (
            f"{who} {month} 退保占同维度的 {now:.1%}, 过去 {config.history} 个月仅占 {share:.1%} "
            f"(同业对比二项检验, {tail})"
        )
    return (
        f"{who} {month} 全额退保 {int(row['full_refunds'])}/{int(row['count'])} 件, "
        f"同期其他{DIMENSIONS[row['dimension']][1]}的全额退保率为 {peer_rate:.1%} (二项检验, {tail})"
    )
