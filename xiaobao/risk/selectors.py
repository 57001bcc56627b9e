"""Reads of the risk app: the alert queue, an alert's surrenders from the Parquet book, the watchlist."""

import duckdb
from django.db.models import Count, Q, QuerySet

from xiaobao.accounts import access
from xiaobao.book import store
from xiaobao.book.selectors import COLUMNS, LABELS
from xiaobao.book.staging import parquet_source
from xiaobao.risk.models import Alert, AlertStatus, WatchEntry, WatchlistHit, WatchlistRowHit

SURRENDER_COLUMNS = [
    "policy_no",
    "apply_date",
    "surrender_date",
    "amount",
    "cash_value",
    "full_refund",
    "apply_channel",
    "contact_phone_masked",
    "payee_name_masked",
    "payee_account_masked",
    "contact_address_masked",
    "reason",
    "complaint_ref",
]


def alert_queue(user, *, status: str = "", kind: str = "") -> QuerySet[Alert]:
    alerts = access.scope(Alert.objects.select_related("unit", "assignee"), user)
    if status == "open":
        alerts = alerts.filter(status__in=[AlertStatus.NEW, AlertStatus.INVESTIGATING])
    elif status in AlertStatus.values:
        alerts = alerts.filter(status=status)
    if kind:
        alerts = alerts.filter(kind=kind)
    return alerts.order_by("-score", "-pk")


def alert_counts(user) -> dict:
    return access.scope(Alert.objects.all(), user).aggregate(
        open=Count("pk", filter=Q(status__in=[AlertStatus.NEW, AlertStatus.INVESTIGATING])),
        confirmed=Count("pk", filter=Q(status=AlertStatus.CONFIRMED)),
        dismissed=Count("pk", filter=Q(status=AlertStatus.DISMISSED)),
    )


def alert_surrenders(alert: Alert, *, sealed: bool = False) -> list[dict]:
    """The alert's surrenders from the book (masked columns; with sealed, also the ciphertexts)."""
    if not store.parquet_glob("surrenders") or not alert.policy_nos:
        return []
    columns = list(SURRENDER_COLUMNS)
    if sealed:
        columns += ["contact_phone_enc", "payee_name_enc", "payee_account_enc", "contact_address_enc"]
    con = duckdb.connect()
    con.register("wanted", _wanted(alert.policy_nos))
    cursor = con.execute(
        f"""SELECT {", ".join("s." + c for c in columns)} FROM {parquet_source("surrenders")} s
            JOIN wanted USING (policy_no) ORDER BY s.apply_date, s.policy_no"""
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _wanted(policy_nos):
    import pyarrow as pa

    return pa.table({"policy_no": pa.array(list(policy_nos), pa.string())})


def watchlist(user, *, active: bool = True) -> QuerySet[WatchEntry]:
    """Entries confirmed in the user's scope. (The intake check itself ignores scope: a ring crosses
    units, and a flag reveals only a masked value.)"""
    entries = WatchEntry.objects.select_related("unit", "confirmed_by", "alert").filter(active=active)
    return access.scope(entries, user)


def intake_hits(user, *, limit: int = 200) -> dict:
    """Recent watchlist hits at intake: cases in the user's scope, and core-data import rows of the
    units the user may see (the policy's unit), newest first; only hits of entries still listed."""
    cases = access.scope(
        WatchlistHit.objects.filter(entry__active=True).select_related(
            "case", "case__unit", "case__customer", "entry"
        ),
        user,
        unit_field="case__unit",
    ).order_by("-at", "-pk")[:limit]
    rows = WatchlistRowHit.objects.filter(entry__active=True).select_related("entry", "batch")
    if not access.is_admin(user):
        rows = rows.filter(org_code__in=access.visible_units(user).values("code"))
    rows = list(rows.order_by("-at", "-pk")[:limit])
    labels = {(t, c.removesuffix("_masked")): label for t, cols in COLUMNS.items() for c, label in cols}
    for hit in rows:
        hit.table_label = LABELS.get(hit.table, hit.table)
        hit.column_label = labels.get((hit.table, hit.column), hit.column)
    return {"cases": list(cases), "rows": rows}
