"""The scan over the Parquet book and the cases: a planted ring is found among decoys, saved as an
alert, and printed by the CLI as JSON."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from xiaobao.risk.models import Alert, AlertKind
from xiaobao.risk.rings import RingConfig
from xiaobao.risk.services import scan_run
from xiaobao.risk.sources import scan_records
from xiaobao.risk.tests.factories import planted_book

DAY = dt.date(2025, 6, 20)


@pytest.fixture
def labels(tree, alice):
    return planted_book(DAY, actor=alice, unit=tree["C1"])


def test_records_carry_tokens_not_personal_values(labels):
    records = scan_records(DAY)
    assert len(records) == 126 + 12
    assert "13700001234" not in records.to_csv()
    ring = records[records["policy_no"].isin(labels["ring"]) & (records["source"] == "S")]
    assert ring["phone"].nunique() == 1 and ring["phone_m"].iloc[0] == "137****1234"
    assert ring["payee_differs"].all() and ring["full_refund"].all() and ring["proxy"].all()


def test_the_planted_ring_is_the_only_alert(labels):
    result = scan_run(as_of=DAY)
    alerts = Alert.objects.filter(kind=AlertKind.CLUSTER)
    assert alerts.count() == 1
    alert = alerts.get()
    assert alert.policy_nos == sorted(labels["ring"])
    assert alert.case_nos == sorted(labels["ring_cases"])
    assert alert.cases.count() == 12
    assert alert.unit.code == "C1"
    assert any(r.startswith("6 位投保人的退保金进入同一账号 ****") for r in alert.reasons)
    assert "12 件投诉文本高度雷同, 疑为模板投诉 (相似度 ≥ 80%)" in alert.reasons
    # The family is a cluster, but a harmless one; the agent's customers and the switchboard are none.
    by_policy = {p: c for c in result["clusters"] for p in c["policy_nos"]}
    assert by_policy[labels["family"][0]]["score"] < RingConfig().alert_score
    assert not any(p in by_policy for p in labels["agent"] + labels["switchboard"] + labels["others"])


def test_a_second_scan_updates_the_alert_instead_of_opening_another(labels):
    first = scan_run(as_of=DAY)
    second = scan_run(as_of=DAY)
    assert first["alerts_created"] >= 1 and second["alerts_created"] == 0
    assert Alert.objects.filter(kind=AlertKind.CLUSTER).count() == 1


def test_cli_scan_prints_clusters_as_json(labels):
    out = StringIO()
    call_command("risk", "scan", "--as-of", DAY.isoformat(), "--format", "json", "--no-save", stdout=out)
    data = json.loads(out.getvalue())
    top = data["clusters"][0]
    assert set(top) >= {"id", "score", "reasons", "policy_nos", "case_nos", "size"}
    assert top["policy_nos"] == sorted(labels["ring"]) and top["size"] == 24
    assert Alert.objects.count() == 0  # --no-save


def test_cli_scan_before_the_ring_existed_finds_nothing(labels):
    out = StringIO()
    call_command("risk", "scan", "--as-of", "2024-01-01", "--no-save", stdout=out)
    assert json.loads(out.getvalue())["clusters"] == []


def test_cli_rejects_bad_input(labels):
    with pytest.raises(CommandError):
        call_command("risk", "scan", "--as-of", "2025-13-01")
    with pytest.raises(CommandError):
        call_command("risk", "surrenders", "--period", "2025-6")
    with pytest.raises(CommandError):
        call_command("risk", "surrenders", "--period", "2025-06", "--by", "colour")


def test_a_scan_lists_the_surrenders_touching_the_watchlist(labels, alice, tree):
    from xiaobao.privacy.services import personal_token
    from xiaobao.risk.services import watch_add

    watch_add(
        actor=alice,
        kind="account",
        token=personal_token("account", "6222000011116789"),
        masked="****6789",
        reason="代办人账号",
        unit=tree["C1"],
    )
    hits = scan_run(as_of=DAY)["watchlist_hits"]
    assert sorted(h["policy_no"] for h in hits) == sorted(labels["ring"][0::2])
    assert all(h["masked"] == "****6789" and h["source"] == "S" for h in hits)
