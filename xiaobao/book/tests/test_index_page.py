"""业务数据: the tables by name, in the user's language."""

import pytest
from django.urls import reverse

from xiaobao.accounts.models import Role


@pytest.mark.django_db
def test_the_business_data_page_names_its_tables_in_the_users_language(client, personas):
    client.force_login(personas[(Role.ADMIN, "inside")])
    page = client.get(reverse("book-index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "保单清单" in page and "Policy list" not in page
    page = client.get(reverse("book-index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for label in ("Policy list", "Premium received", "Surrender list", "Claim list"):
        assert f">{label}</a>" in page
    assert "保单清单" not in page


@pytest.mark.django_db
def test_the_import_page_lists_jobs_and_batches_by_kind_name(client, personas):
    from xiaobao.book.models import ImportJob
    from xiaobao.imports.models import ImportBatch

    admin = personas[(Role.ADMIN, "inside")]
    ImportJob.objects.create(kind="premiums", file_name="p.csv", actor=admin, unit=admin.unit)
    ImportBatch.objects.create(kind="claims", file_name="c.csv", file_sha256="0" * 64, unit=admin.unit)
    client.force_login(admin)
    page = client.get(reverse("book-import"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">实收保费</td>" in page and ">理赔清单</td>" in page
    page = client.get(reverse("book-import"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Premium received</td>" in page and ">Claim list</td>" in page
