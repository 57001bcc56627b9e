"""导入记录: each batch's kind as a user reads it, in Chinese and in English."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.imports.models import ImportBatch


@pytest.mark.django_db
def test_batches_show_the_kind_by_its_name_in_the_users_language(client, personas):
    admin = personas[(Role.ADMIN, "inside")]
    for kind in ("cases", "policies", "premiums", "training_attendance", "a-kind-since-removed"):
        ImportBatch.objects.create(kind=kind, file_name=f"{kind}.csv", file_sha256="0" * 64, unit=admin.unit)
    client.force_login(admin)

    page = client.get(reverse("imports-batches"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for label in ("工单与投诉", "保单清单", "实收保费", "培训签到", "a-kind-since-removed"):
        assert f">{label}</td>" in page
    assert ">cases</td>" not in page and ">policies</td>" not in page

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("imports-batches"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for label in ("Complaints and work orders", "Policy list", "Premium received", "Training attendance"):
        assert f">{label}</td>" in page
    ImportBatch.objects.bulk_create(
        ImportBatch(kind="claims", file_name="c.csv", file_sha256="0" * 64, unit=admin.unit)
        for _ in range(20)
    )
    with CaptureQueriesContext(connection) as more:
        assert (
            ">Claim list</td>"
            in client.get(reverse("imports-batches"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        )
    assert len(more) == len(queries)  # the names cost no query per row
