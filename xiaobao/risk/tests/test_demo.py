"""The demo's planted ring is found in place, its decoys are not alerts, 2024 stays free of 监管转办,
and the book keeps its rows."""

import datetime as dt
import re

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from xiaobao.book import store
from xiaobao.cases.models import Case
from xiaobao.demo.builders import build_demo
from xiaobao.risk.demo import PROXY_PAYEE
from xiaobao.risk.models import Alert, AlertKind

TODAY = dt.date(2026, 11, 28)


@pytest.mark.django_db
def test_the_demo_plants_a_ring_that_the_scan_finds():
    summary = build_demo(2024, today=TODAY, scale=0.05)
    assert summary["risk_ring_surrenders"] == 12 and summary["risk_ring_letters"] >= 5
    rings = list(Alert.objects.filter(kind=AlertKind.CLUSTER).order_by("-score"))
    proxy = next(r for r in rings if any("钱*强" in reason for reason in r.reasons))
    assert len(proxy.policy_nos) >= 12 and len(proxy.case_nos) >= summary["risk_ring_letters"]
    assert any(
        re.match(r"1\d 位投保人的退保由同一代办人电话 1\d\d\*\*\*\*\d{4} 委托办理", r) for r in proxy.reasons
    )
    assert any("疑为模板投诉" in r for r in proxy.reasons)
    # The book's three small rings are alerts too; the family is not.
    assert len(rings) == 4
    assert not any("139****2233" in reason for r in rings for reason in r.reasons)
    assert not Case.objects.filter(channel="监管转办", received_at__year=2024).exists()
    assert PROXY_PAYEE not in str(list(Alert.objects.values()))
    # Rows rewritten in place: the book keeps its size.
    surrenders = pq.read_table(store.version_dir("surrenders"))
    assert surrenders.num_rows == summary["book_surrenders"]
    assert pc.sum(pc.equal(surrenders.column("payee_name_masked"), "钱*强")).as_py() == 12
