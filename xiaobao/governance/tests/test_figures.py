"""The year's figures as the year-end report and the self-assessment read them: the
assessment_sources functions of governance and training, and `xiaobao governance`."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xiaobao.governance import assessment_sources as governance_sources
from xiaobao.governance import services
from xiaobao.governance.tests.conftest import pdf
from xiaobao.training import assessment_sources as training_sources
from xiaobao.training import services as training_services


@pytest.fixture
def year_of_work(alice, bob, head, tree, make_action, clock):
    done = make_action(due_date=dt.date(2024, 9, 30))  # closed today: on time
    services.action_evidence_add(actor=bob, item=done, upload=pdf())
    services.action_transition(actor=bob, item=done, action="close")
    make_action(due_date=dt.date(2024, 9, 18))
    services.drill_create(
        actor=alice,
        unit=tree["C1"],
        title="演练",
        scenario_kind="舆情事件",
        scenario="舆情",
        held_on=dt.date(2024, 6, 1),
        findings="及时",
    )
    session = training_services.session_create(
        actor=alice,
        unit=tree["C1"],
        topic="制度学习",
        kind="消保制度",
        trainer="消保部",
        held_on=dt.date(2024, 9, 1),
        hours=2,
    )
    training_services.attendance_set(actor=alice, session=session, users=[alice, bob])


def test_governance_functions_return_value_numerator_denominator_and_definition(year_of_work, tree):
    meetings = governance_sources.committee_meetings(2024, tree["BR"])
    assert meetings == {
        "value": 1,
        "numerator": 1,
        "denominator": None,
        "definition": governance_sources.DEFINITIONS["committee_meetings"],
    }
    months = governance_sources.committee_months(2024, "C1")
    assert (months["numerator"], months["denominator"], months["value"]) == (1, 9, 1 / 9)
    on_time = governance_sources.actions_closed_on_time(2024, tree["C1"])
    assert (on_time["numerator"], on_time["denominator"], on_time["value"]) == (1, 2, 0.5)
    assert governance_sources.drills(2024, tree["C1"])["value"] == 1
    assert governance_sources.plans_approved(2024, tree["C1"])["value"] is None  # no plan: no rate
    assert governance_sources.drills(2024, tree["C2"])["value"] == 0


def test_training_functions(year_of_work, tree):
    coverage = training_sources.training_coverage(2024, tree["C1"])
    assert (coverage["numerator"], coverage["denominator"], coverage["value"]) == (2, 5, 0.4)
    assert training_sources.training_sessions(2024, "C1")["value"] == 1
    assert training_sources.training_hours(2024, tree["C1"])["value"] == 4.0


def test_the_self_assessment_finds_the_sources_it_expects(year_of_work, tree):
    from xiaobao.assessment.sources import all_sources, figure_for

    keys = set(all_sources())
    assert {"governance.committee_meetings", "training.coverage"} <= keys
    figure = figure_for("training.coverage", tree["C1"], 2024)
    assert figure["available"] is True and figure["value"] == 40.0
    assert figure_for("governance.committee_meetings", tree["BR"], 2024)["value"] == 1


def test_the_governance_command_prints_the_years_figures_and_overdue_items(year_of_work, tree):
    out = StringIO()
    call_command("governance", "summary", "--year", "2024", "--unit", "BR", stdout=out)
    summary = json.loads(out.getvalue())
    assert (summary["unit"], summary["meetings_held"], summary["actions"], summary["actions_overdue"]) == (
        "BR",
        1,
        2,
        1,
    )
    out = StringIO()
    call_command("governance", "overdue", "--unit", "C1", stdout=out)
    (row,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (row["owner"], row["due_date"], row["days_overdue"]) == ("handler_in", "2024-09-18", 2)
    with pytest.raises(CommandError, match="不存在"):
        call_command("governance", "summary", "--unit", "NOPE", stdout=StringIO())
