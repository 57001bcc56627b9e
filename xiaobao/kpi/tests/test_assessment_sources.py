"""The KPI figures the self-assessment and the year-end report read (kpi/assessment_sources.py) are the
engine's own, for the unit's subtree, with their definitions and a link to the KPI page."""

import datetime as dt

import pytest
import time_machine

from xiaobao.assessment.sources import figure_for, source_for
from xiaobao.kpi import assessment_sources
from xiaobao.kpi.tests.scenario import TODAY, make_scenario_cases, write_scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(tree, make_case):
    write_scenario()
    make_scenario_cases(make_case)
    assessment_sources._runs.clear()
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(10)), tick=False):
        yield tree
    assessment_sources._runs.clear()


def test_the_complaint_rates_are_the_engines_for_the_units_subtree(scenario):
    c1 = scenario["C1"]
    # C1's subtree (see test_expressions.test_a_unit_sees_its_subtree_only): 3 complaints,
    # 10,700.00 yuan of premiums received in 2024, 8 policies in force at the year end.
    per_premium = source_for("kpi.complaints_per_100m_premium").compute(c1, 2024)
    assert per_premium.value == pytest.approx(3 * 1e8 / 10700)
    assert per_premium.detail == "3 / 10700.00"
    assert per_premium.link == "/kpi/?period=2024&unit=C1"
    per_policy = source_for("kpi.complaints_per_10k_policies").compute(c1, 2024)
    assert per_policy.value == pytest.approx(3 * 1e4 / 8) and per_policy.display.endswith("件/万张")
    stored = figure_for("kpi.complaints_per_10k_policies", c1, 2024)
    assert stored["available"] is True and "万张保单投诉量" in stored["definition"]


def test_the_quality_index_comes_with_its_grade(scenario):
    from xiaobao.kpi import engine
    from xiaobao.kpi.periods import parse_period

    expected = engine.compute(period=parse_period("2024"), unit=scenario["C1"]).results
    figure = source_for("kpi.service_quality_index").compute(scenario["C1"], 2024)
    assert figure.value == expected["quality_index"]["value"]
    grade = expected["quality_grade"]["value"]
    if grade:
        assert f"({grade})" in figure.display
