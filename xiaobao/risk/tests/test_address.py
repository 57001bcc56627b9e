"""Addresses in ring detection: surrenders (and complaints) sharing a contact address link, capped as
any token; blank addresses never link; a listed address flags new cases and imported rows; an old
store version without the column is still scanned; the evidence pack shows the masked address."""

import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
from django.urls import reverse

from xiaobao.book.tests.helpers import POLICY_HEADER, SURRENDER_HEADER, make_legacy, policy_row, run_cli
from xiaobao.imports.tests.files import write_csv
from xiaobao.privacy.services import personal_token
from xiaobao.risk import intake, services
from xiaobao.risk.models import Alert, AlertKind, HitSource, WatchKind, WatchlistHit, WatchlistRowHit
from xiaobao.risk.rings import RingConfig, find_clusters
from xiaobao.risk.services import scan_run
from xiaobao.risk.sources import scan_records
from xiaobao.risk.tests.factories import (
    FAMILY_ADDRESS,
    OFFICE_ADDRESS,
    PROXY_ADDRESS,
    address_book,
    planted_book,
)
from xiaobao.risk.tests.test_rings import record

DAY = dt.date(2025, 6, 20)


def frame(rows):
    return pd.DataFrame(rows)


def holders(n, prefix="h", **values):
    return [record(policy_no=f"{prefix.upper()}{i}", holder=f"{prefix}{i}", **values) for i in range(n)]


# ---------------------------------------------------------------- links (hand-made records)


def test_a_ring_linked_by_an_address_alone_is_found_and_explained():
    rows = holders(4, address="addr", address_m="山东省青岛市****", proxy=True, full_refund=True)
    rows += holders(5, prefix="x", address=None)

    [cluster] = find_clusters(frame(rows))

    assert cluster.policy_nos == ["H0", "H1", "H2", "H3"]
    assert "4 位投保人的退保使用同一联系地址 山东省青岛市****" in cluster.reasons
    assert cluster.links == [{"kind": "address", "token": "addr", "masked": "山东省青岛市****", "holders": 4}]


def test_an_address_counts_three_quarters_of_an_account_in_the_score():
    by_address = find_clusters(frame(holders(7, address="addr", address_m="济南市****", proxy=True)))[0]
    by_account = find_clusters(frame(holders(7, account="acc", account_m="****6789", proxy=True)))[0]
    # Seven policyholders on one account: shared = (7 - 1) / 9; on one address they count as 5.25.
    assert by_account.features["shared"] == round(6 / 9, 3)
    assert by_address.features["shared"] == round(4.25 / 9, 3)
    assert by_address.score < by_account.score


def test_an_address_shared_by_more_policyholders_than_the_cap_links_nothing():
    office = holders(
        60, prefix="o", address="office", address_m="山东省济南市****", proxy=True, full_refund=True
    )
    assert find_clusters(frame(office)) == []
    assert find_clusters(frame(office), RingConfig(hub_cap=100))[0].holders == 60


def test_a_branch_address_does_not_glue_two_rings_together():
    ring_a = holders(4, prefix="a", account="acc-a", proxy=True)
    ring_b = holders(4, prefix="b", account="acc-b", proxy=True)
    for row in ring_a[:1] + ring_b[:1]:
        row["address"] = "office"
    office = holders(60, prefix="o", address="office", proxy=True)
    clusters = find_clusters(frame(ring_a + ring_b + office))
    assert sorted(c.holders for c in clusters) == [4, 4]


def test_blank_and_missing_addresses_never_link_nor_two_policyholders_alone():
    rows = holders(5, prefix="e", address="", proxy=True) + holders(5, prefix="n", address=None, proxy=True)
    rows += holders(5, prefix="f", address=float("nan"), proxy=True)
    rows += holders(2, prefix="c", address="couple", proxy=True)
    rows.append(record(policy_no="C9", holder="c0", address="couple", proxy=True))
    assert find_clusters(frame(rows), RingConfig(min_holders=2)) == []


def test_an_address_links_only_where_third_parties_applied_from_it():
    """A block of flats or a village: strangers at one address surrendering on their own (at the
    counter, paid to themselves) are no ring, and a ring member living there does not pull the
    neighbours into the ring."""
    flats = holders(8, prefix="f", address="flats", address_m="山东省潍坊市****")
    ring = holders(5, prefix="r", account="acc", account_m="****6789", proxy=True, full_refund=True)
    ring[0]["address"] = "flats"
    assert find_clusters(frame(flats)) == []
    [cluster] = find_clusters(frame(flats + ring))
    assert cluster.policy_nos == [f"R{i}" for i in range(5)]
    # Paid to someone else is a third party too.
    paid = holders(3, prefix="p", address="flats", payee_differs=True)
    assert find_clusters(frame(flats + paid))[0].holders == 11


