"""Every KPI against figures computed by hand on the scenario of scenario.py (see its comments)."""

from decimal import Decimal

import pytest

from xiaobao.kpi import engine
from xiaobao.kpi.models import KpiSettings
from xiaobao.kpi.periods import parse_period
from xiaobao.kpi.registry import COMPUTED_IDS, KPI_IDS, REGISTRY
from xiaobao.kpi.tests.expressions_required import REQUIRED
from xiaobao.kpi.tests.scenario import TODAY, make_scenario_cases, write_scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(tree, make_case):
    write_scenario()
    make_scenario_cases(make_case)
    return tree


def compute(period="2024", unit=None, by=None, today=TODAY):
    return engine.compute(period=parse_period(period), unit=unit, by=by, today=today).results


def check(results, kpi, numerator, denominator, value):
    entry = results[kpi]
    assert entry["numerator"] == numerator, (kpi, entry)
    assert entry["denominator"] == denominator, (kpi, entry)
    if value is None or isinstance(value, str):
        assert entry["value"] == value, (kpi, entry)
    else:
        assert entry["value"] == pytest.approx(value, rel=1e-12), (kpi, entry)


def test_the_registry_has_every_required_id_with_both_languages():
    assert set(REQUIRED) <= set(KPI_IDS)
    for kpi in KPI_IDS:
        d = REGISTRY[kpi]
        assert d.label_zh and d.label_en and d.definition_zh and d.definition_en


def test_complaint_rates_on_both_bases(scenario):
    r = compute()
    # complaints: K1, K2, K6 (C1) and K7 (C2); K3 withdrawn, K4 merged, K5 an inquiry, K8 in 2023
    # premiums received in 2024: 1000+2000+3000+1500+800+2500+700 = 11500
    # in force on 2024-12-31: A C F G I J K L M = 9; insured: PERSON1 (A, C), F G I J K L = 7 (M has none)
    check(r, "complaints_per_100m_premium", 4, Decimal("11500.00"), 4 * 1e8 / 11500)
    check(r, "complaints_per_10k_policies", 4, 9, 4 * 1e4 / 9)
    check(r, "complaints_per_10k_insured", 4, 7, 4 * 1e4 / 7)
    check(r, "complaints_per_100m_premium_regulator", 1, Decimal("11500.00"), 1e8 / 11500)
    check(r, "complaints_per_10k_policies_regulator", 1, 9, 1e4 / 9)
    check(r, "complaints_per_10k_insured_regulator", 1, 7, 1e4 / 7)
    assert "评估日有效保单件数 (默认)" in r["complaints_per_10k_policies"]["definition"]


def test_a_unit_sees_its_subtree_only(scenario):
    r = compute(unit=scenario["C1"])
    # without C2: policy I (premium 800, in force, insured), complaint K7, claim CL6
    check(r, "complaints_per_100m_premium", 3, Decimal("10700.00"), 3 * 1e8 / 10700)
    check(r, "complaints_per_10k_policies", 3, 8, 3 * 1e4 / 8)
    check(r, "complaints_per_10k_insured", 3, 6, 3 * 1e4 / 6)
    check(r, "persistency_13m", Decimal("4000.00"), Decimal("6000.00"), 4000 / 6000)
    check(r, "surrender_rate_policies", 1, 10, 1 / 10)
    check(r, "claims_median_days_to_pay", None, 3, 14.0)
    check(r, "complaint_on_time_rate", 1, 2, 0.5)
    r_c2 = compute(unit=scenario["C2"])
    check(r_c2, "complaints_count", 1, None, 1)
    check(r_c2, "overdue_count", 0, None, 0)


def test_the_administrator_chooses_the_denominators_and_the_definition_says_so(scenario):
    KpiSettings.objects.update_or_create(
        pk=1,
        defaults={
            "premium_basis": "first_year",
            "policy_basis": "new_business",
            "insured_basis": "new_business",
        },
    )
    r = compute()
    # new business 2024: G and R; first-year premiums 1500 + 700
    check(r, "complaints_per_100m_premium", 4, Decimal("2200.00"), 4 * 1e8 / 2200)
    check(r, "complaints_per_10k_policies", 4, 2, 4 * 1e4 / 2)
    check(r, "complaints_per_10k_insured", 4, 2, 4 * 1e4 / 2)
    assert "当期新单 (首年) 保费 (管理员设置)" in r["complaints_per_100m_premium"]["definition"]


def test_persistency_cohorts_and_exclusions(scenario):
    r = compute()
    # 13-month cohort 2022-12-01..2023-11-30: A 1000, B 2000, D 3000, I 800 (C single premium, E cooling-off,
    # F group, H terminated by claim, J after the window). On time: A, D; B and I late.
    check(r, "persistency_13m", Decimal("4000.00"), Decimal("6800.00"), 4000 / 6800)
    # 25-month cohort 2021-12-01..2022-11-30: K 2500 (year 3 on time), L 500 (no year 3); M single premium
    check(r, "persistency_25m", Decimal("2500.00"), Decimal("3000.00"), 2500 / 3000)


def test_persistency_per_channel_and_agent(scenario):
    r = compute(by="channel")
    groups = {g["key"]: g for g in r["persistency_13m"]["groups"]}
    assert groups["个险"]["numerator"] == Decimal("1000.00") and groups["个险"]["denominator"] == Decimal(
        "3000.00"
    )
    assert groups["银保"]["numerator"] == Decimal("3000.00") and groups["银保"]["denominator"] == Decimal(
        "3800.00"
    )
    agents = {g["key"]: g for g in compute(by="agent")["persistency_25m"]["groups"]}
    assert agents["A2"]["value"] == 1.0 and agents["A1"]["value"] == 0.0


