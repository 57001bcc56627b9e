"""核心业务数据: the Parquet tables of the core-system extracts (policies, premiums, surrenders, claims).

Columns follow ../shared/domain/data-formats.md. Amounts are decimal(18, 2) yuan, dates are date32.
Personal data never appears in plain text: each personal column becomes three, `<col>_enc` (AES-GCM
ciphertext under the store key), `<col>_token` (the same keyed hash as xiaobao.privacy, for joins with
cases and customers) and `<col>_masked` (what screens and exports show). Every row carries `_batch`,
the import batch that last wrote it.
"""

import pyarrow as pa

AMOUNT = pa.decimal128(18, 2)

# Personal columns of each table and their kind (name, id_no, phone, account, address), as in
# xiaobao.privacy. A column added after the first version (surrenders.contact_address) is missing from
# older versions' files: readers go through staging.parquet_source, which reads it as NULL.
PERSONAL = {
    "policies": {
        "applicant_name": "name",
        "applicant_id_no": "id_no",
        "applicant_phone": "phone",
        "insured_id_no": "id_no",
    },
    "premiums": {},
    "surrenders": {
        "contact_phone": "phone",
        "payee_name": "name",
        "payee_account": "account",
        "contact_address": "address",  # optional, not in data-formats.md: see README
    },
    "claims": {},
}

KEYS = {
    "policies": ("policy_no",),
    "premiums": ("policy_no", "policy_year"),
    "surrenders": ("policy_no", "apply_date"),
    "claims": ("claim_no",),
}


def _personal(table: str) -> list[pa.Field]:
    fields = []
    for column in PERSONAL[table]:
        fields += [
            pa.field(f"{column}_enc", pa.binary()),
            pa.field(f"{column}_token", pa.string()),
            pa.field(f"{column}_masked", pa.string()),
        ]
    return fields


BATCH = pa.field("_batch", pa.int64(), nullable=False)

SCHEMAS = {
    "policies": pa.schema(
        [
            pa.field("policy_no", pa.string(), nullable=False),
            pa.field("org_code", pa.string(), nullable=False),
            pa.field("channel", pa.string(), nullable=False),  # 个险 银保 团险 经代 互联网 电销
            pa.field("product_code", pa.string(), nullable=False),
            pa.field("product_name", pa.string()),
            pa.field("product_type", pa.string()),  # 普通寿险 年金 分红 万能 投连 健康 意外
            pa.field("agent_code", pa.string()),
            *_personal("policies"),
            pa.field("effective_date", pa.date32(), nullable=False),
            pa.field("payment_mode", pa.string(), nullable=False),  # 趸交 年交 半年交 季交 月交
            pa.field("payment_years", pa.int32()),
            pa.field("annual_premium", AMOUNT, nullable=False),
            pa.field("sum_assured", AMOUNT),
            pa.field(
                "status", pa.string(), nullable=False
            ),  # 有效 退保 犹豫期撤单 满期 理赔终止 失效 效力中止
            pa.field("status_date", pa.date32()),
            BATCH,
        ]
    ),
    "premiums": pa.schema(
        [
            pa.field("policy_no", pa.string(), nullable=False),
            pa.field("policy_year", pa.int32(), nullable=False),  # 1 = first-year premium
            pa.field("due_date", pa.date32(), nullable=False),
            pa.field("received_date", pa.date32(), nullable=False),
            pa.field("amount", AMOUNT, nullable=False),
            BATCH,
        ]
    ),
    "surrenders": pa.schema(
        [
            pa.field("policy_no", pa.string(), nullable=False),
            pa.field("apply_date", pa.date32(), nullable=False),
            pa.field("surrender_date", pa.date32(), nullable=False),
            pa.field("amount", AMOUNT, nullable=False),
            pa.field("cash_value", AMOUNT),
            pa.field("full_refund", pa.bool_()),
            pa.field("apply_channel", pa.string()),  # 柜面 线上 业务员代办 委托代办
            *_personal("surrenders"),
            pa.field("reason", pa.string()),
            pa.field("complaint_ref", pa.string()),
            BATCH,
        ]
    ),
    "claims": pa.schema(
        [
            pa.field("claim_no", pa.string(), nullable=False),
            pa.field("policy_no", pa.string(), nullable=False),
            pa.field("report_date", pa.date32(), nullable=False),
            pa.field("docs_complete_date", pa.date32(), nullable=False),
            pa.field("decision_date", pa.date32()),
            pa.field("payment_date", pa.date32()),
            pa.field("decision", pa.string()),  # 正常给付 部分给付 拒赔 撤案
            pa.field("claimed_amount", AMOUNT),
            pa.field("paid_amount", AMOUNT),
            BATCH,
        ]
    ),
}

TABLES = tuple(SCHEMAS)
