"""Training sessions and attendance: who may record what, and the coverage figures they make."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.conftest import make_user
from xiaobao.training import services
from xiaobao.training.models import Attendance
from xiaobao.training.selectors import coverage, untrained

pytestmark = pytest.mark.django_db


def test_sessions_are_numbered_per_year_and_refs_are_unique(make_session):
    first, second = make_session(), make_session()
    assert (first.ref, second.ref) == ("PX2024-001", "PX2024-002")
    assert make_session(held_on=dt.date(2025, 1, 3)).ref == "PX2025-001"
    with pytest.raises(ValidationError) as refused:
        make_session(ref="PX2024-001", kind="培训", hours=0, trainer=" ")
    assert set(refused.value.message_dict) == {"ref", "kind", "hours", "trainer"}


def test_a_session_outside_the_scope_or_by_an_auditor_is_refused(make_session, personas, tree):
    with pytest.raises(PermissionDenied):
        make_session(actor=personas[(Role.OFFICER, "outside")])
    with pytest.raises(PermissionDenied):
        make_session(actor=personas[(Role.AUDITOR, "inside")])


def test_attendance_by_form_adds_and_removes_within_the_writers_scope_only(
    alice, personas, make_session, tree
):
    session = make_session(unit=tree["BR"], actor=personas[(Role.ADMIN, "inside")])
    outsider = personas[(Role.HANDLER, "outside")]
    services.attendance_set(actor=personas[(Role.ADMIN, "inside")], session=session, users=[outsider])
    c1_staff = [personas[(role, "inside")] for role in (Role.HANDLER, Role.UNIT_HEAD)]
    # alice (C1) cannot see a BR session, so she cannot record it either.
    with pytest.raises(PermissionDenied):
        services.attendance_set(actor=alice, session=session, users=c1_staff)
    c1_session = make_session()
    counts = services.attendance_set(actor=alice, session=c1_session, users=c1_staff)
    assert counts == {"added": 2, "removed": 0, "total": 2}
    counts = services.attendance_set(actor=alice, session=c1_session, users=c1_staff[:1])
    assert counts == {"added": 0, "removed": 1, "total": 1}
    with pytest.raises(ValidationError, match="权限范围"):
        services.attendance_set(actor=alice, session=c1_session, users=[outsider])
    assert AuditEntry.objects.filter(object_type="training.trainingsession", action="update").count() == 3


def test_attendance_of_people_above_the_writer_is_kept(alice, personas, make_session, tree):
    admin = personas[(Role.ADMIN, "inside")]
    session = make_session()
    services.attendance_set(actor=admin, session=session, users=[personas[(Role.OFFICER, "outside")]])
    services.attendance_set(actor=alice, session=session, users=[alice])
    assert session.attendance.count() == 2


def test_attendance_of_a_session_not_yet_held_is_refused(alice, make_session):
    session = make_session(held_on=dt.date(2024, 10, 10))
    with pytest.raises(ValidationError, match="尚未举行"):
        services.attendance_set(actor=alice, session=session, users=[alice])


def test_coverage_counts_staff_by_unit_and_role_and_lists_who_was_not_trained(personas, tree, make_session):
    admin = personas[(Role.ADMIN, "inside")]
    dept = make_user("c1kf_1", tree["C1KF"], [Role.HANDLER])
    make_user("gone", tree["C1"], [Role.HANDLER]).__class__.objects.filter(username="gone").update(
        is_active=False
    )
    this_year = make_session(actor=admin)
    last_year = make_session(actor=admin, held_on=dt.date(2023, 11, 1))
    services.attendance_set(
        actor=admin,
        session=this_year,
        users=[personas[(Role.OFFICER, "inside")], personas[(Role.HANDLER, "inside")], dept],
    )
    services.attendance_set(actor=admin, session=last_year, users=[personas[(Role.UNIT_HEAD, "inside")]])
    result = coverage(unit=tree["C1"], year=2024)
    # C1 staff: five personas + the department's handler; the disabled account does not count.
    assert (result.total.staff, result.total.trained, result.total.percent) == (6, 3, "50.0%")
    assert [(t.code, t.staff, t.trained, t.depth) for t in result.units] == [
        ("C1", 5, 2, 0),
        ("C1KF", 1, 1, 1),
    ]
    assert [(t.label, t.staff, t.trained) for t in result.groups] == [("甲中心支公司 (本级)", 6, 3)]
    roles = {t.code: (t.staff, t.trained) for t in result.roles}
    assert roles == {
        "admin": (1, 0),
        "officer": (1, 1),
        "handler": (2, 2),
        "unit_head": (1, 0),
        "auditor": (1, 0),
    }
    assert [u.username for u in untrained(unit=tree["C1"], year=2024)] == [
        "admin_in",
        "auditor_in",
        "unit_head_in",
    ]
    assert coverage(unit=tree["C1"], year=2023).total.trained == 1
    branch = coverage(unit=tree["BR"], year=2024)
    assert [(t.code, t.staff) for t in branch.groups] == [("C1", 6), ("C2", 5)]
    assert branch.chart() == {"labels": ["甲中心支公司", "乙中心支公司"], "count": [6, 5], "closed": [3, 0]}


def test_an_empty_unit_has_no_rate(tree, db):
    result = coverage(unit=tree["C2"], year=2024)
    assert (result.total.staff, result.total.rate, result.total.percent) == (0, None, "—")


def test_hours_are_kept_as_decimals(make_session):
    assert make_session(hours=1.5).hours == Decimal("1.5")
    assert Attendance.objects.count() == 0