def test_surrender_rates_and_full_refund_share(scenario):
    r = compute()
    # in force on 2023-12-31: A B C D F H I J K L M = 11; surrendered in 2024 among them: D
    check(r, "surrender_rate_policies", 1, 11, 1 / 11)
    # sum assured at the start: 100000+50000+80000+200000+10000+0+0(I blank)+20000+60000+30000+40000
    check(r, "surrender_rate_amount", Decimal("200000.00"), Decimal("590000.00"), 200000 / 590000)
    # surrenders in 2024: D (full refund) and R (blank flag = no); Q's is in 2023
    check(r, "full_refund_share", 1, 2, 0.5)
    by_apply = compute(by="apply_channel")["full_refund_share"]["groups"]
    assert by_apply == [{"key": "柜面", "value": 0.5, "numerator": 1, "denominator": 2}]
    years = {g["key"]: g for g in compute(by="policy_year")["surrender_rate_policies"]["groups"]}
    # policy year on 2023-12-31: A B C D F I J in their first year, H in its second, K L M later
    assert years["1"]["numerator"] == 1 and years["1"]["denominator"] == 7
    assert years["2"]["denominator"] == 4
    assert compute(by="apply_channel")["complaints_count"]["groups"] is None  # no such breakdown


def test_claims_timeliness_and_payout_ratio(scenario):
    r = compute()
    # paid in 2024: CL1 7 days, CL2 34, CL5 14, CL6 5 → median 10.5, mean 15; within 10 days of decision: 3
    check(r, "claims_median_days_to_pay", None, 4, 10.5)
    check(r, "claims_mean_days_to_pay", 60, 4, 15.0)
    check(r, "claims_paid_within_10_days_share", 3, 4, 0.75)
    check(r, "claims_paid_within_target_share", 3, 4, 0.75)
    # decided in 2024 (撤案 CL4 excluded, CL5 decided in 2023, CL7 pending): CL1 CL2 CL3 CL6 → paid 3
    check(r, "claims_payout_ratio", 3, 4, 0.75)


def test_hotline_and_complaint_handling(scenario):
    r = compute()
    check(r, "complaints_count", 4, None, 4)
    check(r, "regulator_forwarded_count", 1, None, 1)
    check(r, "complaint_on_time_rate", 2, 3, 2 / 3)
    check(r, "complaint_extension_rate", 1, 4, 0.25)
    check(r, "claims_related_complaint_share", 1, 4, 0.25)
    check(r, "repeat_complaint_rate", 1, 4, 0.25)  # K1: policy A complained about 72 days earlier
    # urgent: one answered the same day, one late; the third is not due yet at 2024-12-31
    check(r, "urgent_same_day_rate", 1, 2, 0.5)
    # overdue at 2024-12-31: O2, O3 (decided later), O5 (from 2023), O6 (paused, but not today)
    check(r, "overdue_count", 4, None, 4)


def test_overdue_now_leaves_out_a_case_paused_today(scenario):
    from xiaobao.kpi.tests.book import D

    r = compute(period="2025-01", today=D(2025, 1, 15))
    # as of today: O2, O5 and K6 (due 2025-01-14); O6 is paused today; O3 was decided on 2025-01-05
    check(r, "overdue_count", 3, None, 3)


def test_breakdown_by_channel_uses_the_policy_named_on_the_case(scenario):
    groups = {g["key"]: g["numerator"] for g in compute(by="channel")["complaints_count"]["groups"]}
    assert groups == {None: 1, "个险": 2, "银保": 1, "团险": 0}


def test_a_month_of_the_monthly_series_is_that_month_as_a_period(scenario):
    by_month = compute(by="month")
    for month in ("2024-03", "2024-07", "2024-12"):
        alone = compute(period=month)
        for kpi in COMPUTED_IDS:
            group = next(g for g in by_month[kpi]["groups"] if g["key"] == month)
            assert (group["value"], group["numerator"], group["denominator"]) == (
                alone[kpi]["value"],
                alone[kpi]["numerator"],
                alone[kpi]["denominator"],
            ), (month, kpi)
    assert [g["key"] for g in by_month["persistency_13m"]["groups"]] == [
        f"2024-{m:02d}" for m in range(1, 13)
    ]


def test_an_empty_period_gives_nulls_not_a_crash(scenario):
    r = compute(period="2030Q1")
    check(r, "complaints_per_100m_premium", 0, 0, None)
    check(r, "persistency_13m", 0, 0, None)
    check(r, "claims_median_days_to_pay", None, 0, None)
    check(r, "complaints_count", 0, None, 0)
    assert r["quality_index"]["value"] is None and r["quality_grade"]["value"] is None


def test_an_empty_store_gives_nulls_not_a_crash(tree):
    r = compute(by="month")
    check(r, "surrender_rate_policies", 0, 0, None)
    assert all(g["value"] is None for g in r["persistency_13m"]["groups"])


def test_json_is_keyed_by_kpi_id_with_fractions_and_yuan(scenario):
    data = engine.to_json(compute())
    assert set(REQUIRED) <= set(data)
    for entry in data.values():
        assert set(entry) == {"value", "numerator", "denominator", "definition"}
    assert data["complaint_on_time_rate"]["value"] < 1  # a fraction, not a percentage
    assert data["surrender_rate_amount"]["denominator"] == 590000  # yuan
