"""The KPI set for one year on a large book: Ibis (DuckDB) vs hand-written single-pass SQL vs pandas.

    .venv/bin/python bench/kpi_bench.py --policies 2000000 [--cases 50000] [--reps 5] [--reuse]

1. Builds (or, with --reuse, keeps) a throw-away data folder bench/results/tmp/kpi/: SQLite with the
   unit tree and N cases (bulk ORM inserts), and the Parquet store with a synthetic book of
   --policies policies and their premiums, surrenders and claims (xiaobao/kpi/tests/synthetic.py,
   numpy columns written straight to the store, no importer).
2. Times, for the period 2024 and the whole company, after one warm-up each:
   - engine: xiaobao.kpi.engine.compute end to end (parameters, case export from the database,
     registering the sources, building, compiling and running the Ibis expression, shaping);
   - ibis: building + compiling + running the KPI expression over registered sources (the part that
     compares with the SQL), and the same with the compiled SQL reused (run only);
   - sql: one hand-written single-pass DuckDB statement for the same figures over the same views;
   - pandas: a straightforward pandas implementation (read the Parquet files, masks, merges).
3. Checks that the three give the same figures, and writes bench/results/kpi.md.
"""

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT))

PERIOD = "2024"
TODAY = dt.date(2025, 1, 15)


