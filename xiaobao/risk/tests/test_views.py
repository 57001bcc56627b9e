"""The investigation over HTTP: assign, note, evidence, confirm onto the watchlist, the flag on a new
case, the evidence pack (masked, or revealed and audited)."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.risk.models import Alert, AlertKind, AlertStatus, WatchEntry
from xiaobao.risk.services import scan_run
from xiaobao.risk.tests.factories import RING_PHONE, planted_book

DAY = dt.date(2025, 6, 20)


@pytest.fixture
def alert(tree, alice):
    planted_book(DAY, actor=alice, unit=tree["C1"])
    scan_run(as_of=DAY)
    return Alert.objects.get(kind=AlertKind.CLUSTER)


def test_the_queue_lists_the_alert_with_its_first_reason(client, alice, alert, django_assert_max_num_queries):
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("risk-alerts"))
    body = response.content.decode()
    assert alert.title in body and alert.reasons[0] in body


def test_outsiders_do_not_see_the_alert(client, personas, alert):
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert alert.title not in client.get(reverse("risk-alerts")).content.decode()
    assert client.get(reverse("risk-alert-detail", args=[alert.pk])).status_code == 404


def test_investigation_to_watchlist_to_a_flagged_new_case(client, alice, personas, alert, tree):
    handler = personas[(Role.HANDLER, "inside")]
    client.force_login(alice)
    detail = client.get(reverse("risk-alert-detail", args=[alert.pk])).content.decode()
    assert "137****1234" in detail and RING_PHONE not in detail

    response = client.post(reverse("risk-alert-assign", args=[alert.pk]), {"assignee": handler.pk})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.INVESTIGATING and alert.assignee == handler

    client.force_login(handler)
    client.post(reverse("risk-alert-note", args=[alert.pk]), {"note": "回访 3 位投保人, 均称由赵某代办"})
    upload = SimpleUploadedFile("录音摘要.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")
    assert client.post(reverse("risk-alert-evidence", args=[alert.pk]), {"file": upload}).status_code == 302
    assert alert.evidence.count() == 1

    # Confirming needs a reason.
    response = client.post(reverse("risk-alert-decide", args=[alert.pk, "confirm"]), {"reason": " "})
    assert response.status_code == 400
    proxy = next(link for link in alert.links if link["kind"] == "proxy")
    accounts = [link["token"] for link in alert.links if link["kind"] == "account"]
    response = client.post(
        reverse("risk-alert-decide", args=[alert.pk, "confirm"]),
        {"reason": "代办人赵某批量代理退保", "watch": [proxy["token"], *accounts]},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CONFIRMED and alert.decision_reason == "代办人赵某批量代理退保"
    assert set(WatchEntry.objects.values_list("kind", "masked")) == {
        ("phone", "137****1234"),
        ("account", "****6789"),
        ("account", "****4321"),
    }
    assert [e.action for e in alert.events.all()] == ["assign", "note", "evidence", "confirm"]
    assert AuditEntry.objects.filter(action="risk.alert.confirm").count() == 1

    # A new complaint from the proxy's phone is flagged for the hotline handler; another is not.
    from xiaobao.cases.services import case_create

    flagged = case_create(
        actor=handler,
        unit=tree["C1"],
        kind="投诉",
        channel="4008热线",
        category="退保纠纷",
        description="要求全额退保",
        customer_name="钱某",
        customer_phone=RING_PHONE,
    )
    clean = case_create(
        actor=handler,
        unit=tree["C1"],
        kind="投诉",
        channel="4008热线",
        category="退保纠纷",
        description="要求全额退保",
        customer_name="孙某",
        customer_phone="13855556666",
    )
    body = client.get(reverse("cases-detail", args=[flagged.pk])).content.decode()
    assert 'data-testid="risk-flag"' in body and "137****1234" in body and "代办人赵某批量代理退保" in body
    assert (
        'data-testid="risk-flag"' not in client.get(reverse("cases-detail", args=[clean.pk])).content.decode()
    )

    client.force_login(alice)
    assert client.get(reverse("risk-watchlist")).content.decode().count("137****1234") == 1


def test_dismiss_needs_a_reason_and_auditors_cannot_decide(client, alice, personas, alert):
    client.force_login(personas[(Role.AUDITOR, "inside")])
    url = reverse("risk-alert-decide", args=[alert.pk, "dismiss"])
    assert client.post(url, {"reason": "家庭成员"}).status_code == 403
    client.force_login(alice)
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"reason": "经核实为同一家庭"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    assert client.post(url, {"reason": "再次排除"}).status_code == 400  # already decided


def test_the_pack_is_masked_and_a_reveal_is_audited(client, alice, personas, alert):
    from docx import Document
    from openpyxl import load_workbook

    client.force_login(personas[(Role.AUDITOR, "inside")])
    response = client.get(reverse("risk-alert-pack", args=[alert.pk, "xlsx"]))
    book = load_workbook(io.BytesIO(response.content))
    cells = " ".join(str(c.value) for row in book["退保明细"].iter_rows() for c in row)
    assert "137****1234" in cells and RING_PHONE not in cells
    assert len(list(book["退保明细"].iter_rows())) == 13
    assert (
        client.post(reverse("risk-alert-pack", args=[alert.pk, "xlsx"]), {"reason": "报案"}).status_code
        == 403
    )

    client.force_login(alice)
    docx = client.get(reverse("risk-alert-pack", args=[alert.pk, "docx"]))
    text = "\n".join(
        c.text for t in Document(io.BytesIO(docx.content)).tables for r in t.rows for c in r.cells
    )
    assert "137****1234" in text and RING_PHONE not in text
    assert client.post(reverse("risk-alert-pack", args=[alert.pk, "docx"]), {}).status_code == 400
    revealed = client.post(reverse("risk-alert-pack", args=[alert.pk, "xlsx"]), {"reason": "向公安机关报案"})
    cells = " ".join(
        str(c.value)
        for row in load_workbook(io.BytesIO(revealed.content))["退保明细"].iter_rows()
        for c in row
    )
    assert RING_PHONE in cells and "6222000011116789" in cells
    entry = AuditEntry.objects.get(action="risk.pack.reveal")
    assert entry.details["reason"] == "向公安机关报案" and entry.actor == alice


def test_year_figures_for_the_report(alice, alert, tree):
    from django.utils import timezone

    from xiaobao.assessment.sources import figure_for
    from xiaobao.risk.assessment_sources import alerts, rings_confirmed
    from xiaobao.risk.services import alert_confirm

    year = timezone.now().year
    assert rings_confirmed(year, "BR")["value"] == 0
    alert_confirm(actor=alice, alert=alert, reason="确认")
    assert alerts(year, tree["BR"])["value"] == Alert.objects.count()
    assert rings_confirmed(year, "C1")["value"] == 1 and rings_confirmed(year, "C2")["value"] == 0
    assert figure_for("risk.rings_confirmed", tree["C1"], year)["value"] == 1


def test_a_decided_alert_can_be_reopened_with_a_reason(client, alice, alert):
    client.force_login(alice)
    client.post(reverse("risk-alert-decide", args=[alert.pk, "dismiss"]), {"reason": "同一家庭"})
    url = reverse("risk-alert-decide", args=[alert.pk, "reopen"])
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"reason": "发现新的代办证据"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.INVESTIGATING
    body = client.get(reverse("risk-alert-detail", args=[alert.pk])).content.decode()
    assert "已排除 → 调查中" in body and "重新调查" in body
