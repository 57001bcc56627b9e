"""Freezing records where the figures came from; recomputing reads the same store versions and the
cases up to the cut-off, so a frozen period reproduces after newer imports; snapshots compare."""

import datetime as dt
import shutil
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
import time_machine
from django.utils import timezone

from xiaobao.book import store
from xiaobao.kpi import engine, selectors, services
from xiaobao.kpi.models import KpiSnapshot, QualityIndicator, QualityValue
from xiaobao.kpi.periods import parse_period
from xiaobao.kpi.sources import MissingVersion
from xiaobao.kpi.tests.book import D, policy, premium, write
from xiaobao.kpi.tests.scenario import make_scenario_cases, write_scenario

pytestmark = pytest.mark.django_db
FROZEN_AT = dt.datetime(2025, 1, 20, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def scenario(tree, make_case):
    versions = write_scenario()
    make_scenario_cases(make_case)
    return tree, versions


def newer_import():
    """A later import (batch 2): one more policy in force and another year-2 premium."""
    policies = pq.read_table(store.version_dir("policies")).to_pylist()
    policies.append(policy("Z", effective_date=D(2023, 4, 1), annual_premium=Decimal("5000"), _batch=2))
    write("policies", policies)
    premiums = pq.read_table(store.version_dir("premiums")).to_pylist()
    premiums.append(premium("Z", 2, D(2024, 4, 1), "5000", _batch=2))
    write("premiums", premiums)


def test_freeze_records_versions_batches_cases_and_parameters(scenario, alice):
    tree, versions = scenario
    with time_machine.travel(FROZEN_AT, tick=False):
        snapshot = services.snapshot_freeze(actor=alice, period=parse_period("2024"), unit=tree["C1"])
    assert snapshot.store_versions == versions
    assert snapshot.batch_ids == [1]
    assert snapshot.cases_cutoff == FROZEN_AT
    assert snapshot.cases_count > 0 and len(snapshot.cases_sha256) == 64
    assert (
        snapshot.parameters["policy_basis"] == "in_force_end" and snapshot.parameters["today"] == "2025-01-20"
    )
    assert snapshot.results["complaints_count"]["value"] == 3
    assert snapshot.computed_by == alice
    assert selectors.snapshot_store_versions() == {t: {v} for t, v in versions.items()}
    from xiaobao.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="kpi_freeze", object_id=str(snapshot.pk)).exists()


def test_a_frozen_period_reproduces_after_a_newer_import_and_new_cases(scenario, alice, make_case):
    tree, versions = scenario
    with time_machine.travel(FROZEN_AT, tick=False):
        snapshot = services.snapshot_freeze(
            actor=alice, period=parse_period("2024"), unit=tree["C1"], by="month"
        )
    newer_import()
    # A complaint received after the freeze, dated inside the period by its receipt: the cut-off keeps it out.
    with time_machine.travel(FROZEN_AT + dt.timedelta(days=3), tick=False):
        make_case(received=dt.datetime(2025, 1, 22, 9), policy_no="A")
        current = engine.compute(period=parse_period("2024"), unit=tree["C1"], by="month")
        fresh = services.snapshot_recompute(actor=alice, snapshot=snapshot)
    # Today's figures see the new policy Z; the recomputed snapshot does not.
    assert engine.to_json(current.results)["persistency_13m"]["denominator"] == 11000
    assert fresh.results == snapshot.results
    assert fresh.store_versions == versions and fresh.recomputed_from == snapshot
    assert fresh.cases_sha256 == snapshot.cases_sha256
    diff = selectors.snapshot_compare(snapshot, fresh)
    assert diff["changed"] == [] and not diff["cases_changed"] and not diff["parameters_changed"]


def test_a_new_freeze_after_the_import_differs_and_the_comparison_says_why(scenario, alice):
    tree, versions = scenario
    with time_machine.travel(FROZEN_AT, tick=False):
        before = services.snapshot_freeze(actor=alice, period=parse_period("2024"), unit=tree["C1"])
    newer_import()
    with time_machine.travel(FROZEN_AT + dt.timedelta(days=1), tick=False):
        after = services.snapshot_freeze(actor=alice, period=parse_period("2024"), unit=tree["C1"])
    assert after.batch_ids == [1, 2]
    diff = selectors.snapshot_compare(before, after)
    changed = {r["id"]: r for r in diff["changed"]}
    assert "persistency_13m" in changed and "denominator" in changed["persistency_13m"]["changed"]
    assert "complaints_per_10k_policies" in changed
    assert diff["versions"]["policies"] == (versions["policies"], "v000002")
    assert diff["versions"]["claims"] == (versions["claims"], versions["claims"])


def test_recompute_uses_the_recorded_parameters(scenario, alice):
    tree, _versions = scenario
    with time_machine.travel(FROZEN_AT, tick=False):
        snapshot = services.snapshot_freeze(actor=alice, period=parse_period("2024"), unit=tree["C1"])
    indicator = QualityIndicator.objects.get(code="policy_delivery")
    QualityValue.objects.create(indicator=indicator, unit=tree["C1"], period="2024", value=Decimal("0.5"))
    fresh = services.snapshot_recompute(actor=alice, snapshot=snapshot)
    assert fresh.results == snapshot.results


def test_recompute_refuses_when_a_version_was_cleaned_up(scenario, alice):
    tree, versions = scenario
    snapshot = services.snapshot_freeze(actor=alice, period=parse_period("2024"), unit=tree["C1"])
    newer_import()
    shutil.rmtree(store.version_dir("policies", versions["policies"]))
    with pytest.raises(MissingVersion):
        services.snapshot_recompute(actor=alice, snapshot=snapshot)
    assert KpiSnapshot.objects.count() == 1


def test_snapshot_of_a_unit_is_visible_inside_it_only(scenario, alice, personas):
    from xiaobao.accounts.models import Role

    tree, _ = scenario
    snapshot = services.snapshot_freeze(actor=alice, period=parse_period("2024-07"), unit=tree["C1"])
    assert snapshot in selectors.snapshots_for_user(alice)
    assert snapshot not in selectors.snapshots_for_user(personas[(Role.OFFICER, "outside")])
    whole = services.snapshot_freeze(
        actor=personas[(Role.ADMIN, "outside")], period=parse_period("2024-07"), unit=None
    )
    assert whole not in selectors.snapshots_for_user(alice)
    assert whole in selectors.snapshots_for_user(personas[(Role.ADMIN, "inside")])
    assert timezone.now() >= whole.computed_at
