"""The demo's planted rings are found, its decoys are not alerts, and 2024 stays free of 监管转办."""

import datetime as dt

import pytest

from xiaobao.cases.models import Case
from xiaobao.demo.builders import build_demo
from xiaobao.risk.demo import PROXY_PHONE
from xiaobao.risk.models import Alert, AlertKind

TODAY = dt.date(2026, 11, 28)


@pytest.mark.django_db
def test_the_demo_plants_a_ring_that_the_scan_finds():
    summary = build_demo(2024, today=TODAY, scale=0.05)
    assert summary["risk_ring_cases"] == 12
    rings = list(Alert.objects.filter(kind=AlertKind.CLUSTER).order_by("-score"))
    proxy = rings[0]
    assert len(proxy.policy_nos) == 12 and len(proxy.case_nos) == 12
    assert any("12 位投保人的退保由同一代办人电话 137****4567 委托办理" == r for r in proxy.reasons)
    assert any("疑为模板投诉" in r for r in proxy.reasons)
    # The book's three small rings are alerts too; the family and the agent's customers are not.
    assert len(rings) == 4
    assert all(r.details["holders"] >= 6 for r in rings)
    assert not Case.objects.filter(channel="监管转办", received_at__year=2024).exists()
    assert Case.objects.filter(customer__phone_masked="137****4567").count() == 12
    assert PROXY_PHONE not in str(list(Alert.objects.values()))
