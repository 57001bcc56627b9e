import datetime as dt
import random
import types

import pytest

from xiaobao.kpi import demo
from xiaobao.kpi.models import QualityValue

pytestmark = pytest.mark.django_db


def test_demo_enters_the_hand_indicators_for_the_branch_units(tree):
    ctx = types.SimpleNamespace(
        seed=1, rng=random.Random(1), today=dt.date(2025, 5, 10), units=tree, scale=0.1
    )
    counts = demo.build(ctx)
    # HQ, BR, C1, C2 × (2024, 2025, 2025Q1, 2025Q2) × 4 indicators; the department C1KF gets none
    assert counts == {"kpi_quality_values": 4 * 4 * 4}
    assert QualityValue.objects.filter(unit=tree["C1KF"]).count() == 0
    assert all(0 <= v <= 1 for v in QualityValue.objects.values_list("value", flat=True))
    demo.build(ctx)  # idempotent
    assert QualityValue.objects.count() == 64
