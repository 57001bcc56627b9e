"""The demo branch's governance and training (xiaobao/governance/demo.py, xiaobao/training/demo.py)."""

import datetime as dt
import random
from types import SimpleNamespace

import pytest
from django.db import transaction

from xiaobao.accounts.models import User
from xiaobao.demo.builders import build_demo
from xiaobao.governance import demo as governance_demo
from xiaobao.governance.models import (
    ActionItem,
    Bulletin,
    Drill,
    ExecutiveTalk,
    Meeting,
    Plan,
    QualityIssue,
    Rule,
    RuleVersion,
)
from xiaobao.governance.selectors import rule_versions
from xiaobao.org.models import Unit
from xiaobao.training import demo as training_demo
from xiaobao.training.models import Attendance, TrainingSession
from xiaobao.training.selectors import coverage, untrained

TODAY = dt.date(2026, 11, 28)


def build(seed: int = 2024) -> dict:
    """The demo branch, then this app's builders if build_demo() does not discover them yet."""
    summary = build_demo(seed, today=TODAY, scale=0.05)
    if not Meeting.objects.exists():
        ctx = SimpleNamespace(
            rng=random.Random(seed),
            seed=seed,
            today=TODAY,
            scale=0.05,
            units={u.code: u for u in Unit.objects.all()},
            users={u.username: u for u in User.objects.select_related("unit")},
        )
        summary.update(governance_demo.build(ctx))
        summary.update(training_demo.build(ctx))
    return summary


@pytest.mark.django_db
def test_the_demo_branch_runs_its_committee_every_month_and_follows_up_its_resolutions():
    summary = build()
    meetings_2024 = Meeting.objects.filter(held_on__year=2024)
    assert meetings_2024.count() == 12 and {m.held_on.month for m in meetings_2024} == set(range(1, 13))
    for meeting in meetings_2024:
        assert 1 <= meeting.resolutions.count() <= 3 and meeting.minutes and meeting.attendees.exists()
        assert meeting.chair.username == "fgs_head"
    assert Meeting.objects.filter(held_on__year=2026, status="已召开").count() == 11
    items = ActionItem.objects.all()
    assert summary["governance_actions"] == items.count() > 60
    closed = items.filter(status="已办结")
    assert closed.count() > items.count() * 0.7
    assert not closed.filter(evidence=None).exists()  # closing needs evidence, in the demo too
    overdue = items.filter(status="进行中", due_date__lt=TODAY)
    due_soon = items.filter(status="进行中", due_date__gte=TODAY, due_date__lte=TODAY + dt.timedelta(days=7))
    assert 2 <= overdue.count() <= 6 and due_soon.exists()
    assert overdue.filter(due_date__gte=TODAY - dt.timedelta(days=10)).exists()
    assert ExecutiveTalk.objects.filter(held_on__year=2024).count() == 4
    plans = Plan.objects.filter(year=2024)
    assert {p.kind for p in plans} >= {"年度消保工作计划", "金融教育计划", "培训计划", "应急预案"}
    assert set(plans.values_list("status", "decided_by__username")) == {("已批准", "fgs_head")}
    assert Plan.objects.filter(year=2026, status="待审批").exists()  # something for the unit head to approve
    assert Drill.objects.filter(held_on__year=2024, status="已演练").count() == 2
    assert QualityIssue.objects.filter(found_on__year=2024).exists()
    assert QualityIssue.objects.exclude(case=None).exists()  # found in the hotline and complaint ledger
    assert Bulletin.objects.filter(issued_on__year=2024).count() == 2


@pytest.mark.django_db
def test_the_rules_library_has_current_superseded_and_repealed_rules():
    build()
    assert Rule.objects.count() >= 8 and Rule.objects.filter(status="已废止").exists()
    states = {row.state for rule in Rule.objects.all() for row in rule_versions(rule, today=TODAY)}
    assert {"current", "superseded"} <= states
    assert RuleVersion.objects.filter(effective_on__year=2024).exists()


@pytest.mark.django_db
def test_training_covers_most_staff_and_names_a_few_who_missed_2024():
    summary = build()
    assert 9 <= TrainingSession.objects.filter(held_on__year=2024).count() <= 10
    assert summary["training_sessions"] == TrainingSession.objects.count()
    branch = Unit.objects.get(code="8637")
    result = coverage(unit=branch, year=2024)
    assert result.total.staff == User.objects.filter(is_active=True).count()
    assert 0.8 <= result.total.rate < 1
    missed = list(untrained(unit=branch, year=2024))
    assert 3 <= len(missed) <= 6
    assert coverage(unit=branch, year=2026).total.trained > 0


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_governance_and_training():
    def snapshot():
        build(11)
        return (
            sorted(Meeting.objects.values_list("title", "held_on", "status")),
            sorted(ActionItem.objects.values_list("title", "owner__username", "due_date", "status")),
            sorted(TrainingSession.objects.values_list("ref", "held_on")),
            sorted(QualityIssue.objects.values_list("ref", "found_on", "status", "owner__username")),
            sorted(Attendance.objects.values_list("session__ref", "user__username")),
        )

    class Rollback(Exception):
        pass

    results = []
    for _ in range(2):
        try:
            with transaction.atomic():
                results.append(snapshot())
                raise Rollback
        except Rollback:
            pass
    assert results[0] == results[1]
