"""The four book importers, through both commands: `xiaobao import` (the framework's row-by-row
engine) and `xiaobao book-import` (the vectorised pass for CSV). Real files, the real store."""

import datetime as dt
from decimal import Decimal

import pytest

from xiaobao.book import personal, staging, store
from xiaobao.book.tests.helpers import (
    CLAIM_HEADER,
    POLICY_HEADER,
    POLICY_HEADER_CN,
    PREMIUM_HEADER_CN,
    SURRENDER_HEADER,
    comparable,
    id_no,
    id_no_ending_x,
    policy_row,
    premium_row,
    run_cli,
    run_cli_refused,
    stored,
    version_bytes,
)
from xiaobao.imports.models import ImportBatch, ImportChange
from xiaobao.imports.tests.files import check_invariant, read_errors, write_csv, write_xlsx
from xiaobao.lib.masking import mask
from xiaobao.privacy.services import personal_token

COMMANDS = ["import", "book-import"]


def engine_of(summary: dict) -> str:
    return summary.get("engine", "framework")


# ---------------------------------------------------------------- policies


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_policies_are_stored_sealed_tokenised_and_masked(tree, tmp_path, command):
    rows = [POLICY_HEADER, policy_row(1), policy_row(2, applicant_id_no=id_no_ending_x())]
    summary = run_cli(command, "policies", write_csv(tmp_path / "p.csv", rows))

    assert (summary["status"], summary["created"], summary["rejected"]) == ("done", 2, 0)
    assert engine_of(summary) == ("bulk" if command == "book-import" else "framework")
    check_invariant(summary)
    first, second = stored("policies")
    assert (first["policy_no"], first["org_code"], first["channel"]) == ("P000001", "C1", "个险")
    assert (first["effective_date"], first["annual_premium"]) == (dt.date(2023, 3, 5), Decimal("12000.00"))
    assert first["_batch"] == summary["batch"]
    for column, kind, value in [
        ("applicant_name", "name", "李四"),
        ("applicant_id_no", "id_no", id_no(1)),
        ("applicant_phone", "phone", "13800000001"),
        ("insured_id_no", "id_no", id_no(2, birth="20100505")),
    ]:
        assert first[f"{column}_token"] == personal_token(kind, value)
        assert first[f"{column}_masked"] == mask(kind, value)
        assert personal.open_value("policies", column, "P000001", first[f"{column}_enc"]) == value
    assert second["applicant_id_no_masked"].endswith("X")
    assert store.current_version("policies") == summary["store"]["version"] == "v000001"


@pytest.mark.django_db
def test_a_ciphertext_opens_only_in_its_own_row_column_and_table(tree, tmp_path):
    run_cli("book-import", "policies", write_csv(tmp_path / "p.csv", [POLICY_HEADER, policy_row(1)]))
    blob = stored("policies")[0]["applicant_id_no_enc"]

    assert personal.open_value("policies", "applicant_id_no", "P000001", blob) == id_no(1)
    for table, column, key in [
        ("policies", "applicant_id_no", "P000002"),
        ("policies", "insured_id_no", "P000001"),
        ("surrenders", "applicant_id_no", "P000001"),
    ]:
        with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
            personal.open_value(table, column, key, blob)


