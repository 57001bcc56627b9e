"""保存期限: each record class kept as long as its rule says, then removed (or, for personal data,
crypto-shredded), with statistics and the audit chain intact; dry runs, the worker's once a day, the
command and the page."""

import datetime as dt
import json
import os
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.book import store
from xiaobao.cases.models import Case, Notification
from xiaobao.cases.services import case_create
from xiaobao.customers.models import Customer
from xiaobao.imports.models import BatchStatus, ImportBatch
from xiaobao.kpi.models import KpiSnapshot
from xiaobao.kpi.tests.book import policy, write
from xiaobao.reports.models import JobStatus, ReportJob
from xiaobao.retention.models import RetentionRule, RetentionRun
from xiaobao.retention.services import retention_daily, retention_run, rule_update, rules_ensure

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def admin(personas):
    return personas[(Role.ADMIN, "outside")]


def _case(actor, unit, phone: str, *, closed_years_ago: float | None):
    case = case_create(
        actor=actor,
        unit=unit,
        kind="投诉",
        channel="4008热线",
        category="理赔纠纷",
        description="理赔进度慢",
        customer_name="王五",
        customer_phone=phone,
        received_at=TODAY - dt.timedelta(days=400),
    )
    if closed_years_ago is not None:
        Case.objects.filter(pk=case.pk).update(
            status="已办结", closed_at=TODAY - dt.timedelta(days=int(365.25 * closed_years_ago))
        )
    return case


def test_personal_data_of_customers_whose_cases_all_ended_long_ago_is_shredded(clock, personas, tree, admin):
    officer = personas[(Role.OFFICER, "inside")]
    old = _case(officer, tree["C1"], "13800000001", closed_years_ago=11)
    mixed = _case(officer, tree["C1"], "13800000002", closed_years_ago=11)
    _case(officer, tree["C1"], "13800000002", closed_years_ago=None)  # the same person, still open
    recent = _case(officer, tree["C1"], "13800000003", closed_years_ago=1)
    assert mixed.customer_id != old.customer_id and Case.objects.filter(customer=mixed.customer).count() == 2

    dry = retention_run(trigger="command", dry_run=True)
    assert dry.results["case_personal"]["count"] == 1
    assert not Customer.objects.filter(subject__erased_at__isnull=False).exists()

    run = retention_run(trigger="command")

    assert run.results["case_personal"]["count"] == 1
    erased = Customer.objects.filter(subject__erased_at__isnull=False)
    assert list(erased.values_list("pk", flat=True)) == [old.customer_id]
    assert erased.get().phone_enc is None and erased.get().phone_masked == ""
    for kept in (mixed, recent):
        assert Customer.objects.get(pk=kept.customer_id).phone_masked.startswith("138")
    assert Case.objects.count() == 4  # the cases, and every count over them, stay
    assert AuditEntry.objects.filter(action="erase").count() == 1
    call_command("audit", "verify")
    assert retention_run(trigger="command").results["case_personal"]["count"] == 0  # idempotent


def test_files_notifications_sessions_and_old_store_versions_go_when_due(clock, tmp_path, alice, tree, admin):
    old, new = TODAY - dt.timedelta(days=200), TODAY - dt.timedelta(days=10)
    files = {}
    for name, when in (("old", old), ("new", new)):
        errors = tmp_path / f"{name}-errors.xlsx"
        errors.write_bytes(b"rows with personal data")
        report = tmp_path / f"{name}.docx"
        report.write_bytes(b"report")
        files[name] = (errors, report)
        ImportBatch.objects.create(
            kind="cases",
            file_name=f"{name}.csv",
            file_sha256="0" * 64,
            status=BatchStatus.DONE,
            errors_file=str(errors),
            finished_at=when,
        )
        ReportJob.objects.create(
            kind="yearend",
            period="2024",
            unit=tree["C1"],
            actor=alice,
            status=JobStatus.DONE,
            file_path=str(report),
            file_name="r.docx",
            finished_at=when - dt.timedelta(days=600),  # reports keep 730 days: only "old" is due
        )
        note = Notification.objects.create(user=alice, message=f"{name}")
        Notification.objects.filter(pk=note.pk).update(created_at=when - dt.timedelta(days=300))
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=TODAY - dt.timedelta(minutes=1)
    )
    live = SessionStore()
    live.create()
    Session.objects.filter(session_key=live.session_key).update(expire_date=TODAY + dt.timedelta(minutes=20))
    # Policies: v1 old and unreferenced (goes), v2 old but cited by a snapshot (stays), v3 current.
    for n in range(3):
        write("policies", [policy(f"P{n}")])
    for version in ("v000001", "v000002", "v000003"):
        stamp = (TODAY - dt.timedelta(days=400)).timestamp()
        os.utime(store.table_dir("policies") / version, (stamp, stamp))
    KpiSnapshot.objects.create(
        period="2024",
        unit=tree["C1"],
        store_versions={"policies": "v000002"},
        results={},
        cases_cutoff=TODAY,
        computed_by=alice,
        backend="duckdb",
        computed_at=TODAY,
        cases_sha256="0" * 64,
    )

    run = retention_run(trigger="command")

    counts = {key: result["count"] for key, result in run.results.items()}
    assert counts == {
        "case_personal": 0,
        "import_errors": 1,
        "report_files": 1,
        "notifications": 1,
        "store_versions": 1,
        "sessions": 1,
        "audit_log": 0,
    }
    assert not files["old"][0].exists() and files["new"][0].exists()
    assert not files["old"][1].exists() and files["new"][1].exists()
    assert ImportBatch.objects.get(file_name="old.csv").errors_file == ""
    assert ImportBatch.objects.get(file_name="old.csv").rows_read == 0  # the batch record itself stays
    gone = ReportJob.objects.get(file_path="")
    assert "按保存期限删除" in gone.message
    assert list(Notification.objects.values_list("message", flat=True)) == ["new"]
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert store.versions("policies") == ["v000002", "v000003"]
    assert run.results["audit_log"]["kept_for_ever"] is True


