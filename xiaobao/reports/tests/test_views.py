"""The reports pages: generate in the background, follow the status, download; edit the templates."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.reports import services
from xiaobao.reports.models import JobStatus, NarrativeTemplate, ReportJob
from xiaobao.reports.word import document_text

HX = {"HTTP_HX_REQUEST": "true"}


def test_generate_in_the_background_then_download(
    audit_log_flushable, client, tree, alice, tmp_path, monkeypatch
):
    client.force_login(alice)
    response = client.post(
        reverse("reports-generate"), {"kind": "yearend", "period": "2031", "unit": "C1", "fmt": "docx"}
    )
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports-job", args=[job.pk])
    assert (job.kind, job.period, job.unit, job.actor) == ("yearend", "2031", tree["C1"], alice)
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'data-testid="job"' in page.content.decode()
    services.report_job_wait(job.pk, timeout=120)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert job.snapshot is not None and job.snapshot.period == "2031" and job.seconds is not None

    partial = client.get(reverse("reports-job", args=[job.pk]), **HX).content.decode()
    assert "job-download" in partial and "<html" not in partial
    row = client.get(reverse("reports-job", args=[job.pk]) + "?row=1", **HX).content.decode()
    assert row.startswith("<tr") and "hx-get" not in row  # finished: the row stops polling

    index = client.get(reverse("reports-index")).content.decode()
    assert reverse("reports-download", args=[job.pk]) in index

    download = client.get(reverse("reports-download", args=[job.pk]))
    assert download.status_code == 200
    target = tmp_path / "got.docx"
    target.write_bytes(b"".join(download.streaming_content))
    text = document_text(target)
    assert "甲中心支公司2031年消费者权益保护工作总结" in text and f"指标快照 #{job.snapshot_id}" in text
    assert AuditEntry.objects.filter(action="report_download").count() == 1


def test_a_failing_report_is_recorded_as_failed(audit_log_flushable, tree, alice, monkeypatch):
    def broken(**kw):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(services, "report_write", broken)
    job = ReportJob.objects.create(kind="yearend", period="2024", unit=tree["C1"], actor=alice)
    services.report_job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "磁盘已满" in job.message and job.file_path == ""
    services.report_job_run(job.pk)  # a finished job is not run again
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


@pytest.mark.parametrize(
    "data, field",
    [
        ({"kind": "yearend", "period": "2024Q4", "unit": "C1", "fmt": "docx"}, "period"),
        ({"kind": "complaints", "period": "2024", "unit": "C1", "fmt": "xlsx"}, "period"),
        ({"kind": "complaints", "period": "2024Q4", "unit": "C1", "fmt": "docx"}, "fmt"),
        ({"kind": "yearend", "period": "2024", "unit": "C2", "fmt": "docx"}, "unit"),  # outside alice's unit
    ],
)
def test_bad_requests_are_refused_with_400(client, alice, data, field):
    client.force_login(alice)
    response = client.post(reverse("reports-generate"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ReportJob.objects.exists()


def test_the_list_shows_the_units_reports_only(client, personas, tree, alice, django_assert_max_num_queries):
    for unit in ("C1", "C2", "C1"):
        ReportJob.objects.create(
            kind="yearend", period="2024", unit=tree[unit], actor=alice, status=JobStatus.DONE
        )
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        body = client.get(reverse("reports-index")).content.decode()
    assert body.count('data-testid="job-row"') == 2
    client.force_login(personas[(Role.AUDITOR, "inside")])
    body = client.get(reverse("reports-index")).content.decode()
    assert 'data-testid="generate-form"' not in body and body.count('data-testid="job-row"') == 2


def test_an_unknown_placeholder_is_refused_with_the_valid_ones(client, alice):
    client.force_login(alice)
    url = reverse("reports-template-edit", args=["edu.offline"])
    response = client.post(url, {"heading": "线下活动", "body": "举办活动{offline_events},触达{people}人。"})
    assert response.status_code == 400
    error = response.content.decode()
    assert "未知的占位符: {people}" in error and "{offline_reach}" in error
    assert "<code>edu.offline</code>" in error and "线下活动触达人数" in error  # the paragraph and the labels
    assert not NarrativeTemplate.objects.exists()

    response = client.post(url, {"heading": "线下活动", "body": "{offline_events.__class__}"})
    assert response.status_code == 400 and not NarrativeTemplate.objects.exists()

    response = client.post(
        url, {"heading": "线下活动", "body": "全年线下活动{offline_events},覆盖约{offline_reach}。"}
    )
    assert response.status_code == 302
    stored = NarrativeTemplate.objects.get(key="edu.offline")
    assert stored.updated_by == alice and AuditEntry.objects.filter(action="report_template_save").exists()

    reset = client.post(reverse("reports-template-reset", args=["edu.offline"]))
    assert reset.status_code == 302 and not NarrativeTemplate.objects.exists()


def test_an_edited_template_is_used_in_the_report(tree, alice, tmp_path):
    services.narrative_template_save(
        actor=alice,
        key="edu.offline",
        heading="线下宣传",
        body="{year}年线下活动{offline_events},监管{regulator_phrase}。",
    )
    target = tmp_path / "r.docx"
    services.yearend_write(unit=tree["C1"], year=2031, target=target, actor=alice)
    text = document_text(target)
    assert "1.线下宣传" in text and "2031年线下活动0场,监管实现监管投诉零转办。" in text


def test_template_service_refusals(alice, db):
    with pytest.raises(ValidationError, match="没有这个段落"):
        services.narrative_template_save(actor=alice, key="nope", heading="", body="x")
    with pytest.raises(ValidationError, match="占位符写法有误"):
        services.narrative_template_save(actor=alice, key="lead", heading="", body="{year")
    with pytest.raises(ValidationError, match="未知的占位符"):
        services.narrative_template_save(actor=alice, key="lead", heading="{title}", body="{year}")
