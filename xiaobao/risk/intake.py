"""The watchlist check at intake (疑似退保黑产信息库): new cases and newly imported core-data rows
that touch an active entry are recorded, so the desk, the case page and the risk pages show them.

Hung on the other apps' hook registries by RiskConfig.ready(): xiaobao.cases.hooks (cases created
by the form, the API or an import) and xiaobao.book.hooks (a core-data import committed). Neither app
imports risk.

Costs: a list of new cases is checked with one query (whatever its length; the import calls it once
per chunk), plus one to read the matched entries and one insert when anything matched. A book batch
is checked with one DuckDB pass over the table's current version (the batch's rows, `_batch` = its
id) joined with the active entries as an Arrow table; no Python loop over rows.
"""

import logging
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from xiaobao.risk.models import HitSource, WatchEntry, WatchKind, WatchlistHit, WatchlistRowHit
from xiaobao.risk.watchlist import CUSTOMER_FIELDS

if TYPE_CHECKING:  # imported where used: this module loads with every command (risk's ready())
    import pyarrow as pa

log = logging.getLogger(__name__)

# Token columns of the book tables a watchlist kind is checked against (book.schema.PERSONAL kinds).
BOOK_KINDS = {WatchKind.PHONE, WatchKind.ACCOUNT, WatchKind.NAME, WatchKind.ADDRESS}


# ---------------------------------------------------------------- cases


def _customer_match(prefix: str = "customer__") -> Q:
    active = WatchEntry.objects.filter(active=True)
    match = Q()
    for kind, field in CUSTOMER_FIELDS.items():
        match |= Q(**{f"{prefix}{field}__in": active.filter(kind=kind).values("token")})
    return match


def flag_cases(case_ids: list[int], *, source: str = HitSource.INTAKE) -> int:
    """Record a WatchlistHit for each of these cases whose customer's phone, account, name or address
    token is on the active watchlist; return how many hits were new.

    1. One query: the cases of the id range (min..max of the list, so no IN list of thousands) whose
       customer token is among the active entries' tokens, with those tokens; ids outside the list
       (another writer's cases inside the range) are dropped here.
    2. One query: the matched entries (watchlist.flags_for). 3. One insert (a hit already stored is
       kept: the unique (case, entry) constraint, ignore_conflicts).
    """
    from xiaobao.cases.models import Case

    if not case_ids:
        return 0
    wanted = set(case_ids)
    fields = list(CUSTOMER_FIELDS.items())
    rows = [
        row
        for row in Case.objects.filter(pk__gte=min(wanted), pk__lte=max(wanted))
        .filter(_customer_match())
        .values_list("pk", *(f"customer__{field}" for _kind, field in fields))
        if row[0] in wanted
    ]
    return _record_case_hits(rows, fields, source)


def _record_case_hits(rows, fields, source: str) -> int:
    if not rows:
        return 0
    from xiaobao.risk.watchlist import flags_for

    pairs = {
        (kind, token) for row in rows for (kind, _f), token in zip(fields, row[1:], strict=True) if token
    }
    entries = {(e.kind, e.token): e for e in flags_for(pairs)}
    hits = [
        WatchlistHit(case_id=row[0], entry=entries[(kind, token)], source=source)
        for row in rows
        for (kind, _f), token in zip(fields, row[1:], strict=True)
        if (kind, token) in entries
    ]
    WatchlistHit.objects.bulk_create(hits, ignore_conflicts=True)
    return len(hits)


def flag_existing_cases(*, entry: WatchEntry | None = None, source: str = HitSource.SCAN) -> int:
    """Record the hits of cases already in the database: of one entry (just listed) or of the whole
    active watchlist (the daily scan). One query for the matches, one for the entries, one insert."""
    from xiaobao.cases.models import Case

    fields = list(CUSTOMER_FIELDS.items())
    if entry is not None:
        field = CUSTOMER_FIELDS.get(entry.kind)
        if field is None or not entry.token:
            return 0
        cases = Case.objects.filter(**{f"customer__{field}": entry.token})
    else:
        # From the listed tokens to their customers (token indexes), then to those customers' cases
        # (the customer_id index): no walk over every case.
        from xiaobao.customers.models import Customer

        listed = Customer.objects.filter(_customer_match(prefix="")).values("pk")
        cases = Case.objects.filter(customer_id__in=listed)
    rows = list(cases.values_list("pk", *(f"customer__{field}" for _kind, field in fields)))
    return _record_case_hits(rows, fields, source)


def on_cases_created(case_ids: list[int]) -> None:
    flag_cases(case_ids, source=HitSource.INTAKE)


def annotate_desk(cases: QuerySet) -> QuerySet:
    """The desk's `risk_flagged`: an Exists over the stored hits of active entries (no query per row)."""
    return cases.annotate(
        risk_flagged=Exists(WatchlistHit.objects.filter(case_id=OuterRef("pk"), entry__active=True))
    )


