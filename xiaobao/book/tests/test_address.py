"""The optional 联系地址 (contact_address) column of the surrenders extract: stored sealed, tokenised
and masked like contact_phone, through both import paths; a file without it imports as before; and a
store version written before the column existed is still read everywhere (pages, imports, erasure)."""

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from xiaobao.book import personal, store
from xiaobao.book.erasure import store_erase
from xiaobao.book.staging import duck, parquet_source
from xiaobao.book.tests.helpers import (
    POLICY_HEADER,
    SURRENDER_HEADER,
    comparable,
    make_legacy,
    policy_row,
    run_cli,
    stored,
)
from xiaobao.imports.tests.files import write_csv, write_xlsx
from xiaobao.privacy.services import personal_token

pytestmark = pytest.mark.django_db
COMMANDS = ["import", "book-import"]
HEADER = [*SURRENDER_HEADER, "contact_address"]
ADDRESS = "山东省济南市历下区泉城路188号金融大厦1203室"
VARIANTS = [
    ADDRESS,
    "山东省济南市历下区泉城路 188 号 金融大厦 1203 室",
    "山东省济南市历下区泉城路１８８号金融大厦１２０３室。",
    "山东省济南市历下区泉城路188#金融大厦1203室",
]


def surrender(n: int, address: str = "", **over) -> list:
    row = {
        "policy_no": f"P{n:06d}",
        "apply_date": "2024-05-06",
        "surrender_date": "2024-05-08",
        "amount": "8000",
        "cash_value": "6000",
        "full_refund": "是",
        "apply_channel": "委托代办",
        "contact_phone": f"139{n:08d}",
        "payee_name": "李四",
        "payee_account": "6222020202021234",
        "reason": "资金周转",
        "complaint_ref": "",
        "contact_address": address,
    }
    row.update(over)
    return [row[name] for name in HEADER]


@pytest.fixture
def policies(tree, tmp_path):
    rows = [POLICY_HEADER] + [policy_row(i) for i in range(1, 9)]
    run_cli("book-import", "policies", write_csv(tmp_path / "policies.csv", rows))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_contact_address_is_stored_sealed_tokenised_and_masked(policies, tmp_path, command):
    rows = [HEADER] + [surrender(i + 1, v) for i, v in enumerate(VARIANTS)]
    rows += [surrender(5, "不详"), surrender(6, ""), surrender(7, "x" * 201)]

    summary = run_cli(command, "surrenders", write_csv(tmp_path / "s.csv", rows))

    assert (summary["created"], summary["rejected"]) == (6, 1)
    assert summary["errors"][0]["column"] == "contact_address"
    by_no = {row["policy_no"]: row for row in stored("surrenders")}
    token = personal_token("address", ADDRESS)
    for n in range(1, 5):  # four spellings of one address: one token, one mask
        row = by_no[f"P{n:06d}"]
        assert row["contact_address_token"] == token
        assert row["contact_address_masked"] == "山东省济南市****"
        key = personal.key_text([row["policy_no"], row["apply_date"]])
        assert (
            personal.open_value("surrenders", "contact_address", key, row["contact_address_enc"]) == ADDRESS
        )
    for n in (5, 6):  # a placeholder and a blank are no address
        row = by_no[f"P{n:06d}"]
        assert (row["contact_address_enc"], row["contact_address_token"], row["contact_address_masked"]) == (
            None,
            None,
            None,
        )


def test_the_chinese_header_and_an_excel_file_are_read_alike(policies, tmp_path):
    header = ["保单号", "申请日期", "退保日期", "退保金", "联系地址"]
    rows = [header, ["P000001", "2024-05-06", "2024-05-08", "100", VARIANTS[1]]]

    summary = run_cli("import", "surrenders", write_xlsx(tmp_path / "s.xlsx", rows))

    assert summary["created"] == 1
    (row,) = stored("surrenders")
    assert row["contact_address_token"] == personal_token("address", ADDRESS)


def test_both_paths_store_the_same_addresses(policies, tmp_path, monkeypatch):
    from xiaobao.book import bulk

    monkeypatch.setattr(bulk, "SEALER_PROCESS_BYTES", 0)
    rows = [HEADER] + [surrender(i + 1, v) for i, v in enumerate(VARIANTS)]
    rows += [surrender(5, "无"), surrender(6, "青岛市(崂山区)海尔路1号"), surrender(7, "Room 5, Block B")]
    path = write_csv(tmp_path / "s.csv", rows)

    framework = run_cli("import", "surrenders", path)
    framework_rows = comparable("surrenders")
    store.table_dir("surrenders").rename(tmp_path / "framework-store")
    fast = run_cli("book-import", "surrenders", path)

    assert fast["engine"] == "bulk"
    assert (fast["created"], fast["rejected"]) == (framework["created"], framework["rejected"]) == (7, 0)
    assert comparable("surrenders") == framework_rows


