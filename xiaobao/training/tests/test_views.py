"""Training over HTTP: sessions, attendance by form and by upload, coverage and the untrained list."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.training import services
from xiaobao.training.models import TrainingSession


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def test_recording_a_session_and_its_attendance(logged_in, alice, personas, clock):
    bad = logged_in.post(reverse("training-session-new"), {"unit": "C1", "topic": "x"})
    assert bad.status_code == 400 and TrainingSession.objects.count() == 0
    ok = logged_in.post(
        reverse("training-session-new"),
        {
            "unit": "C1",
            "topic": "监管政策解读",
            "kind": "监管政策解读",
            "mode": "线下",
            "trainer": "消保部",
            "held_on": "2024-09-19",
            "hours": "2",
        },
    )
    session = TrainingSession.objects.get()
    assert ok.status_code == 302 and session.ref == "PX2024-001"
    handler = personas[(Role.HANDLER, "inside")]
    response = logged_in.post(
        reverse("training-attendance", args=[session.pk]), {"users": [str(handler.pk), str(alice.pk)]}
    )
    assert response.status_code == 302
    assert set(session.attendance.values_list("user__username", flat=True)) == {
        handler.username,
        alice.username,
    }
    page = logged_in.get(reverse("training-session-detail", args=[session.pk])).content.decode()
    assert "参训人员 (2 人)" in page
    outsider = personas[(Role.HANDLER, "outside")]
    refused = logged_in.post(reverse("training-attendance", args=[session.pk]), {"users": [str(outsider.pk)]})
    assert refused.status_code == 400  # not a choice for alice


def test_coverage_page_lists_who_was_not_trained_and_exports_them(logged_in, alice, personas, make_session):
    session = make_session()
    services.attendance_set(actor=alice, session=session, users=[alice])
    page = logged_in.get(reverse("training-coverage"), {"year": "2024"}).content.decode()
    assert "20.0%" in page and 'id="coverage-data"' in page
    for role in (Role.ADMIN, Role.HANDLER, Role.UNIT_HEAD, Role.AUDITOR):
        assert personas[(role, "inside")].username in page
    response = logged_in.get(reverse("training-untrained-export"), {"year": "2024", "unit": "C1"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("机构", "机构代码", "用户名", "姓名", "角色") and len(rows) == 5
    assert AuditEntry.objects.filter(action="export", details__what="training_untrained").exists()
    assert logged_in.get(reverse("training-coverage"), {"unit": "C2"}).status_code == 404


def test_uploading_a_sign_in_sheet_runs_the_import(logged_in, personas, make_session):
    session = make_session()
    sheet = f"培训编号,姓名\n{session.ref},handler_in\n{session.ref},nobody\n".encode()
    response = logged_in.post(
        reverse("training-attendance-import"), {"file": SimpleUploadedFile("签到.csv", sheet)}, follow=True
    )
    page = response.content.decode()
    assert "新增 1" in page and "找不到姓名为 nobody 的在职员工" in page
    assert list(session.attendance.values_list("user__username", flat=True)) == ["handler_in"]
    dry = logged_in.post(
        reverse("training-attendance-import"),
        {"file": SimpleUploadedFile("签到.csv", sheet), "dry_run": "on"},
        follow=True,
    )
    assert "试运行" in dry.content.decode()


def test_the_session_list_runs_a_constant_number_of_queries(logged_in, alice, make_session):
    make_session()
    with CaptureQueriesContext(connection) as one:
        assert logged_in.get(reverse("training-index"), {"year": "2024"}).status_code == 200
    for day in range(1, 11):
        services.attendance_set(
            actor=alice, session=make_session(held_on=dt.date(2024, 9, day)), users=[alice]
        )
    with CaptureQueriesContext(connection) as many:
        response = logged_in.get(reverse("training-index"), {"year": "2024"})
    assert response.status_code == 200 and "PX2024-011" in response.content.decode()
    assert len(many.captured_queries) == len(one.captured_queries)


def test_outsiders_do_not_see_the_units_sessions(client, personas, make_session):
    session = make_session()
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert client.get(reverse("training-session-detail", args=[session.pk])).status_code == 404
    assert session.ref not in client.get(reverse("training-index"), {"year": "2024"}).content.decode()


def test_the_training_command_prints_coverage_as_json(alice, personas, tree, make_session):
    import json
    from io import StringIO

    from django.core.management import call_command

    services.attendance_set(actor=alice, session=make_session(), users=[alice])
    out = StringIO()
    call_command("training", "coverage", "--year", "2024", "--unit", "C1", "--untrained", stdout=out)
    result = json.loads(out.getvalue())
    assert result["total"] == {"label": "甲中心支公司", "code": "C1", "staff": 5, "trained": 1, "rate": 0.2}
    assert len(result["untrained"]) == 4


def test_branch_wide_sessions_are_read_below_the_branch_but_recorded_by_the_branch(
    client, personas, tree, make_session
):
    admin = personas[(Role.ADMIN, "inside")]
    session = make_session(actor=admin, unit=tree["BR"])
    officer = personas[(Role.OFFICER, "inside")]
    client.force_login(officer)
    assert session.ref in client.get(reverse("training-index"), {"year": "2024"}).content.decode()
    page = client.get(reverse("training-session-detail", args=[session.pk])).content.decode()
    assert "attendance-form" not in page
    refused = client.post(reverse("training-attendance", args=[session.pk]), {"users": [str(officer.pk)]})
    assert refused.status_code == 403 and session.attendance.count() == 0