def stored_flags(case) -> list[WatchEntry]:
    """The active entries recorded against a case."""
    return list(WatchEntry.objects.filter(active=True, case_hits__case_id=case.pk).order_by("pk").distinct())


# ---------------------------------------------------------------- book rows


def _watch_table(kinds: set[str], *, entry: WatchEntry | None = None) -> "pa.Table | None":
    import pyarrow as pa

    listed = WatchEntry.objects.filter(active=True, kind__in=kinds)
    if entry is not None:
        listed = listed.filter(pk=entry.pk)
    entries = list(listed.values_list("pk", "kind", "token"))
    if not entries:
        return None
    return pa.table(
        {
            "entry_id": pa.array([e[0] for e in entries], pa.int64()),
            "kind": pa.array([e[1] for e in entries], pa.string()),
            "token": pa.array([e[2] for e in entries], pa.string()),
        }
    )


def book_row_hits(
    table: str, batch_id: int | None, *, version: str | None = None, entry: WatchEntry | None = None
) -> list[tuple]:
    """The rows of `table` that touch an active entry (or the one `entry`), as (key, policy_no,
    column, entry_id, org_code, batch): those last written by batch `batch_id`, or every row of the
    version when it is None. One DuckDB query over the Parquet version (the policy's unit joined from
    the policies table for the other tables)."""
    from xiaobao.book import store
    from xiaobao.book.schema import KEYS, PERSONAL
    from xiaobao.book.staging import parquet_source

    columns = {column: kind for column, kind in PERSONAL.get(table, {}).items() if kind in BOOK_KINDS}
    if not columns or not store.parquet_glob(table, version):
        return []
    watch = _watch_table(set(columns.values()), entry=entry)
    if watch is None:
        return []
    key_sql = " || '|' || ".join(f"CAST(s.{k} AS VARCHAR)" for k in KEYS[table])
    parts = [
        f"""SELECT {key_sql} AS key, s.policy_no, '{column}' AS col, w.entry_id, s.org_code, s._batch
            FROM batch_rows s JOIN watch w ON w.kind = '{kind}' AND s.{column}_token = w.token
            WHERE s.{column}_token <> ''"""
        for column, kind in columns.items()
    ]
    # parquet_source: a version older than a column (contact_address) reads it as NULL, matching nothing.
    rows_sql = f"SELECT * FROM {parquet_source(table, version)}"
    if batch_id is not None:
        rows_sql += f" WHERE _batch = {int(batch_id)}"
    if table != "policies":  # the unit of a surrender is its policy's
        unit_sql = (
            f"(SELECT policy_no, org_code FROM {parquet_source('policies')})"
            if store.parquet_glob("policies")
            else "(SELECT NULL::VARCHAR AS policy_no, NULL::VARCHAR AS org_code WHERE false)"
        )
        rows_sql = f"SELECT r.*, p.org_code FROM ({rows_sql}) r LEFT JOIN {unit_sql} p USING (policy_no)"
    import duckdb

    con = duckdb.connect()
    try:
        con.register("watch", watch)
        con.execute(f"CREATE TEMP VIEW batch_rows AS {rows_sql}")
        return con.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 3, 4").fetchall()
    finally:
        con.close()


def _record_row_hits(table: str, found: list[tuple]) -> int:
    """Store the hits (batch, table, key, column, entry: once each); rows written by a batch the
    database does not know (data placed in the store by hand) cannot be linked and are skipped."""
    from xiaobao.imports.models import ImportBatch

    known = set(ImportBatch.objects.filter(pk__in={row[5] for row in found}).values_list("pk", flat=True))
    hits = [
        WatchlistRowHit(
            batch_id=batch,
            table=table,
            key=key[:255],
            policy_no=policy or "",
            org_code=(org or "")[:32],
            column=column,
            entry_id=entry,
        )
        for key, policy, column, entry, org, batch in found
        if batch in known
    ]
    before = WatchlistRowHit.objects.count()
    WatchlistRowHit.objects.bulk_create(hits, ignore_conflicts=True)
    return WatchlistRowHit.objects.count() - before


def flag_existing_rows(*, entry: WatchEntry | None = None) -> int:
    """Record the hits of core-data rows already in the store: of one entry (just listed) or of the
    whole active watchlist (the daily scan), over the current version of each table. Returns the
    number of new hits."""
    from xiaobao.book.schema import PERSONAL

    return sum(
        _record_row_hits(table, found)
        for table in PERSONAL
        if (found := book_row_hits(table, None, entry=entry))
    )


def on_book_rows_written(batch, table: str) -> dict | None:
    """book hook: record the batch's rows that touch the watchlist; a note for the batch message."""
    found = book_row_hits(table, batch.pk)
    if not found:
        return None
    _record_row_hits(table, found)
    rows = len({key for key, *_rest in found})
    return {
        "key": "risk_watchlist",
        "details": {"rows": rows, "hits": len(found)},
        "message": _("命中疑似退保黑产信息库 %(n)s 行") % {"n": rows},
    }