@pytest.mark.django_db
def test_personal_data_is_never_plain_text_in_the_parquet_bytes(tree, tmp_path, monkeypatch):
    # Uncompressed, so a plain value would show in the bytes if it were there at all.
    monkeypatch.setattr(staging, "COMPRESSION", "none")
    rows = [POLICY_HEADER, policy_row(1), policy_row(2)]
    run_cli("book-import", "policies", write_csv(tmp_path / "p.csv", rows))
    rows[1][14] = "13000"  # an update rewrites the version through DuckDB
    run_cli("import", "policies", write_csv(tmp_path / "p2.csv", rows))

    data = version_bytes("policies")
    assert store.current_version("policies") == "v000002"
    assert b"P000001" in data and "瀚海福享".encode() in data  # the test can see plain text
    for plain in ["李四", "王小五", id_no(1), id_no(2), "13800000001", id_no(2, birth="20100505")]:
        assert plain.encode() not in data, plain
    scratch = [p for p in store.table_dir("policies").iterdir() if p.name.startswith(".tmp-")]
    assert scratch == []


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_chinese_headers_bom_and_gb18030_are_read_alike(tree, tmp_path, command):
    rows = [POLICY_HEADER_CN, policy_row(1), policy_row(2, applicant_name="欧阳娜娜")]
    bom = run_cli(command, "policies", write_csv(tmp_path / "bom.csv", rows, encoding="utf-8-sig"))
    first = comparable("policies")
    gb = run_cli(command, "policies", write_csv(tmp_path / "gb.csv", rows, encoding="gb18030"))

    assert (bom["encoding"], bom["created"]) == ("utf-8-sig", 2)
    assert (gb["encoding"], gb["unchanged"], gb["created"]) == ("gb18030", 2, 0)
    assert comparable("policies") == first
    assert first[1]["applicant_name_masked"] == "欧**娜"
    assert first[1]["applicant_name_token"] == personal_token("name", "欧阳娜娜")


@pytest.mark.django_db
def test_an_excel_file_goes_through_the_framework(tree, tmp_path):
    rows = [POLICY_HEADER_CN, policy_row(1), policy_row(2, effective_date=dt.date(2024, 3, 5))]
    summary = run_cli("book-import", "policies", write_xlsx(tmp_path / "p.xlsx", rows))

    assert (engine_of(summary), summary["created"], summary["sheet"]) == ("framework", 2, "Sheet1")
    assert stored("policies")[1]["effective_date"] == dt.date(2024, 3, 5)


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_a_gb18030_file_mis_decoded_as_utf8_is_refused(tree, tmp_path, command):
    # What a program that read GB18030 bytes as Latin-1 and saved UTF-8 leaves behind.
    garbled = [
        [cell.encode("gb18030").decode("latin-1") for cell in row]
        for row in [POLICY_HEADER, policy_row(1), policy_row(2), policy_row(3)]
    ]
    garbled[0] = POLICY_HEADER
    summary, message = run_cli_refused(
        command, "policies", write_csv(tmp_path / "m.csv", garbled), returncode=1
    )

    assert summary["status"] == "failed" and "乱码" in message
    assert store.current_version("policies") is None


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_undecodable_bytes_are_refused_not_guessed(tree, tmp_path, command):
    path = tmp_path / "bad.csv"
    good = write_csv(tmp_path / "good.csv", [POLICY_HEADER_CN] + [policy_row(i) for i in range(1, 60)])
    path.write_bytes(good.read_bytes().replace("李四".encode(), b"\xff\xfe"))

    summary, message = run_cli_refused(command, "policies", path, returncode=1)

    assert summary["status"] == "failed" and "UTF-8" in message
    assert store.current_version("policies") is None


# ---------------------------------------------------------------- the same answer from both paths

MIXED = [
    policy_row(1),
    policy_row(
        2, effective_date="2024/3/5", annual_premium="12,000.50", channel="Agency", payment_mode="annual"
    ),
    policy_row(
        3, applicant_name=" 张三 ", applicant_phone="+86 138 1234 5678", applicant_id_no=id_no(3).lower()
    ),
    policy_row(4, applicant_id_no=id_no(4)[:17] + ("1" if id_no(4)[17] != "1" else "2")),  # check digit
    policy_row(5, status="退保"),  # no status date
    policy_row(6, org_code="ZZ"),  # unknown unit
    policy_row(7, effective_date="2024年3月5日", status="失效", status_date="20240601"),
    policy_row(1),  # the same record again: merged
    policy_row(8),
    policy_row(8, annual_premium="9000"),  # the same key, another value: a conflict
    [""] * len(POLICY_HEADER),  # blank: skipped
    policy_row(9, policy_no=""),  # no key
    policy_row(10, effective_date="2024-02-30"),
    policy_row(11, applicant_name="欧阳\u3000娜娜", payment_years="0"),
    policy_row(12, applicant_name="司马\u3000相如", sum_assured="-1"),
    policy_row(13, status_date="2020-01-01", status="满期"),  # status date before the effective date
    policy_row(14, applicant_phone="0532-12345678", insured_id_no=""),
]