def test_a_dry_run_counts_and_changes_nothing(clock, tmp_path, alice):
    errors = tmp_path / "errors.xlsx"
    errors.write_bytes(b"x")
    ImportBatch.objects.create(
        kind="cases",
        file_name="a.csv",
        file_sha256="0" * 64,
        status=BatchStatus.DONE,
        errors_file=str(errors),
        finished_at=TODAY - dt.timedelta(days=365),
    )
    run = retention_run(trigger="command", dry_run=True)
    assert run.results["import_errors"]["count"] == 1
    assert errors.exists() and ImportBatch.objects.get().errors_file == str(errors)


def test_rules_are_validated_audited_and_the_audit_log_is_kept_for_ever(clock, admin, personas):
    rules = rules_ensure()
    rule_update(actor=admin, rule=rules["notifications"], keep_days=30)
    assert RetentionRule.objects.get(record_class="notifications").keep_days == 30
    entry = AuditEntry.objects.filter(action="update", object_type="retention.retentionrule").get()
    assert entry.details["keep_days"] == [365, 30]
    with pytest.raises(ValidationError, match="审计日志永久保存"):
        rule_update(actor=admin, rule=rules["audit_log"], keep_days=10)
    with pytest.raises(ValidationError, match="0 到 36500"):
        rule_update(actor=admin, rule=rules["notifications"], keep_days=-1)
    with pytest.raises(Exception, match="仅系统管理员"):
        rule_update(actor=personas[(Role.OFFICER, "inside")], rule=rules["notifications"], keep_days=5)


def test_the_worker_applies_the_rules_once_a_day(clock, db):
    assert retention_daily() is not None
    assert retention_daily() is None  # a second worker, or the next loop, the same day
    clock.move_to(TODAY + dt.timedelta(days=1))
    assert retention_daily() is not None
    assert RetentionRun.objects.filter(trigger="worker").count() == 2


def test_the_command_prints_json_and_refuses_a_bad_date(clock, db):
    out = StringIO()
    call_command("retention", "--dry-run", "--as-of", "2026-05-31", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["dry_run"] is True and printed["day"] == "2026-05-31"
    assert set(printed["results"]) == {
        "case_personal",
        "import_errors",
        "report_files",
        "notifications",
        "store_versions",
        "sessions",
        "audit_log",
    }
    with pytest.raises(CommandError, match="日期格式应为 YYYY-MM-DD"):
        call_command("retention", "--as-of", "31/05/2026")


def test_the_page_shows_the_rules_and_lets_an_administrator_change_and_run_them(
    client, clock, admin, personas
):
    client.force_login(admin)
    page = client.get(reverse("retention-index")).content.decode()
    assert "已办结工单的客户个人信息" in page and "永久保存, 不可删除" in page
    rule = rules_ensure()["notifications"]
    bad = client.post(reverse("retention-rule", args=[rule.pk]), {f"r{rule.pk}-keep_days": "abc"})
    assert bad.status_code == 400 and "保存天数须为整数" in bad.content.decode()
    good = client.post(reverse("retention-rule", args=[rule.pk]), {f"r{rule.pk}-keep_days": "90"})
    assert good.status_code == 302 and RetentionRule.objects.get(pk=rule.pk).keep_days == 90
    ran = client.post(reverse("retention-run"), {"dry_run": "1"}, follow=True).content.decode()
    assert "试运行: 到期记录共 0 项, 未做任何修改" in ran
    assert RetentionRun.objects.get().trigger == "page"
    officer = personas[(Role.OFFICER, "inside")]
    client.force_login(officer)
    assert client.get(reverse("retention-index")).status_code == 200
    assert 'name="r' not in client.get(reverse("retention-index")).content.decode()  # read only
    assert client.post(reverse("retention-run"), {}).status_code == 403
    assert Path(reverse("retention-index")).name == "retention"