@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_without_the_column_imports_as_before_and_keeps_a_stored_address(policies, tmp_path, command):
    plain = [SURRENDER_HEADER] + [surrender(i)[: len(SURRENDER_HEADER)] for i in (1, 2)]
    first = run_cli(command, "surrenders", write_csv(tmp_path / "a.csv", plain))
    assert first["created"] == 2
    assert all(row["contact_address_token"] is None for row in stored("surrenders"))

    run_cli(command, "surrenders", write_csv(tmp_path / "b.csv", [HEADER, surrender(1, ADDRESS)]))
    again = run_cli(command, "surrenders", write_csv(tmp_path / "c.csv", plain))

    assert (again["updated"], again["unchanged"]) == (0, 2)
    one, two = stored("surrenders")
    assert one["contact_address_masked"] == "山东省济南市****" and two["contact_address_masked"] is None


# ---------------------------------------------------------------- a store older than the column


@pytest.fixture
def legacy(policies, tmp_path):
    """Surrenders stored before the contact_address column existed."""
    plain = [SURRENDER_HEADER] + [surrender(i)[: len(SURRENDER_HEADER)] for i in (1, 2, 3)]
    run_cli("book-import", "surrenders", write_csv(tmp_path / "old.csv", plain))
    return make_legacy("surrenders")


def test_an_old_version_reads_with_the_column_null(legacy):
    con = duck()
    try:
        rows = con.sql(
            f"SELECT policy_no, contact_phone_masked, contact_address_token, contact_address_masked "
            f"FROM {parquet_source('surrenders')} ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert rows == [(f"P{i:06d}", f"139****000{i}", None, None) for i in (1, 2, 3)]


def test_the_book_page_lists_an_old_version(legacy, client, personas):
    from xiaobao.accounts.models import Role

    client.force_login(personas[(Role.ADMIN, "inside")])
    page = client.get(reverse("book-table", args=["surrenders"]))

    html = page.content.decode()
    assert page.status_code == 200
    assert all(f"P00000{i}" in html for i in (1, 2, 3)) and "139****0001" in html and "联系地址" in html


@pytest.mark.parametrize("command", COMMANDS)
def test_imports_over_an_old_version_keep_its_rows_and_add_the_column(legacy, tmp_path, command):
    plain = [SURRENDER_HEADER] + [surrender(i)[: len(SURRENDER_HEADER)] for i in (1, 2, 3)]
    same = run_cli(command, "surrenders", write_csv(tmp_path / "same.csv", plain))
    assert (same["unchanged"], same["store"]["written"]) == (3, False)
    assert store.current_version("surrenders") == legacy

    rows = [HEADER, surrender(1, ADDRESS), surrender(4, VARIANTS[2])]
    summary = run_cli(command, "surrenders", write_csv(tmp_path / "new.csv", rows))

    assert (summary["created"], summary["updated"]) == (1, 1)
    assert store.missing_columns("surrenders") == []
    by_no = {row["policy_no"]: row for row in stored("surrenders")}
    assert sorted(by_no) == [f"P00000{i}" for i in (1, 2, 3, 4)]
    assert by_no["P000001"]["contact_address_masked"] == "山东省济南市****"
    assert by_no["P000004"]["contact_address_token"] == personal_token("address", ADDRESS)
    assert by_no["P000002"]["contact_address_token"] is None
    assert by_no["P000002"]["contact_phone_masked"] == "139****0002"  # the old rows as they were


def test_erasure_scrubs_an_old_version_without_the_column(legacy, tmp_path):
    run_cli("book-import", "surrenders", write_csv(tmp_path / "new.csv", [HEADER, surrender(1, ADDRESS)]))
    old, new = store.versions("surrenders")

    changed = store_erase({"account": personal_token("account", "6222020202021234")})

    assert changed["surrenders"] == 3
    assert store.missing_columns("surrenders", old) != [] and store.missing_columns("surrenders", new) == []
    kept = pq.read_table(store.version_dir("surrenders", old))  # the old version, still without the column
    assert set(kept.column("payee_account_masked").to_pylist()) == {"已删除"}
    (row, *_rest) = stored("surrenders")
    assert row["contact_address_masked"] == "已删除" and row["contact_address_enc"] is None
    assert row["contact_address_token"].startswith("erased:")