@pytest.mark.django_db
def test_both_paths_give_the_same_store_summary_and_error_file(tree, tmp_path, monkeypatch):
    from xiaobao.book import bulk

    monkeypatch.setattr(bulk, "SEALER_PROCESS_BYTES", 0)  # seal in child processes, as for big files
    path = write_csv(tmp_path / "mixed.csv", [POLICY_HEADER, *MIXED])

    framework = run_cli("import", "policies", path)
    framework_rows = comparable("policies")
    framework_errors = read_errors(framework["errors_file"])
    store.table_dir("policies").rename(tmp_path / "framework-store")
    bulk = run_cli("book-import", "policies", path)

    assert engine_of(bulk) == "bulk"
    for name in (
        "rows_read",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "records",
        "errors",
        "conflicts",
    ):
        assert bulk[name] == framework[name], name
    assert comparable("policies") == framework_rows
    assert read_errors(bulk["errors_file"]) == framework_errors
    check_invariant(bulk)
    assert (bulk["rows_read"], bulk["created"], bulk["rejected"]) == (16, 6, 10)
    reasons = {e["row"]: e["reason"] for e in bulk["errors"]}
    assert "校验位" in reasons[5]
    assert "状态日期" in reasons[6]
    assert reasons[7] == "机构 ZZ 不存在: 请先导入机构"
    assert "不一致" in reasons[11]
    assert "不存在" in reasons[14]
    by_no = {row["policy_no"]: row for row in framework_rows}
    assert by_no["P000002"]["channel"] == "个险" and by_no["P000002"]["annual_premium"] == Decimal("12000.50")
    assert by_no["P000003"]["applicant_name_token"] == personal_token("name", "张三")
    assert by_no["P000003"]["applicant_phone_masked"] == "138****5678"
    assert by_no["P000007"]["status_date"] == dt.date(2024, 6, 1)
    assert by_no["P000014"]["insured_id_no_token"] is None


# ---------------------------------------------------------------- idempotency, updates, strict, dry run


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_importing_the_same_file_again_changes_nothing(tree, tmp_path, command):
    """Decision: an import that changes nothing writes no version, so CURRENT stays where it was and
    the table's bytes are untouched; the batch is still recorded, with every row unchanged."""
    path = write_csv(tmp_path / "p.csv", [POLICY_HEADER] + [policy_row(i) for i in range(1, 6)])
    first = run_cli(command, "policies", path)
    before = version_bytes("policies")

    again = run_cli(command, "policies", path)

    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert again["store"]["written"] is False
    assert store.current_version("policies") == first["store"]["version"] == "v000001"
    assert store.versions("policies") == ["v000001"]
    assert version_bytes("policies") == before
    assert ImportBatch.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_a_later_file_updates_and_the_change_is_recorded(tree, tmp_path, command):
    run_cli(command, "policies", write_csv(tmp_path / "a.csv", [POLICY_HEADER, policy_row(1), policy_row(2)]))
    kept = stored("policies")
    rows = [
        POLICY_HEADER,
        policy_row(1, status="退保", status_date="2024-05-06"),
        policy_row(2, applicant_phone="13912345678"),
    ]

    summary = run_cli(command, "policies", write_csv(tmp_path / "b.csv", rows))

    assert (summary["updated"], summary["unchanged"]) == (2, 0)
    one, two = stored("policies")
    assert (one["status"], one["status_date"], one["_batch"]) == (
        "退保",
        dt.date(2024, 5, 6),
        summary["batch"],
    )
    # The unchanged personal values keep their ciphertext; the changed phone is sealed anew.
    assert one["applicant_name_enc"] == kept[0]["applicant_name_enc"]
    assert two["applicant_phone_enc"] != kept[1]["applicant_phone_enc"]
    assert (
        personal.open_value("policies", "applicant_phone", "P000002", two["applicant_phone_enc"])
        == "13912345678"
    )
    changes = {c.key: c.changes for c in ImportChange.objects.filter(batch_id=summary["batch"])}
    assert changes["P000001"] == {"status": ["有效", "退保"], "status_date": [None, "2024-05-06"]}
    assert changes["P000002"] == {"applicant_phone": ["138****0002", "139****5678"]}


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_a_column_the_file_lacks_keeps_its_stored_value(tree, tmp_path, command):
    run_cli(command, "policies", write_csv(tmp_path / "a.csv", [POLICY_HEADER, policy_row(1)]))
    header = [name for name in POLICY_HEADER if name not in ("sum_assured", "applicant_phone")]
    row = dict(zip(POLICY_HEADER, policy_row(1, annual_premium="15000"), strict=True))

    summary = run_cli(command, "policies", write_csv(tmp_path / "b.csv", [header, [row[h] for h in header]]))

    (policy,) = stored("policies")
    assert summary["updated"] == 1
    assert (policy["annual_premium"], policy["sum_assured"]) == (Decimal("15000.00"), Decimal("200000.00"))
    assert policy["applicant_phone_masked"] == "138****0001"


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_strict_and_dry_run_write_nothing(tree, tmp_path, command):
    run_cli(command, "policies", write_csv(tmp_path / "a.csv", [POLICY_HEADER, policy_row(1)]))
    path = write_csv(
        tmp_path / "b.csv",
        [POLICY_HEADER, policy_row(1, annual_premium="1"), policy_row(2), policy_row(3, org_code="ZZ")],
    )

    dry = run_cli(command, "policies", path, "--dry-run")
    strict, message = run_cli_refused(command, "policies", path, "--strict", returncode=3)

    assert (dry["status"], dry["created"], dry["updated"], dry["rejected"]) == ("dry_run", 1, 1, 1)
    assert (strict["status"], strict["created"], strict["updated"], strict["rejected"]) == (
        "rejected",
        1,
        1,
        1,
    )
    assert "严格模式" in message
    assert store.versions("policies") == ["v000001"]
    assert stored("policies")[0]["annual_premium"] == Decimal("12000.00")
    assert not ImportChange.objects.exists()
    assert [p.name for p in store.table_dir("policies").iterdir() if p.name.startswith(".tmp-")] == []


