"""The import page (upload → background run → progress → summary → error file) and the browse pages
(scoped by unit, masked, filtered, paginated from Parquet)."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.book import forms as book_forms
from xiaobao.book.models import ImportJob, JobStatus
from xiaobao.book.services import import_job_wait
from xiaobao.book.tests.helpers import (
    POLICY_HEADER,
    POLICY_HEADER_CN,
    PREMIUM_HEADER,
    id_no,
    policy_row,
    premium_row,
    run_cli,
)
from xiaobao.imports.models import BatchStatus
from xiaobao.imports.tests.files import write_csv, write_xlsx

HX = {"HTTP_HX_REQUEST": "true"}


def csv_upload(rows, name="保单.csv", encoding="utf-8") -> SimpleUploadedFile:
    buffer = io.StringIO()
    import csv

    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


# ---------------------------------------------------------------- the import page


def test_upload_runs_in_the_background_with_progress_then_summary_and_error_file(
    audit_log_flushable, client, tree, alice
):
    client.force_login(alice)
    rows = [POLICY_HEADER_CN] + [policy_row(i) for i in range(1, 40)] + [policy_row(40, org_code="ZZ")]

    response = client.post(
        reverse("book-import"), {"kind": "policies", "file": csv_upload(rows, encoding="gb18030")}
    )

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("book-import-job", args=[job.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'data-testid="job"' in page.content.decode()
    import_job_wait(job.pk, timeout=120)
    job.refresh_from_db()
    assert job.status == JobStatus.FINISHED
    assert (job.rows_read, job.rows_total) == (40, 40)  # the progress the bar showed, at its end
    assert job.batch.status == BatchStatus.DONE and job.batch.details["encoding"] == "gb18030"
    assert (job.batch.created, job.batch.rejected, job.batch.actor) == (39, 1, alice)
    assert job.upload_path == "" and not any(Path(job.batch.errors_file).parent.parent.glob("uploads/*"))

    partial = client.get(reverse("book-import-job", args=[job.pk]), **HX).content.decode()
    assert "导入完成" in partial and "hx-trigger" not in partial  # finished: no more polling
    assert "机构 ZZ 不存在" in partial
    download = client.get(reverse("book-import-errors", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content).startswith(b"PK")
    assert AuditEntry.objects.filter(action="export", object_id=str(job.batch.pk)).exists()
    listing = client.get(reverse("book-import")).content.decode()
    assert "保单.csv" in listing


@pytest.mark.django_db
def test_a_running_job_polls_and_shows_rows_read(client, tree, alice):
    job = ImportJob.objects.create(
        kind="policies",
        file_name="p.csv",
        actor=alice,
        unit=alice.unit,
        status=JobStatus.RUNNING,
        rows_read=250,
        rows_total=1000,
    )
    client.force_login(alice)

    partial = client.get(reverse("book-import-job", args=[job.pk]), **HX).content.decode()

    assert 'hx-trigger="every 1s"' in partial
    assert 'value="250"' in partial and "25%" in partial


def test_an_excel_upload_goes_through_the_framework(audit_log_flushable, client, tree, alice, tmp_path):
    client.force_login(alice)
    path = write_xlsx(tmp_path / "p.xlsx", [POLICY_HEADER_CN, policy_row(1), policy_row(2)])
    upload = SimpleUploadedFile("保单.xlsx", path.read_bytes())

    client.post(reverse("book-import"), {"kind": "policies", "file": upload, "dry_run": "on"})

    job = ImportJob.objects.get()
    import_job_wait(job.pk, timeout=120)
    job.refresh_from_db()
    assert job.batch.status == BatchStatus.DRY_RUN and job.batch.created == 2
    assert "engine" not in job.batch.details


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel", "旧版 Excel"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "不支持的文件类型"),
        (bytes(range(256)) * 4, "不支持的文件类型"),
        (b"PK\x03\x04 broken zip", "已损坏"),
        (b"", "空文件"),
    ],
)
def test_uploads_are_sniffed(client, tree, alice, content, message):
    client.force_login(alice)

    response = client.post(
        reverse("book-import"), {"kind": "policies", "file": SimpleUploadedFile("p.csv", content)}
    )

    assert response.status_code == 400 and message in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_uploads_are_limited_in_size(client, tree, alice, monkeypatch):
    monkeypatch.setattr(book_forms, "UPLOAD_LIMIT", 100)
    client.force_login(alice)

    response = client.post(
        reverse("book-import"),
        {"kind": "policies", "file": csv_upload([POLICY_HEADER] + [policy_row(i) for i in range(5)])},
    )

    assert response.status_code == 400 and "文件过大" in response.content.decode()


@pytest.mark.django_db
def test_only_importers_may_upload(client, personas):
    client.force_login(personas[(Role.HANDLER, "inside")])

    response = client.post(reverse("book-import"), {"kind": "policies", "file": csv_upload([POLICY_HEADER])})

    assert response.status_code == 403 and not ImportJob.objects.exists()


# ---------------------------------------------------------------- browsing


@pytest.fixture
def book(tree, tmp_path):
    policies = [POLICY_HEADER] + [policy_row(i) for i in range(1, 8)]
    policies += [policy_row(i, org_code="C2") for i in range(8, 11)]
    policies += [policy_row(11, org_code="C1KF", status="退保", status_date="2024-07-15")]
    policies += [policy_row(12, status="退保", status_date="2024-08-15")]
    run_cli("book-import", "policies", write_csv(tmp_path / "p.csv", policies))
    premiums = [PREMIUM_HEADER] + [premium_row(i) for i in (1, 2, 8, 9)]
    run_cli("book-import", "premiums", write_csv(tmp_path / "r.csv", premiums))


def policies_shown(client, query="") -> list[str]:
    html = client.get(reverse("book-table", args=["policies"]) + query).content.decode()
    return sorted(n for n in (f"P{i:06d}" for i in range(1, 13)) if n in html)


@pytest.mark.django_db
def test_rows_are_scoped_to_the_users_units(client, book, personas):
    client.force_login(personas[(Role.HANDLER, "inside")])  # C1
    assert policies_shown(client) == [f"P{i:06d}" for i in (1, 2, 3, 4, 5, 6, 7, 11, 12)]
    client.force_login(personas[(Role.UNIT_HEAD, "outside")])  # C2
    assert policies_shown(client) == ["P000008", "P000009", "P000010"]
    assert policies_shown(client, "?org=C1") == []  # asking for another unit shows nothing more
    client.force_login(personas[(Role.ADMIN, "outside")])
    assert len(policies_shown(client)) == 12

    client.force_login(personas[(Role.AUDITOR, "outside")])
    premiums = client.get(reverse("book-table", args=["premiums"])).content.decode()
    assert "P000008" in premiums and "P000001" not in premiums


@pytest.mark.django_db
def test_personal_data_is_masked(client, book, personas):
    client.force_login(personas[(Role.OFFICER, "inside")])

    html = client.get(reverse("book-table", args=["policies"])).content.decode()

    assert "李*" in html and "138****0001" in html and "3701**********" in html
    for plain in ("李四", "13800000001", id_no(1)):
        assert plain not in html


@pytest.mark.django_db
def test_drill_down_filters(client, book, personas):
    client.force_login(personas[(Role.OFFICER, "inside")])

    assert policies_shown(client, "?org=C1KF") == ["P000011"]
    # status=退保 with a period: the status date decides (surrendered in July)
    assert policies_shown(client, "?status=退保&from=2024-07-01&to=2024-07-31") == ["P000011"]
    assert policies_shown(client, "?in_force=2024-08-01") == [f"P{i:06d}" for i in (1, 2, 3, 4, 5, 6, 7, 12)]
    assert policies_shown(client, "?policy_no=P000003") == ["P000003"]
    bad = client.get(reverse("book-table", args=["policies"]) + "?from=2024-13-01&status=nonsense")
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.content.decode()
    assert client.get(reverse("book-table", args=["nonsense"])).status_code == 404


@pytest.mark.django_db
def test_the_table_is_paginated_and_the_partial_serves_htmx(client, book, personas, monkeypatch):
    from xiaobao.book import views

    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    client.force_login(personas[(Role.ADMIN, "inside")])

    first = client.get(reverse("book-table", args=["policies"]))
    third = client.get(reverse("book-table", args=["policies"]) + "?page=3", **HX)

    assert "第 1 / 3 页" in first.content.decode()
    assert "<html" not in third.content.decode() and "第 3 / 3 页" in third.content.decode()


@pytest.mark.django_db
def test_list_pages_use_a_fixed_number_of_queries(
    client, book, personas, django_assert_max_num_queries, tmp_path
):
    client.force_login(personas[(Role.OFFICER, "inside")])
    for url in (
        reverse("book-index"),
        reverse("book-table", args=["policies"]),
        reverse("book-table", args=["premiums"]),
        reverse("book-import"),
    ):
        with django_assert_max_num_queries(9):
            assert client.get(url).status_code == 200
    more = [POLICY_HEADER] + [policy_row(i) for i in range(100, 400)]
    run_cli("book-import", "policies", write_csv(tmp_path / "more.csv", more))
    with django_assert_max_num_queries(9):
        assert client.get(reverse("book-table", args=["policies"])).status_code == 200


@pytest.mark.django_db
def test_the_index_counts_what_the_user_may_see(client, book, personas):
    client.force_login(personas[(Role.UNIT_HEAD, "outside")])

    html = client.get(reverse("book-index")).content.decode()

    assert 'data-testid="table-policies"' in html
    assert ">3<" in html and ">2<" in html  # C2's policies and their premiums