def test_a_complainant_at_the_ring_address_joins_the_ring():
    rows = holders(3, address="addr", address_m="山东省青岛市****", proxy=True)
    rows.append(
        record(source="C", case_no="TS1", holder="complainant", address="addr", address_m="山东省青岛市****")
    )
    [cluster] = find_clusters(frame(rows))
    assert cluster.case_nos == ["TS1"] and cluster.holders == 4


# ---------------------------------------------------------------- the scan over the store


@pytest.fixture
def book(tree):
    return address_book(DAY)


def test_the_scan_finds_the_ring_through_its_address_and_nothing_else(book):
    result = scan_run(as_of=DAY)

    alert = Alert.objects.get(kind=AlertKind.CLUSTER)
    assert alert.policy_nos == sorted(book["ring"])
    assert "8 位投保人的退保使用同一联系地址 山东省青岛市****" in alert.reasons
    assert "8/8 件退保为全额退保 (100%)" in alert.reasons
    assert alert.links == [
        {
            "kind": "address",
            "token": personal_token("address", PROXY_ADDRESS),
            "masked": "山东省青岛市****",
            "holders": 8,
        }
    ]
    clustered = {p for c in result["clusters"] for p in c["policy_nos"]}
    assert not clustered & set(book["family"] + book["office"] + book["blank"] + book["others"])


def test_records_carry_the_address_token_and_mask(book):
    records = scan_records(DAY).set_index("policy_no")
    ring = records.loc[book["ring"]]
    assert ring["address"].nunique() == 1 and set(ring["address_m"]) == {"山东省青岛市****"}
    assert records.loc[book["family"], "address"].nunique() == 1
    assert records.loc[book["family"], "address"].iloc[0] == personal_token("address", FAMILY_ADDRESS)
    assert records.loc[book["blank"], "address"].isna().all()
    assert PROXY_ADDRESS.replace(" ", "") not in records.to_csv()


def test_an_old_store_version_without_the_column_is_still_scanned(tree, alice):
    labels = planted_book(DAY, actor=alice, unit=tree["C1"])
    make_legacy("surrenders")

    records = scan_records(DAY)
    scan_run(as_of=DAY)

    surrenders = records[records["source"] == "S"]
    assert surrenders["address"].isna().all() and len(records) == 126 + 12
    alert = Alert.objects.get(kind=AlertKind.CLUSTER)
    assert alert.policy_nos == sorted(labels["ring"])


def test_the_evidence_pack_shows_the_masked_address_and_reveals_it_with_a_reason(book, client, personas):
    from xiaobao.accounts.models import Role

    scan_run(as_of=DAY)
    alert = Alert.objects.get(kind=AlertKind.CLUSTER)
    client.force_login(personas[(Role.ADMIN, "inside")])

    page = client.get(reverse("risk-alert-detail", args=[alert.pk])).content.decode()
    masked = _pack_cells(client.get(reverse("risk-alert-pack", args=[alert.pk, "xlsx"])).content)
    revealed = _pack_cells(
        client.post(reverse("risk-alert-pack", args=[alert.pk, "xlsx"]), {"reason": "向公安机关报案"}).content
    )

    assert "山东省青岛市****" in page
    assert set(masked) == {"山东省青岛市****"}
    assert set(revealed) == {"山东省青岛市市南区香港中路10号3号楼1203室"}


def _pack_cells(content: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(content))["退保明细"]
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("联系地址")
    return [row[column] for row in rows[1:]]


def test_confirming_the_alert_lists_the_address(book, alice, tree):
    scan_run(as_of=DAY)
    alert = Alert.objects.get(kind=AlertKind.CLUSTER)
    token = alert.links[0]["token"]

    services.alert_confirm(actor=alice, alert=alert, reason="代办机构的通讯地址", watch_tokens=[token])

    entry = services.WatchEntry.objects.get(token=token)
    assert (entry.kind, entry.masked, entry.active) == (WatchKind.ADDRESS, "山东省青岛市****", True)
    # Listing it finds the ring's rows already in the store (recorded when their batch is known).
    found = intake.book_row_hits("surrenders", None, entry=entry)
    assert sorted(row[1] for row in found) == sorted(book["ring"])
    assert {row[2] for row in found} == {"contact_address"}


