"""The demo's planted rings (a proxy's phone and accounts; an agency's mailing address) are found in
place, their decoys are not alerts, 2024 stays free of 监管转办, and the book keeps its rows."""

import datetime as dt
import re

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from xiaobao.book import store
from xiaobao.cases.models import Case
from xiaobao.demo.builders import build_demo
from xiaobao.privacy.services import personal_token
from xiaobao.risk.demo import AGENCY_ADDRESS, COUPLE_ADDRESS, PROXY_PAYEE
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
    # Found through the agency's mailing address alone, written four ways.
    agency = next(r for r in rings if any("联系地址" in reason for reason in r.reasons))
    assert summary["risk_address_ring"] == 8 and len(agency.policy_nos) == 8
    assert "8 位投保人的退保使用同一联系地址 山东省济南市****" in agency.reasons
    assert [link["kind"] for link in agency.links] == ["address"]
    # The book's three small rings are alerts too; the family (one phone) and the couple (one
    # address, two policyholders) are not.
    assert len(rings) == 5
    assert not any("139****2233" in reason for r in rings for reason in r.reasons)
    assert summary["risk_couple"] == 2
    assert not any("山东省烟台市****" in reason for r in rings for reason in r.reasons)
    assert not Case.objects.filter(channel="监管转办", received_at__year=2024).exists()
    assert PROXY_PAYEE not in str(list(Alert.objects.values()))
    # Rows rewritten in place: the book keeps its size.
    surrenders = pq.read_table(store.version_dir("surrenders"))
    assert surrenders.num_rows == summary["book_surrenders"]
    assert pc.sum(pc.equal(surrenders.column("payee_name_masked"), "钱*强")).as_py() == 12
    tokens = surrenders.column("contact_address_token")
    assert pc.sum(pc.equal(tokens, personal_token("address", AGENCY_ADDRESS[0]))).as_py() == 8
    assert pc.sum(pc.equal(tokens, personal_token("address", COUPLE_ADDRESS))).as_py() == 2
    # Most surrenders give the policyholder's home address.
    assert pc.sum(pc.is_valid(tokens)).as_py() > surrenders.num_rows // 2
