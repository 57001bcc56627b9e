"""The demo book: agrees with the demo cases and customers, looks like a real branch, is deterministic."""

import datetime as dt
import random
from types import SimpleNamespace

import duckdb
import pytest

from xiaobao.accounts.models import User
from xiaobao.book import demo, store
from xiaobao.cases.models import Case
from xiaobao.customers.models import Customer
from xiaobao.demo.builders import build_demo
from xiaobao.org.models import Unit

TODAY = dt.date(2026, 11, 28)
SCALE = 0.05


def _ctx(seed: int = 2024) -> SimpleNamespace:
    """Like xiaobao.demo.builders.DemoContext, which build_demo hands every app's demo module."""
    return SimpleNamespace(
        seed=seed,
        rng=random.Random(seed),
        today=TODAY,
        scale=SCALE,
        units={u.code: u for u in Unit.objects.all()},
        users={u.username: u for u in User.objects.select_related("unit")},
    )


@pytest.fixture
def branch(db):
    summary = build_demo(2024, today=TODAY, scale=SCALE)
    if store.current_version("policies") is None:  # until build_demo runs the apps' demo modules itself
        summary.update(demo.build(_ctx()))
    return summary


def _sql(query: str) -> list[tuple]:
    con = duckdb.connect()
    for table in ("policies", "premiums", "surrenders", "claims"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{store.parquet_glob(table)}')")
    try:
        return con.sql(query).fetchall()
    finally:
        con.close()


def test_the_book_has_its_volume_and_agrees_with_the_cases(branch):
    assert branch["book_policies"] >= 150_000 * SCALE
    assert branch["book_premiums"] > 2 * branch["book_policies"]
    assert branch["book_surrenders"] > 0 and branch["book_claims"] > 0
    numbers = set(Case.objects.exclude(policy_no="").values_list("policy_no", flat=True))
    stored = {n for (n,) in _sql("SELECT policy_no FROM policies")}
    assert numbers <= stored
    (orphans,) = _sql(
        "SELECT count(*) FROM premiums LEFT JOIN policies USING (policy_no) WHERE org_code IS NULL"
    )[0]
    assert orphans == 0
    codes = {code for (code,) in _sql("SELECT DISTINCT org_code FROM policies")}
    assert codes <= set(Unit.objects.values_list("code", flat=True))
    (first, last) = _sql("SELECT min(effective_date), max(effective_date) FROM policies")[0]
    assert first.year == 2016 and last <= TODAY


def test_some_applicants_are_demo_customers_by_token(branch):
    tokens = set(Customer.objects.values_list("id_no_token", flat=True))
    shared = [t for (t,) in _sql("SELECT applicant_id_no_token FROM policies") if t in tokens]
    assert len(shared) >= 100
    case = Case.objects.exclude(customer=None).exclude(policy_no="").select_related("customer").first()
    (token,) = _sql(f"SELECT applicant_name_token FROM policies WHERE policy_no = '{case.policy_no}'")[0]
    assert token == case.customer.name_token


def test_the_figures_look_like_a_branch(branch):
    (persistency_13,) = _sql(
        """SELECT 100 * sum(coalesce(r.amount, 0)) / sum(p.annual_premium) FROM policies p
           LEFT JOIN premiums r ON r.policy_no = p.policy_no AND r.policy_year = 2
                AND r.received_date <= p.effective_date + INTERVAL 13 MONTH
           WHERE p.effective_date BETWEEN DATE '2023-12-01' AND DATE '2024-11-30' AND p.channel <> '团险'
             AND p.payment_mode <> '趸交' AND p.product_code <> 'P1005'
             AND p.status NOT IN ('犹豫期撤单', '理赔终止')"""
    )[0]
    assert 84 <= persistency_13 <= 95
    (rate,) = _sql(
        """SELECT 100.0 * count(*) FILTER (WHERE status = '退保' AND year(status_date) = 2025) / count(*)
           FROM policies WHERE effective_date <= DATE '2024-12-31'
             AND (status IN ('有效', '效力中止') OR status_date > DATE '2024-12-31')"""
    )[0]
    assert 0.8 <= rate <= 3.5
    (median_days, payout) = _sql(
        """SELECT median(payment_date - docs_complete_date),
                  100.0 * count(*) FILTER (WHERE decision IN ('正常给付', '部分给付'))
                        / count(*) FILTER (WHERE decision IS NOT NULL AND decision <> '撤案')
           FROM claims"""
    )[0]
    assert 2 <= median_days <= 6 and 85 <= payout <= 98
    (rings,) = _sql(
        """SELECT count(*) FROM (SELECT contact_phone_token FROM surrenders WHERE apply_channel = '委托代办'
           GROUP BY 1 HAVING count(DISTINCT policy_no) >= 5)"""
    )[0]
    assert rings >= 1


def test_personal_data_is_sealed_and_the_book_is_deterministic(branch):
    (plain,) = _sql(
        "SELECT count(*) FROM policies WHERE applicant_name_enc IS NULL OR applicant_name_token IS NULL"
    )[0]
    assert plain == 0
    again = demo.builder_for(_ctx())
    again.build()
    tables = again.tables(dict.fromkeys(("policies", "premiums", "surrenders", "claims"), 0))
    for table, data in tables.items():
        stored = _sql(f"SELECT count(*) FROM {table}")[0][0]
        assert data.num_rows == stored, table
    numbers = sorted(tables["policies"].column("policy_no").to_pylist())
    assert numbers == sorted(n for (n,) in _sql("SELECT policy_no FROM policies"))
