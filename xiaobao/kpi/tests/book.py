"""Small hand-made store tables for KPI tests, written with xiaobao.book.store.write_table."""

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from xiaobao.book import store
from xiaobao.book.schema import SCHEMAS

D = dt.date


def policy(no: str, **kw) -> dict:
    row = {
        "policy_no": no,
        "org_code": "C1",
        "channel": "个险",
        "product_code": "P1",
        "product_name": "福寿年年",
        "product_type": "普通寿险",
        "agent_code": "A1",
        "applicant_name_masked": "张*三",
        "applicant_phone_masked": "138****5678",
        "insured_id_no_token": f"I-{no}",
        "effective_date": D(2023, 1, 1),
        "payment_mode": "年交",
        "payment_years": 10,
        "annual_premium": Decimal("1000.00"),
        "sum_assured": Decimal("100000.00"),
        "status": "有效",
        "status_date": None,
        "_batch": 1,
    }
    row.update(kw)
    return row


def premium(no: str, year: int, received: dt.date, amount="1000.00", **kw) -> dict:
    row = {
        "policy_no": no,
        "policy_year": year,
        "due_date": received,
        "received_date": received,
        "amount": Decimal(amount),
        "_batch": 1,
    }
    row.update(kw)
    return row


def surrender(no: str, day: dt.date, amount="500.00", **kw) -> dict:
    row = {
        "policy_no": no,
        "apply_date": day,
        "surrender_date": day,
        "amount": Decimal(amount),
        "cash_value": Decimal(amount),
        "full_refund": False,
        "apply_channel": "柜面",
        "payee_name_masked": "李*四",
        "_batch": 1,
    }
    row.update(kw)
    return row


def claim(no: str, policy_no: str, **kw) -> dict:
    row = {
        "claim_no": no,
        "policy_no": policy_no,
        "report_date": D(2024, 3, 1),
        "docs_complete_date": D(2024, 3, 5),
        "decision_date": D(2024, 3, 10),
        "payment_date": D(2024, 3, 12),
        "decision": "正常给付",
        "claimed_amount": Decimal("1000.00"),
        "paid_amount": Decimal("1000.00"),
        "_batch": 1,
    }
    row.update(kw)
    return row


def write(table: str, rows: list[dict]) -> str:
    schema = SCHEMAS[table]
    full = [{name: r.get(name) for name in schema.names} for r in rows]
    return store.write_table(table, pa.Table.from_pylist(full, schema=schema))


def write_book(*, policies=(), premiums=(), surrenders=(), claims=()) -> dict[str, str]:
    return {
        "policies": write("policies", list(policies)),
        "premiums": write("premiums", list(premiums)),
        "surrenders": write("surrenders", list(surrenders)),
        "claims": write("claims", list(claims)),
    }
