"""lib.fastvalues.values_memo: the rows of QuerySet.values(), converted through a per-column memo."""

import pytest

from xiaobao.cases.models import Case
from xiaobao.cases.tests.conftest import at
from xiaobao.lib.fastvalues import values_memo

FIELDS = [
    "pk",
    "case_no",
    "received_at",
    "closed_at",
    "urgent",
    "claims_related",
    "extra",
    "unit__code",
    "customer_id",
    "customer__name_token",
    "customer__phone_masked",
]


@pytest.mark.django_db
def test_the_same_rows_as_values_with_repeated_and_distinct_values(make_case, clock):
    made = []
    for n in range(6):
        clock.move_to(at(f"2024-09-{10 + n % 2} 09:00"))  # received dates repeat
        case = make_case(urgent=n % 3 == 0, customer_phone=f"1381234567{n % 2}")
        made.append(case.pk)
    extras = [{"filed_by": "Insured"}, {"filed_by": "Insured"}, {"n": 1}, {"n": True}, {"n": [1, "x"]}, {}]
    for pk, extra in zip(made, extras, strict=True):
        Case.objects.filter(pk=pk).update(extra=extra)
    Case.objects.filter(pk=made[0]).update(closed_at=at("2024-09-30 18:00"))
    query = Case.objects.filter(pk__in=made).order_by("pk")

    fast = list(values_memo(query, *FIELDS))

    assert fast == list(query.values(*FIELDS))
    assert [row["extra"] for row in fast] == extras  # {"n": 1} and {"n": True} stay apart
    assert type(fast[3]["extra"]["n"]) is bool
    assert fast[0]["closed_at"] == at("2024-09-30 18:00") and fast[1]["closed_at"] is None
    assert fast[0]["received_at"].utcoffset() is not None  # aware, as Django gives them


@pytest.mark.django_db
def test_an_empty_in_asks_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert list(values_memo(Case.objects.filter(case_no__in=[]), "pk", "case_no")) == []
