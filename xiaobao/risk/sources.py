"""The records the risk scan reads: surrenders joined to their policies from the Parquet book (DuckDB,
column at a time), and complaints from the cases, in the shape of xiaobao.risk.rings.RECORD_COLUMNS."""

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from xiaobao.book import store
from xiaobao.book.staging import parquet_source
from xiaobao.risk.rings import RECORD_COLUMNS, empty_records

# A surrender without the 是否全额退保 flag counts as a full refund when it paid clearly more than the
# cash value (data-formats.md: "an amount well above the cash value is a full refund").
FULL_REFUND_OVER_CASH_VALUE = 1.2

SURRENDERS_SQL = """
SELECT 'S' AS source, s.policy_no, NULL AS case_no,
       COALESCE(NULLIF(p.applicant_id_no_token, ''), NULLIF(p.applicant_name_token, ''), s.policy_no) AS holder,
       s.apply_date AS day, p.org_code AS unit, NULL AS regulator,
       COALESCE(s.full_refund, s.amount > {ratio} * s.cash_value, FALSE) AS full_refund,
       COALESCE(s.apply_channel = '委托代办', FALSE) AS proxy,
       COALESCE(NULLIF(s.payee_name_token, '') <> p.applicant_name_token, FALSE) AS payee_differs,
       s.contact_phone_token AS phone, s.contact_phone_masked AS phone_m,
       p.applicant_phone_token AS applicant_phone, p.applicant_phone_masked AS applicant_phone_m,
       s.payee_account_token AS account, s.payee_account_masked AS account_m,
       s.payee_name_token AS payee_name, s.payee_name_masked AS payee_name_m,
       p.agent_code AS agent, p.agent_code AS agent_m,
       s.contact_address_token AS address, s.contact_address_masked AS address_m,
       NULL AS text, s.complaint_ref
FROM {surrenders} s LEFT JOIN {policies} p USING (policy_no)
WHERE s.apply_date <= DATE '{as_of}'
"""


def surrender_records(as_of: dt.date, con=None) -> pd.DataFrame:
    """Surrenders applied for up to `as_of`, with their policies. A store version older than the
    contact_address column reads it as NULL (parquet_source): such surrenders link by no address."""
    if not store.parquet_glob("surrenders") or not store.parquet_glob("policies"):
        return empty_records()
    con = con or duckdb.connect()
    sql = SURRENDERS_SQL.format(
        surrenders=parquet_source("surrenders"),
        policies=parquet_source("policies"),
        as_of=as_of.isoformat(),
        ratio=FULL_REFUND_OVER_CASH_VALUE,
    )
    frame = con.execute(sql).df()
    frame["day"] = frame["day"].to_numpy(dtype="datetime64[D]")
    return frame


def complaint_records(as_of: dt.date, con=None) -> pd.DataFrame:
    """Complaints received up to `as_of` (merged duplicates left out); the holder is the policy's
    applicant when the book knows the policy, else the complainant."""
    from xiaobao.cases.models import Case

    rows = list(
        Case.objects.filter(kind="投诉", received_at__date__lte=as_of, merged_into=None).values_list(
            "case_no",
            "policy_no",
            "channel",
            "received_at",
            "unit__code",
            "description",
            "customer__id_no_token",
            "customer__name_token",
            "customer__phone_token",
            "customer__phone_masked",
            "customer__account_token",
            "customer__account_masked",
            "customer__address_token",
            "customer__address_masked",
        )
    )
    if not rows:
        return empty_records()
    cols = [
        "case_no",
        "policy_no",
        "channel",
        "received_at",
        "unit",
        "text",
        "id_token",
        "name_token",
        "phone",
        "phone_m",
        "account",
        "account_m",
        "address",
        "address_m",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    frame["source"] = "C"
    frame["day"] = pd.to_datetime(frame["received_at"], utc=True).dt.tz_convert("Asia/Shanghai")
    frame["day"] = frame["day"].dt.tz_localize(None).to_numpy(dtype="datetime64[D]")
    frame["regulator"] = frame["channel"] == "监管转办"
    frame["policy_no"] = frame["policy_no"].replace("", None)
    holders = _policy_holders(frame["policy_no"].dropna().unique(), con)
    frame["holder"] = (
        frame["policy_no"]
        .map(holders)
        .astype(object)  # an empty map gives float NaN, which pandas will not fill with text
        .fillna(frame["id_token"].replace("", None))
        .fillna(frame["name_token"].replace("", None))
        .fillna(frame["case_no"])
    )
    for column in RECORD_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame.drop(columns=["channel", "received_at", "id_token", "name_token"])


def _policy_holders(policy_nos: np.ndarray, con=None) -> dict:
    if not store.parquet_glob("policies") or len(policy_nos) == 0:
        return {}
    con = con or duckdb.connect()
    wanted = pd.DataFrame({"policy_no": policy_nos})
    con.register("wanted", wanted)
    rows = con.execute(
        f"""SELECT p.policy_no, COALESCE(NULLIF(p.applicant_id_no_token, ''), p.applicant_name_token)
            FROM {parquet_source("policies")} p JOIN wanted USING (policy_no)"""
    ).fetchall()
    con.unregister("wanted")
    return dict(rows)


def scan_records(as_of: dt.date) -> pd.DataFrame:
    con = duckdb.connect()
    parts = [surrender_records(as_of, con), complaint_records(as_of, con)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_records()
    return pd.concat(parts, ignore_index=True)