# ---------------------------------------------------------------- premiums, surrenders, claims


@pytest.fixture
def policies(tree, tmp_path):
    rows = [POLICY_HEADER] + [policy_row(i) for i in range(1, 4)]
    run_cli("book-import", "policies", write_csv(tmp_path / "policies.csv", rows))


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_premiums_of_unknown_policies_are_rejected_with_their_reason(policies, tmp_path, command):
    rows = [PREMIUM_HEADER_CN, premium_row(1), premium_row(1, 2), premium_row(99), premium_row(2, 0)]

    summary = run_cli(command, "premiums", write_csv(tmp_path / "premiums.csv", rows))

    assert (summary["created"], summary["rejected"]) == (2, 2)
    errors = read_errors(summary["errors_file"])
    assert [(e["错误行号"], e["错误原因"]) for e in errors] == [
        (4, "保单 P000099 不存在: 请先导入保单清单"),
        (5, "保单年度应为 1 到 100 之间的整数"),
    ]
    assert errors[0]["保单号"] == "P000099"
    assert [(p["policy_no"], p["policy_year"]) for p in stored("premiums")] == [
        ("P000001", 1),
        ("P000001", 2),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_surrenders(policies, tmp_path, command):
    rows = [
        SURRENDER_HEADER,
        [
            "P000001",
            "2024-05-06",
            "2024-05-08",
            "8,000.00",
            "6000",
            "是",
            "委托代办",
            "13911112222",
            "李四",
            "6222 0202 0202 1234",
            "资金周转",
            "TS20240501-0001",
        ],
        ["P000002", "2024-05-06", "2024-05-01", "100", "", "", "柜面", "", "", "", "", ""],
        ["P000003", "2024-05-06", "2024-05-07", "100", "", "否", "counter", "", "", "12", "", ""],
        ["P000099", "2024-05-06", "2024-05-07", "100", "", "", "", "", "", "", "", ""],
    ]

    summary = run_cli(command, "surrenders", write_csv(tmp_path / "s.csv", rows))

    assert (summary["created"], summary["rejected"]) == (1, 3)
    (row,) = stored("surrenders")
    assert (row["apply_date"], row["amount"], row["full_refund"], row["apply_channel"]) == (
        dt.date(2024, 5, 6),
        Decimal("8000.00"),
        True,
        "委托代办",
    )
    assert row["payee_account_masked"] == "****1234"
    assert row["payee_account_token"] == personal_token("account", "6222020202021234")
    assert (
        personal.open_value("surrenders", "payee_name", "P000001|2024-05-06", row["payee_name_enc"]) == "李四"
    )
    reasons = sorted(e["reason"] for e in summary["errors"])
    assert any("早于申请日期" in r for r in reasons)
    assert any("银行账号" in r for r in reasons)
    assert any("P000099" in r for r in reasons)


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_claims(policies, tmp_path, command):
    rows = [
        CLAIM_HEADER,
        ["C1", "P000001", "2024-05-01", "2024-05-03", "2024-05-05", "2024-05-06", "正常给付", "5000", "5000"],
        ["C2", "P000002", "2024-05-01", "2024-05-03", "", "", "", "3000", ""],
        ["C3", "P000002", "2024-05-01", "2024-05-03", "2024-05-05", "2024-05-06", "拒赔", "3000", ""],
        ["C4", "P000003", "2024-05-01", "2024-05-03", "2024-05-05", "", "declined", "3000", "100"],
        ["C5", "P000003", "2024-05-04", "2024-05-03", "", "", "", "", ""],
        ["C6", "P000003", "2024-05-01", "2024-05-03", "", "", "部分给付", "", ""],
    ]

    summary = run_cli(command, "claims", write_csv(tmp_path / "c.csv", rows))

    assert [c["claim_no"] for c in stored("claims")] == ["C1", "C2"]
    assert {e["row"]: e["column"] for e in summary["errors"]} == {
        4: "decision",
        5: "paid_amount",
        6: "docs_complete_date",
        7: "decision_date",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS)
def test_a_record_with_a_bad_row_is_counted_once_in_a_first_import(policies, tmp_path, command):
    """Found by imports/tests/test_import_properties.py: in the first import of a table, the
    vectorised pass subtracted a record's rows refused before staging from the rows it created, so
    a record of one good and one bad row gave created = -1, and the batch could not be saved."""
    rows = [
        PREMIUM_HEADER_CN,
        premium_row(1),
        premium_row(2),
        premium_row(2, received_date="昨天"),
        premium_row(3),
    ]

    summary = run_cli(command, "premiums", write_csv(tmp_path / "premiums.csv", rows))

    check_invariant(summary)
    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (4, 2, 2)
    assert summary["records"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert [p["policy_no"] for p in stored("premiums")] == ["P000001", "P000003"]


@pytest.mark.django_db
def test_a_first_row_of_the_wrong_width_is_handed_to_the_framework(policies, tmp_path):
    """Found by the same test: Arrow reads the first block when the reader opens, and a short row
    there escaped as ArrowInvalid instead of handing the file to the framework."""
    rows = [PREMIUM_HEADER_CN, [""], premium_row(1)]

    summary = run_cli("book-import", "premiums", write_csv(tmp_path / "premiums.csv", rows))

    assert engine_of(summary) == "framework"
    assert (summary["rows_read"], summary["created"], summary["rejected"]) == (1, 1, 0)


@pytest.mark.django_db
def test_a_csv_whose_records_span_lines_is_handed_to_the_framework(tree, tmp_path):
    """Row numbers must be the reader's: a quoted line break or a blank line sends the file to the
    framework's row-by-row reader, with the same result."""
    rows = [
        POLICY_HEADER,
        policy_row(1, product_name="瀚海福享\n终身寿险"),
        policy_row(2),
        policy_row(3, org_code="ZZ"),
    ]
    path = write_csv(tmp_path / "p.csv", rows)
    path.write_bytes(
        path.read_bytes() + b"\r\n" + write_csv(tmp_path / "q.csv", [policy_row(4)]).read_bytes()
    )

    summary = run_cli("book-import", "policies", path)

    assert engine_of(summary) == "framework"
    assert (summary["created"], summary["rejected"], summary["errors"][0]["row"]) == (3, 1, 4)
    assert stored("policies")[0]["product_name"] == "瀚海福享\n终身寿险"
    assert ImportBatch.objects.count() == 1  # the pass that gave up left no batch behind