def configure_env(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "xiaobao.settings"
    os.environ["XIAOBAO_MODE"] = "demo"
    os.environ["XIAOBAO_DATA_DIR"] = str(data_dir)
    os.environ["XIAOBAO_DATABASE_URL"] = f"sqlite:///{data_dir / 'xiaobao.sqlite3'}"
    os.environ["XIAOBAO_ANALYTICS_BACKEND"] = "duckdb"
    for name in ("XIAOBAO_SECRET_KEY", "XIAOBAO_FIELD_KEY"):
        os.environ.pop(name, None)


def build(args) -> dict:
    from django.core.management import call_command

    from xiaobao.book import store
    from xiaobao.cases.models import Case
    from xiaobao.kpi.tests.cases_gen import make_cases
    from xiaobao.kpi.tests.synthetic import generate
    from xiaobao.org.models import Unit, UnitLevel
    from xiaobao.org.services import unit_save

    call_command("migrate", verbosity=0)
    counts = {}
    if not (args.reuse and store.current_version("policies")):
        started = time.perf_counter()
        book = generate(args.policies, seed=2024, org_codes=("B01", "B02", "B03", "B04", "B05", "B06"))
        for name, table in book.items():
            store.write_table(name, table)
        print(f"book generated and written in {time.perf_counter() - started:.1f} s", flush=True)
    import pyarrow.parquet as pq

    for table in ("policies", "premiums", "surrenders", "claims"):
        counts[table] = pq.ParquetFile(next(store.version_dir(table).glob("*.parquet"))).metadata.num_rows
    if not Unit.objects.exists():
        hq = unit_save(unit=Unit(code="HQ", name="总公司", level=UnitLevel.HEAD_OFFICE))
        branch = unit_save(unit=Unit(code="BR", name="分公司", level=UnitLevel.BRANCH, parent=hq))
        for i in range(1, 7):
            unit_save(
                unit=Unit(code=f"B0{i}", name=f"中支{i}", level=UnitLevel.CENTRAL_SUB_BRANCH, parent=branch)
            )
    if Case.objects.count() < args.cases:
        units = list(Unit.objects.filter(level=UnitLevel.CENTRAL_SUB_BRANCH))
        policy_nos = pq.read_table(store.version_dir("policies"), columns=["policy_no"]).column(0).to_pylist()
        started = time.perf_counter()
        make_cases(
            units,
            policy_nos[:: max(1, len(policy_nos) // 20000)],
            [],
            n=args.cases,
            seed=9,
            start=dt.date(2023, 9, 1),
            end=dt.date(2024, 12, 31),
        )
        print(f"{args.cases} cases inserted in {time.perf_counter() - started:.1f} s", flush=True)
    counts["cases"] = Case.objects.count()
    return counts


# ---------------------------------------------------------------------------------------------
# The hand-written single-pass SQL
# ---------------------------------------------------------------------------------------------

HAND_SQL = """
WITH
surr_pol AS (
  SELECT DISTINCT policy_no FROM {surrenders} WHERE surrender_date BETWEEN DATE '{S}' AND DATE '{E}'
),
cohort AS (
  SELECT policy_no, effective_date FROM {policies}
  WHERE channel <> '团险' AND payment_mode <> '趸交' AND (payment_years IS NULL OR payment_years > 1)
    AND effective_date BETWEEN DATE '{c25s}' AND DATE '{c13e}'
),
recv AS (
  SELECT pr.policy_no,
    SUM(pr.amount) FILTER (WHERE pr.policy_year = 2 AND pr.received_date <= c.effective_date + INTERVAL 13 MONTH) AS y2,
    SUM(pr.amount) FILTER (WHERE pr.policy_year = 3 AND pr.received_date <= c.effective_date + INTERVAL 25 MONTH) AS y3
  FROM {premiums} pr JOIN cohort c USING (policy_no)
  WHERE pr.policy_year IN (2, 3)
  GROUP BY pr.policy_no
),
pol AS (
  SELECT p.effective_date, p.insured_id_no_token, p.annual_premium, coalesce(p.sum_assured, 0) AS sa,
    coalesce(r.y2, 0) AS y2, coalesce(r.y3, 0) AS y3, s.policy_no IS NOT NULL AS surrendered,
    p.effective_date <= DATE '{P}' AND (p.status IN ('有效', '效力中止') OR p.status_date > DATE '{P}') AS inf_start,
    p.effective_date <= DATE '{E}' AND (p.status IN ('有效', '效力中止') OR p.status_date > DATE '{E}') AS inf_end,
    p.channel <> '团险' AND p.payment_mode <> '趸交' AND (p.payment_years IS NULL OR p.payment_years > 1)
      AND NOT (p.status IN ('犹豫期撤单', '理赔终止') AND (p.status_date IS NULL OR p.status_date <= DATE '{E}')) AS elig
  FROM {policies} p LEFT JOIN recv r USING (policy_no) LEFT JOIN surr_pol s USING (policy_no)
),
stock AS (
  SELECT
    count(*) FILTER (WHERE inf_end) AS policies_end,
    count(DISTINCT insured_id_no_token) FILTER (WHERE inf_end) AS insured_end,
    count(*) FILTER (WHERE inf_start) AS policies_start,
    sum(sa) FILTER (WHERE inf_start) AS sa_start,
    count(*) FILTER (WHERE inf_start AND surrendered) AS surrendered,
    sum(sa) FILTER (WHERE inf_start AND surrendered) AS sa_surrendered,
    sum(annual_premium) FILTER (WHERE elig AND effective_date BETWEEN DATE '{c13s}' AND DATE '{c13e}') AS p13_den,
    sum(y2) FILTER (WHERE elig AND effective_date BETWEEN DATE '{c13s}' AND DATE '{c13e}') AS p13_num,
    sum(annual_premium) FILTER (WHERE elig AND effective_date BETWEEN DATE '{c25s}' AND DATE '{c25e}') AS p25_den,
    sum(y3) FILTER (WHERE elig AND effective_date BETWEEN DATE '{c25s}' AND DATE '{c25e}') AS p25_num
  FROM pol
),
prem AS (SELECT sum(amount) AS premium FROM {premiums} WHERE received_date BETWEEN DATE '{S}' AND DATE '{E}'),
surr AS (
  SELECT count(*) AS surrenders, count(*) FILTER (WHERE full_refund) AS full_refunds
  FROM {surrenders} WHERE surrender_date BETWEEN DATE '{S}' AND DATE '{E}'
),
cl AS (
  SELECT
    count(*) FILTER (WHERE payment_date BETWEEN DATE '{S}' AND DATE '{E}') AS claims_paid,
    median(payment_date - docs_complete_date) FILTER (WHERE payment_date BETWEEN DATE '{S}' AND DATE '{E}') AS median_days,
    sum(payment_date - docs_complete_date) FILTER (WHERE payment_date BETWEEN DATE '{S}' AND DATE '{E}') AS days_sum,
    count(*) FILTER (WHERE payment_date BETWEEN DATE '{S}' AND DATE '{E}' AND payment_date - decision_date <= 10) AS within_10,
    count(*) FILTER (WHERE payment_date BETWEEN DATE '{S}' AND DATE '{E}' AND payment_date - docs_complete_date <= {target}) AS within_target,
    count(*) FILTER (WHERE decision_date BETWEEN DATE '{S}' AND DATE '{E}' AND decision <> '撤案') AS claims_decided,
    count(*) FILTER (WHERE decision_date BETWEEN DATE '{S}' AND DATE '{E}' AND decision IN ('正常给付', '部分给付')) AS paid_out
  FROM {claims}
),
cs AS (
  SELECT *, kind = '投诉' AND status NOT IN ('已撤诉', '已合并') AS complaint, kind = '投诉' AND status <> '已合并' AS counted
  FROM {cases}
),
rep AS (
  SELECT *, counted AND (
      (customer_id IS NOT NULL AND lag(received_ts) OVER (PARTITION BY customer_id, counted ORDER BY received_ts, case_id) >= received_ts - 7776000)
      OR (policy_no IS NOT NULL AND lag(received_ts) OVER (PARTITION BY policy_no, counted ORDER BY received_ts, case_id) >= received_ts - 7776000)
    ) AS is_repeat
  FROM cs
),
ca AS (
  SELECT
    count(*) FILTER (WHERE complaint) AS complaints,
    count(*) FILTER (WHERE complaint AND channel = '监管转办') AS regulator,
    count(*) FILTER (WHERE complaint AND on_time IS NOT NULL) AS decided,
    count(*) FILTER (WHERE complaint AND on_time) AS on_time,
    count(*) FILTER (WHERE complaint AND extension_level > 0) AS extended,
    count(*) FILTER (WHERE complaint AND (claims_related OR category = '理赔纠纷')) AS claims_related,
    count(*) FILTER (WHERE complaint AND is_repeat) AS repeats,
    count(*) FILTER (WHERE urgent AND status <> '已合并' AND response_due_date IS NOT NULL
                     AND (response_due_date <= DATE '{asof}' OR responded_date IS NOT NULL)) AS urgent_due,
    count(*) FILTER (WHERE urgent AND status <> '已合并' AND response_due_date IS NOT NULL
                     AND (response_due_date <= DATE '{asof}' OR responded_date IS NOT NULL)
                     AND responded_date <= response_due_date) AS urgent_ok
  FROM rep WHERE received_date BETWEEN DATE '{S}' AND DATE '{E}'
),
od AS (
  SELECT count(*) AS overdue FROM {cases}
  WHERE due_date IS NOT NULL AND received_date <= DATE '{asof}' AND due_date < DATE '{asof}'
    AND (decided_date IS NULL OR decided_date > DATE '{asof}') AND status NOT IN ('已撤诉', '已合并')
    AND NOT (status = '暂停' AND DATE '{asof}' = DATE '{today}')
)
SELECT * FROM stock, prem, surr, cl, ca, od
"""


def hand_sql(sources, period, today, target_days) -> str:
    names = {t: sources.store[t].get_name() for t in ("policies", "premiums", "surrenders", "claims")}
    c13, c25 = period.cohort(13), period.cohort(25)
    return HAND_SQL.format(
        **names,
        cases=sources.cases.get_name(),
        S=period.start,
        E=period.end,
        P=period.day_before,
        asof=min(period.end, today),
        today=today,
        c13s=c13[0],
        c13e=c13[1],
        c25s=c25[0],
        c25e=c25[1],
        target=target_days,
    )


def sql_figures(row: dict) -> dict:
    """The hand SQL's columns as (numerator, denominator) of the KPI ids they feed."""
    return {
        "complaints_per_100m_premium": (row["complaints"], row["premium"]),
        "complaints_per_10k_policies": (row["complaints"], row["policies_end"]),
        "complaints_per_10k_insured": (row["complaints"], row["insured_end"]),
        "complaints_per_10k_policies_regulator": (row["regulator"], row["policies_end"]),
        "persistency_13m": (row["p13_num"], row["p13_den"]),
        "persistency_25m": (row["p25_num"], row["p25_den"]),
        "surrender_rate_policies": (row["surrendered"], row["policies_start"]),
        "surrender_rate_amount": (row["sa_surrendered"], row["sa_start"]),
        "full_refund_share": (row["full_refunds"], row["surrenders"]),
        "claims_median_days_to_pay": (row["median_days"], row["claims_paid"]),
        "claims_mean_days_to_pay": (row["days_sum"], row["claims_paid"]),
        "claims_paid_within_10_days_share": (row["within_10"], row["claims_paid"]),
        "claims_paid_within_target_share": (row["within_target"], row["claims_paid"]),
        "claims_payout_ratio": (row["paid_out"], row["claims_decided"]),
        "complaint_on_time_rate": (row["on_time"], row["decided"]),
        "complaint_extension_rate": (row["extended"], row["complaints"]),
        "claims_related_complaint_share": (row["claims_related"], row["complaints"]),
        "repeat_complaint_rate": (row["repeats"], row["complaints"]),
        "urgent_same_day_rate": (row["urgent_ok"], row["urgent_due"]),
        "overdue_count": (row["overdue"], None),
    }


# ---------------------------------------------------------------------------------------------
# The straightforward pandas implementation
# ---------------------------------------------------------------------------------------------


def pandas_figures(period, today, target_days, cases_table) -> dict:
    import numpy as np
    import pandas as pd

    from xiaobao.book import store

    def read(table, columns):
        df = pd.read_parquet(store.version_dir(table), columns=columns)
        for c in df.columns:
            if df[c].dtype == object and c in ("amount", "annual_premium", "sum_assured"):
                df[c] = df[c].astype("float64")
        return df

    S, E, P = (pd.Timestamp(d) for d in (period.start, period.end, period.day_before))
    asof = pd.Timestamp(min(period.end, today))
    c13 = [pd.Timestamp(d) for d in period.cohort(13)]
    c25 = [pd.Timestamp(d) for d in period.cohort(25)]
    pol = read(
        "policies",
        [
            "policy_no",
            "channel",
            "payment_mode",
            "payment_years",
            "effective_date",
            "status",
            "status_date",
            "annual_premium",
            "sum_assured",
            "insured_id_no_token",
        ],
    )
    prem = read("premiums", ["policy_no", "policy_year", "received_date", "amount"])
    surr = read("surrenders", ["policy_no", "surrender_date", "full_refund"])
    claims = read("claims", ["docs_complete_date", "decision_date", "payment_date", "decision"])
    for df in (pol, prem, surr, claims):
        for c in df.columns:
            if c.endswith("_date"):
                df[c] = pd.to_datetime(df[c])

    alive = pol.status.isin(["有效", "效力中止"])
    inf_start = (pol.effective_date <= P) & (alive | (pol.status_date > P))
    inf_end = (pol.effective_date <= E) & (alive | (pol.status_date > E))
    surrendered = pol.policy_no.isin(surr.loc[surr.surrender_date.between(S, E), "policy_no"])
    sa = pol.sum_assured.fillna(0)
    eligible = (
        (pol.channel != "团险")
        & (pol.payment_mode != "趸交")
        & (pol.payment_years.isna() | (pol.payment_years > 1))
    )
    excluded = pol.status.isin(["犹豫期撤单", "理赔终止"]) & (pol.status_date.isna() | (pol.status_date <= E))
    in13 = eligible & ~excluded & pol.effective_date.between(*c13)
    in25 = eligible & ~excluded & pol.effective_date.between(*c25)
    cohort = pol.loc[in13 | in25, ["policy_no", "effective_date"]]
    p = prem[prem.policy_year.isin([2, 3])].merge(cohort, on="policy_no")
    y2 = p[(p.policy_year == 2) & (p.received_date <= p.effective_date + pd.DateOffset(months=13))]
    y3 = p[(p.policy_year == 3) & (p.received_date <= p.effective_date + pd.DateOffset(months=25))]
    paid = claims[claims.payment_date.between(S, E)]
    days = (paid.payment_date - paid.docs_complete_date).dt.days
    decided = claims[
        claims.decision_date.between(S, E) & (claims.decision != "撤案") & claims.decision.notna()
    ]

    cases = cases_table.to_pandas()
    for c in cases.columns:
        if c.endswith("_date"):
            cases[c] = pd.to_datetime(cases[c])
    counted = (cases.kind == "投诉") & (cases.status != "已合并")
    ordered = cases.assign(counted=counted).sort_values(["received_ts", "case_id"])
    repeat = pd.Series(False, index=cases.index)
    for col in ("customer_id", "policy_no"):
        prev = ordered.groupby([col, "counted"], dropna=True).received_ts.shift()
        repeat |= (ordered[col].notna() & (prev >= ordered.received_ts - 90 * 86400)).reindex(
            cases.index, fill_value=False
        )
    inp = cases.received_date.between(S, E)
    complaint = (cases.kind == "投诉") & ~cases.status.isin(["已撤诉", "已合并"]) & inp
    urgent_due = (
        cases.urgent
        & (cases.status != "已合并")
        & cases.response_due_date.notna()
        & ((cases.response_due_date <= asof) | cases.responded_date.notna())
        & inp
    )
    overdue = (
        cases.due_date.notna()
        & (cases.received_date <= asof)
        & (cases.due_date < asof)
        & (cases.decided_date.isna() | (cases.decided_date > asof))
        & ~cases.status.isin(["已撤诉", "已合并"])
        & ~((cases.status == "暂停") & (asof == pd.Timestamp(today)))
    )
    n_complaints = int(complaint.sum())
    prem_period = float(prem.loc[prem.received_date.between(S, E), "amount"].sum())
    return {
        "complaints_per_100m_premium": (n_complaints, prem_period),
        "complaints_per_10k_policies": (n_complaints, int(inf_end.sum())),
        "complaints_per_10k_insured": (n_complaints, int(pol.loc[inf_end, "insured_id_no_token"].nunique())),
        "complaints_per_10k_policies_regulator": (
            int((complaint & (cases.channel == "监管转办")).sum()),
            int(inf_end.sum()),
        ),
        "persistency_13m": (
            float(y2[y2.policy_no.isin(pol.loc[in13, "policy_no"])].amount.sum()),
            float(pol.loc[in13, "annual_premium"].sum()),
        ),
        "persistency_25m": (
            float(y3[y3.policy_no.isin(pol.loc[in25, "policy_no"])].amount.sum()),
            float(pol.loc[in25, "annual_premium"].sum()),
        ),
        "surrender_rate_policies": (int((inf_start & surrendered).sum()), int(inf_start.sum())),
        "surrender_rate_amount": (float(sa[inf_start & surrendered].sum()), float(sa[inf_start].sum())),
        "full_refund_share": (
            int(surr.loc[surr.surrender_date.between(S, E), "full_refund"].fillna(False).astype(bool).sum()),
            int(surr.surrender_date.between(S, E).sum()),
        ),
        "claims_median_days_to_pay": (float(np.median(days)) if len(days) else None, len(paid)),
        "claims_mean_days_to_pay": (int(days.sum()), len(paid)),
        "claims_paid_within_10_days_share": (
            int(((paid.payment_date - paid.decision_date).dt.days <= 10).sum()),
            len(paid),
        ),
        "claims_paid_within_target_share": (int((days <= target_days).sum()), len(paid)),
        "claims_payout_ratio": (int(decided.decision.isin(["正常给付", "部分给付"]).sum()), len(decided)),
        "complaint_on_time_rate": (
            int((complaint & cases.on_time.eq(True)).sum()),
            int((complaint & cases.on_time.notna()).sum()),
        ),
        "complaint_extension_rate": (int((complaint & (cases.extension_level > 0)).sum()), n_complaints),
        "claims_related_complaint_share": (
            int((complaint & (cases.claims_related | (cases.category == "理赔纠纷"))).sum()),
            n_complaints,
        ),
        "repeat_complaint_rate": (int((complaint & repeat).sum()), n_complaints),
        "urgent_same_day_rate": (
            int((urgent_due & (cases.responded_date <= cases.response_due_date)).sum()),
            int(urgent_due.sum()),
        ),
        "overdue_count": (int(overdue.sum()), None),
    }


# ---------------------------------------------------------------------------------------------


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--policies", type=int, default=2_000_000)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--data-dir", default=str(RESULTS / "tmp" / "kpi"))
    parser.add_argument("--out", default=str(RESULTS / "kpi.md"))
    args = parser.parse_args()
    configure_env(Path(args.data_dir).resolve())
    import django

    django.setup()
    import duckdb
    import ibis
    import pandas
    from django.utils import timezone

    from xiaobao.kpi import backends, engine
    from xiaobao.kpi.expressions import TOTAL_KEY, Context, kpi_table
    from xiaobao.kpi.periods import parse_period
    from xiaobao.kpi.registry import COMPUTED_IDS
    from xiaobao.kpi.sources import Sources, export_cases, store_versions

    counts = build(args)
    print("rows:", counts, flush=True)
    period = parse_period(PERIOD)
    params = engine.current_parameters(None, period, TODAY)
    export = export_cases(unit=None, period=period, today=TODAY, cutoff=timezone.now())
    con = backends.connect("duckdb")
    sources = Sources(con, versions=store_versions(), cases=export.table)
    ctx = Context(period, TODAY, None, None, params)
    target = params["claims_target_days"]

    def cold(fn):
        """Without the compiled-SQL cache: the expression is built and compiled every time."""

        def run():
            engine._compiled.clear()
            return fn()

        return run

    sql = hand_sql(sources, period, TODAY, target)
    scenarios = {
        "sql": lambda: con.con.sql(sql).to_arrow_table().to_pylist()[0],
        "ibis": cold(lambda: engine.evaluate(sources, ctx)),
        "ibis_run": lambda: engine.evaluate(sources, ctx),
        "ibis_build": lambda: con.compile(kpi_table(sources.tables(ctx), ctx, COMPUTED_IDS)),
        "engine": cold(lambda: engine.compute(period=period, unit=None, today=TODAY)),
        "pandas": lambda: pandas_figures(period, TODAY, target, export.table),
    }
    # Round robin, so that the load of a shared machine weighs on every scenario alike.
    # Wall time, and the CPU time of the process (all of DuckDB's threads): on a shared machine the
    # wall time moves with the neighbours' load, the CPU time much less.
    results = {name: [] for name in scenarios}
    cpu = {name: [] for name in scenarios}
    outputs = {name: fn() for name, fn in scenarios.items()}  # warm-up
    for rep in range(args.reps):
        for name, fn in scenarios.items():
            if name == "pandas" and rep % 2:
                continue  # slow: every other round
            started, started_cpu = time.perf_counter(), time.process_time()
            outputs[name] = fn()
            results[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    sql_row, rows, pandas_row = outputs["sql"], outputs["ibis"], outputs["pandas"]

    # The three agree.
    ibis_row = rows[TOTAL_KEY]
    mismatches = []
    for kpi, (num, den) in sql_figures(sql_row).items():
        got = (
            ibis_row[f"{kpi}__num"] if kpi != "claims_median_days_to_pay" else ibis_row[f"{kpi}__value"],
            ibis_row[f"{kpi}__den"],
        )
        for label, (n, d) in (("sql", (num, den)), ("pandas", pandas_row[kpi])):
            if not (close(got[0], n) and close(got[1], d)):
                mismatches.append(f"{kpi}: ibis {got} ≠ {label} {(n, d)}")
    print("\n".join(mismatches) or "ibis, sql and pandas agree on every figure", flush=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    load = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    lines = [
        "# KPI set: Ibis on DuckDB vs hand-written SQL vs pandas",
        "",
        f"Period {PERIOD}, whole company, evaluated on {TODAY}. Data: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f". {args.reps} rounds after one warm-up, the scenarios taking turns in each round (pandas every"
        " other round); medians and minimums.",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"(shared with other work). Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"Ibis {ibis.__version__}, pandas {pandas.__version__}.",
        "",
        "| what | wall median s | wall min s | CPU median s | wall median ÷ SQL | wall min ÷ SQL | CPU ÷ SQL |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = [
        ("sql", "hand-written single-pass DuckDB SQL"),
        ("ibis", "Ibis KPI set: build + compile + run (`engine.evaluate`)"),
        ("ibis_run", "Ibis KPI set, compiled SQL cached (`engine.evaluate` again)"),
        ("ibis_build", "Ibis KPI set: build + compile only"),
        ("engine", "`engine.compute` end to end, uncached (+ case export from SQLite, parameters, shaping)"),
        ("pandas", "straightforward pandas (read Parquet + compute)"),
    ]
    for key, label in labels:
        lines.append(
            f"| {label} | {med[key]:.3f} | {min(results[key]):.3f} | {med_cpu[key]:.3f} "
            f"| {med[key] / med['sql']:.2f}× | {min(results[key]) / min(results['sql']):.2f}× "
            f"| {med_cpu[key] / med_cpu['sql']:.2f}× |"
        )
    lines += [
        "",
        f"- Ibis (build + compile + run) ÷ hand SQL: **{med['ibis'] / med['sql']:.2f}×** wall (median), "
        f"{min(results['ibis']) / min(results['sql']):.2f}× wall (best run), "
        f"**{med_cpu['ibis'] / med_cpu['sql']:.2f}×** CPU (target ≤ 1.5×); with the compiled SQL cached "
        f"(a repeated context): {med['ibis_run'] / med['sql']:.2f}× wall, {med_cpu['ibis_run'] / med_cpu['sql']:.2f}× CPU.",
        f"- Speed-up over pandas: **{med['pandas'] / med['ibis']:.1f}×** (Ibis set) and {med['pandas'] / med['engine']:.1f}× (end to end).",
        f"- Results: {'identical figures from all three' if not mismatches else 'MISMATCHES: ' + '; '.join(mismatches)}.",
        "",
        "Reproduce: `.venv/bin/python bench/kpi_bench.py --policies "
        f"{args.policies} --cases {args.cases} --reps {args.reps}` (add `--reuse` to keep the generated data).",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    sources.close()


if __name__ == "__main__":
    main()
