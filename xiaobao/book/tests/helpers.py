"""Shared helpers for the book tests: valid identity numbers, rows of each format, running both
import paths and reading the store."""

import io
import json
from typing import Any

import pyarrow.parquet as pq
from django.core.management import call_command
from django.core.management.base import CommandError

from xiaobao.book import store
from xiaobao.book.schema import KEYS
from xiaobao.lib.idcard import id_check_char

POLICY_HEADER = [
    "policy_no",
    "org_code",
    "channel",
    "product_code",
    "product_name",
    "product_type",
    "agent_code",
    "applicant_name",
    "applicant_id_no",
    "applicant_phone",
    "insured_id_no",
    "effective_date",
    "payment_mode",
    "payment_years",
    "annual_premium",
    "sum_assured",
    "status",
    "status_date",
]
POLICY_HEADER_CN = [
    "保单号",
    "管理机构",
    "销售渠道",
    "险种代码",
    "险种名称",
    "险种类型",
    "业务员代码",
    "投保人姓名",
    "投保人证件号",
    "投保人电话",
    "被保人证件号",
    "生效日期",
    "缴费方式",
    "缴费年期",
    "期交保费",
    "保额",
    "保单状态",
    "状态日期",
]
PREMIUM_HEADER = ["policy_no", "policy_year", "due_date", "received_date", "amount"]
PREMIUM_HEADER_CN = ["保单号", "保单年度", "应缴日期", "实收日期", "实收保费"]
SURRENDER_HEADER = [
    "policy_no",
    "apply_date",
    "surrender_date",
    "amount",
    "cash_value",
    "full_refund",
    "apply_channel",
    "contact_phone",
    "payee_name",
    "payee_account",
    "reason",
    "complaint_ref",
]
CLAIM_HEADER = [
    "claim_no",
    "policy_no",
    "report_date",
    "docs_complete_date",
    "decision_date",
    "payment_date",
    "decision",
    "claimed_amount",
    "paid_amount",
]
NAMES = ["张三丰", "李四", "王小五", "赵六", "陈七七", "周八", "吴九"]


def id_no(seq: int, birth: str = "19800101", region: str = "370102") -> str:
    first17 = f"{region}{birth}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


def id_no_ending_x(birth: str = "19800101") -> str:
    return next(id_no(seq, birth) for seq in range(1000) if id_no(seq, birth).endswith("X"))


def policy_row(n: int, **over: Any) -> list:
    row = {
        "policy_no": f"P{n:06d}",
        "org_code": "C1",
        "channel": "个险",
        "product_code": "P1001",
        "product_name": "瀚海福享终身寿险(分红型)",
        "product_type": "分红",
        "agent_code": f"A8637{n % 10000:04d}",
        "applicant_name": NAMES[n % len(NAMES)],
        "applicant_id_no": id_no(n),
        "applicant_phone": f"138{n:08d}",
        "insured_id_no": id_no(n + 1, birth="20100505"),
        "effective_date": "2023-03-05",
        "payment_mode": "年交",
        "payment_years": "10",
        "annual_premium": "12000.00",
        "sum_assured": "200000",
        "status": "有效",
        "status_date": "",
    }
    row.update(over)
    return [row[name] for name in POLICY_HEADER]


def premium_row(n: int, year: int = 1, **over: Any) -> list:
    row = {
        "policy_no": f"P{n:06d}",
        "policy_year": str(year),
        "due_date": f"{2022 + year}-03-05",
        "received_date": f"{2022 + year}-03-06",
        "amount": "12000.00",
    }
    row.update(over)
    return [row[name] for name in PREMIUM_HEADER]


def run_cli(command: str, *args: Any) -> dict[str, Any]:
    """Run `xiaobao import` or `xiaobao book-import`; the one JSON line it printed (exit 0)."""
    out = io.StringIO()
    call_command(command, *map(str, args), stdout=out, stderr=io.StringIO())
    lines = out.getvalue().strip("\n").split("\n")
    assert len(lines) == 1, out.getvalue()
    return json.loads(lines[0])


def run_cli_refused(command: str, *args: Any, returncode: int) -> tuple[dict[str, Any], str]:
    out = io.StringIO()
    try:
        call_command(command, *map(str, args), stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        assert exc.returncode == returncode, (exc.returncode, str(exc))
        lines = [line for line in out.getvalue().split("\n") if line.strip()]
        return (json.loads(lines[0]) if lines else {}), str(exc)
    raise AssertionError(f"the import succeeded: {out.getvalue()}")


def stored(table: str) -> list[dict[str, Any]]:
    """The current version of a table as dicts, ordered by key."""
    folder = store.version_dir(table)
    if folder is None:
        return []
    rows = pq.read_table(folder).to_pylist()
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in KEYS[table]))


def comparable(table: str) -> list[dict[str, Any]]:
    """Stored rows without what differs between two correct imports (ciphertexts, batch ids)."""
    return [
        {k: v for k, v in row.items() if not k.endswith("_enc") and k != "_batch"} for row in stored(table)
    ]


def version_bytes(table: str) -> bytes:
    folder = store.version_dir(table)
    return b"".join(p.read_bytes() for p in sorted(folder.glob("*.parquet"))) if folder else b""


ADDRESS_COLUMNS = ["contact_address_enc", "contact_address_token", "contact_address_masked"]


def make_legacy(table: str = "surrenders", version: str | None = None) -> str:
    """Rewrite a stored version's files as a store written before the contact_address column
    existed (the column dropped from the files), as an upgraded installation holds them."""
    folder = store.version_dir(table, version)
    for part in folder.glob("*.parquet"):
        data = pq.read_table(part)
        pq.write_table(data.drop_columns([c for c in ADDRESS_COLUMNS if c in data.column_names]), part)
    assert store.missing_columns(table, version) == (ADDRESS_COLUMNS if table == "surrenders" else [])
    return folder.name