# ---------------------------------------------------------------- the watchlist


ADDRESS = "山东省济南市历下区泉城路188号金融大厦1203室"


def listed_address(alice, tree):
    return services.watch_add(
        actor=alice,
        kind=WatchKind.ADDRESS,
        token=personal_token("address", ADDRESS),
        masked="山东省济南市****",
        reason="代办机构的通讯地址",
        unit=tree["C1"],
    )


def test_a_case_from_a_listed_address_is_flagged_at_intake(alice, tree):
    from xiaobao.cases.services import case_create

    entry = listed_address(alice, tree)

    def complaint(name, phone, address):
        return case_create(
            actor=alice,
            unit=tree["C1"],
            kind="投诉",
            channel="4008热线",
            category="销售纠纷",
            description="客户要求全额退保",
            customer_name=name,
            customer_phone=phone,
            customer_address=address,
        )

    flagged = complaint("王五", "13812340001", "山东省济南市历下区泉城路 188 号 金融大厦 1203 室。")
    other = complaint("赵六", "13812340002", "山东省济南市历下区泉城路189号")
    blank = complaint("钱七", "13812340003", "")

    hits = WatchlistHit.objects.values_list("case_id", "entry_id", "source")
    assert list(hits) == [(flagged.pk, entry.pk, HitSource.INTAKE)]
    assert intake.stored_flags(other) == [] and intake.stored_flags(blank) == []


def test_listing_an_address_flags_the_cases_already_registered(alice, tree):
    from xiaobao.cases.services import case_create

    case = case_create(
        actor=alice,
        unit=tree["C1"],
        kind="投诉",
        channel="4008热线",
        category="销售纠纷",
        description="客户要求全额退保",
        customer_name="王五",
        customer_phone="13812340001",
        customer_address=ADDRESS,
    )
    assert not WatchlistHit.objects.exists()

    entry = listed_address(alice, tree)

    assert list(WatchlistHit.objects.values_list("case_id", "entry_id", "source")) == [
        (case.pk, entry.pk, HitSource.LISTED)
    ]


@pytest.mark.parametrize("command", ["book-import", "import"])
def test_a_surrenders_import_with_a_listed_address_records_the_hit(alice, tree, tmp_path, command):
    run_cli(
        "book-import",
        "policies",
        write_csv(tmp_path / "p.csv", [POLICY_HEADER] + [policy_row(i) for i in (1, 2, 3)]),
    )
    entry = listed_address(alice, tree)
    header = [*SURRENDER_HEADER, "contact_address"]

    def row(number, address):
        return [
            number,
            "2024-05-06",
            "2024-05-08",
            "8000",
            "6000",
            "是",
            "委托代办",
            "",
            "",
            "",
            "",
            "",
            address,
        ]

    rows = [
        header,
        row("P000001", "山东省济南市历下区泉城路１８８号金融大厦１２０３室"),
        row("P000002", "山东省济南市历下区泉城路189号"),
        row("P000003", ADDRESS),
    ]

    summary = run_cli(command, "surrenders", write_csv(tmp_path / "s.csv", rows))

    assert summary["created"] == 3
    hits = WatchlistRowHit.objects.order_by("key").values_list("key", "column", "entry")
    assert list(hits) == [
        ("P000001|2024-05-06", "contact_address", entry.pk),
        ("P000003|2024-05-06", "contact_address", entry.pk),
    ]
    assert "命中疑似退保黑产信息库 2 行" in summary["message"]


def test_a_scan_lists_the_surrenders_at_a_listed_address(book, alice, tree):
    services.watch_add(
        actor=alice,
        kind=WatchKind.ADDRESS,
        token=personal_token("address", OFFICE_ADDRESS),
        masked="山东省济南市****",
        reason="核实为冒用本公司地址",
        unit=tree["C1"],
    )
    hits = scan_run(as_of=DAY)["watchlist_hits"]
    assert len(hits) == 60 and {h["kind"] for h in hits} == {"address"}
    assert {h["policy_no"] for h in hits} == set(book["office"])


def test_rows_of_an_old_version_match_no_address_and_cost_no_error(tree, alice):
    planted_book(DAY, with_cases=False)
    make_legacy("surrenders")
    listed_address(alice, tree)
    assert intake.flag_existing_rows() == 0
    assert np.all(scan_records(DAY)["address"].isna())
