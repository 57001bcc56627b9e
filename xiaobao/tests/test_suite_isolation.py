"""The suite runs on several workers (pytest-xdist), where a worker may go on with ordinary tests
after a transactional one has flushed the database: the seeded rows come back (conftest.SEEDS)."""

import pytest
from django.core.management import call_command

from xiaobao.cases.models import RootCause
from xiaobao.kpi.models import QualityIndicator
from xiaobao.reviews.models import ChecklistItem


def _seeded() -> tuple[int, int, int]:
    return RootCause.objects.count(), QualityIndicator.objects.count(), ChecklistItem.objects.count()


@pytest.mark.django_db(transaction=True)
def test_a_flush_leaves_the_rows_the_migrations_seeded():
    before = _seeded()
    assert all(before)
    RootCause.objects.all().delete()
    call_command("flush", interactive=False, verbosity=0)
    assert _seeded() == before
