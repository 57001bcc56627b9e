"""What a KPI run reads: the store tables at given versions, the cases exported once from the
database, and the frames (the periods evaluated), all registered on one Ibis connection.

Cases live in the Django database, not in the store. They are exported once per run into an Arrow
table (only the columns the KPIs use, only the unit's subtree, only what the period needs) so that
the same Ibis expressions run on DuckDB and on Spark. Datetimes become local (Asia/Shanghai) dates
in the database, plus the receipt time as epoch seconds for the 90-day repeat window.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from xiaobao.book import store
from xiaobao.book.schema import SCHEMAS, TABLES
from xiaobao.kpi import backends
from xiaobao.kpi.expressions import TOTAL_KEY, Context, Tables
from xiaobao.kpi.periods import Period

CASE_SCHEMA = pa.schema(
    [
        pa.field("case_id", pa.int64()),
        pa.field("kind", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("status", pa.string()),
        pa.field("category", pa.string()),
        pa.field("unit_code", pa.string()),
        pa.field("received_date", pa.date32()),
        pa.field("received_ts", pa.int64()),
        pa.field("urgent", pa.bool_()),
        pa.field("claims_related", pa.bool_()),
        pa.field("response_due_date", pa.date32()),
        pa.field("responded_date", pa.date32()),
        pa.field("due_date", pa.date32()),
        pa.field("decided_date", pa.date32()),
        pa.field("on_time", pa.bool_()),
        pa.field("extension_level", pa.int32()),
        pa.field("customer_id", pa.int64()),
        pa.field("policy_no", pa.string()),
        pa.field("source_batch_id", pa.int64()),
    ]
)

FRAME_SCHEMA = pa.schema(
    [
        pa.field("_fkey", pa.string()),
        *(
            pa.field(name, pa.date32())
            for name in (
                "f_start",
                "f_end",
                "f_prev",
                "f_asof",
                "c13_start",
                "c13_end",
                "c25_start",
                "c25_end",
            )
        ),
    ]
)

REPEAT_LOOKBACK = dt.timedelta(days=90)


def _local_dates(values) -> pa.Array:
    """Aware datetimes → their dates in the configured time zone (Asia/Shanghai), column at once."""
    stamps = pa.array(values, pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz=settings.TIME_ZONE))
    return pc.cast(pc.local_timestamp(stamps), pa.date32())


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass
class CaseExport:
    table: pa.Table
    cutoff: dt.datetime
    max_updated_at: dt.datetime | None
    count: int
    sha256: str
    batch_ids: list[int] = field(default_factory=list)


def export_cases(*, unit, period: Period, today: dt.date, cutoff: dt.datetime) -> CaseExport:
    """The cases a run needs, received at or before `cutoff`: those received in the period (and the
    90 days before, for repeat complainants) and those that may be overdue at a frame's end."""
    from xiaobao.cases.models import Case

    cases = Case.objects.filter(received_at__lte=cutoff)
    if unit is not None:
        cases = cases.filter(unit__path__startswith=unit.path)
    after_end = _start_of(period.end + dt.timedelta(days=1))
    asof = min(period.end, today)
    in_window = Q(received_at__gte=_start_of(period.start - REPEAT_LOOKBACK), received_at__lt=after_end)
    maybe_overdue = Q(received_at__lt=after_end, due_date__lt=asof) & (
        Q(decided_at__isnull=True) | Q(decided_at__gte=_start_of(min(period.start, asof)))
    )
    cases = cases.filter(in_window | maybe_overdue).order_by("pk")
    # Plain columns only: the local dates are computed below on the Arrow arrays, not row by row in
    # the database (on SQLite, TruncDate is a Python function called for every value).
    rows = list(
        cases.values_list(
            "pk",
            "kind",
            "channel",
            "status",
            "category",
            "unit__code",
            "received_at",
            "received_at",
            "urgent",
            "claims_related",
            "response_due_date",
            "responded_at",
            "due_date",
            "decided_at",
            "on_time",
            "extension_level",
            "customer_id",
            "policy_no",
            "source_batch_id",
        )
    )
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in CASE_SCHEMA]
    arrays = []
    for values, f in zip(columns, CASE_SCHEMA, strict=True):
        if f.name == "received_ts":
            stamps = pa.array(values, pa.timestamp("us", tz="UTC"))
            arrays.append(pc.divide(stamps.cast(pa.int64()), 1_000_000))
        elif f.name in ("received_date", "responded_date", "decided_date"):
            arrays.append(_local_dates(values))
        elif f.name == "policy_no":
            numbers = pa.array(values, pa.string())
            arrays.append(
                pc.if_else(pc.equal(numbers, ""), pa.scalar(None, pa.string()), numbers)
            )  # blank: none
        else:
            arrays.append(pa.array(values, f.type))
    table = pa.Table.from_arrays(arrays, schema=CASE_SCHEMA)
    state = Case.objects.filter(received_at__lte=cutoff)
    if unit is not None:
        state = state.filter(unit__path__startswith=unit.path)
    summary = state.aggregate(n=Count("pk"), last=Max("updated_at"))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    batches = pc.unique(table.column("source_batch_id").drop_null()).to_pylist()
    return CaseExport(
        table=table,
        cutoff=cutoff,
        max_updated_at=summary["last"],
        count=summary["n"],
        sha256=hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest(),
        batch_ids=sorted(batches),
    )


def frames_table(ctx: Context) -> pa.Table:
    """One row per evaluated period: the whole period, or each of its months."""
    frames = ctx.frames
    keys = [f.code if ctx.by == "month" else TOTAL_KEY for f in frames]
    c13 = [f.cohort(13) for f in frames]
    c25 = [f.cohort(25) for f in frames]
    data = {
        "_fkey": keys,
        "f_start": [f.start for f in frames],
        "f_end": [f.end for f in frames],
        "f_prev": [f.day_before for f in frames],
        "f_asof": [min(f.end, ctx.today) for f in frames],
        "c13_start": [c[0] for c in c13],
        "c13_end": [c[1] for c in c13],
        "c25_start": [c[0] for c in c25],
        "c25_end": [c[1] for c in c25],
    }
    return pa.Table.from_pydict(data, schema=FRAME_SCHEMA)


def store_versions() -> dict[str, str | None]:
    return {table: store.current_version(table) for table in TABLES}


class Sources:
    """The registered tables of one run, under fixed names (kpi_policies, kpi_cases …) so that the
    compiled SQL of a given context can be reused. A DuckDB connection is the run's own; the Spark
    session is shared, so a Spark run holds the session's lock until close() drops its views."""

    def __init__(self, con, *, versions: dict[str, str | None], cases: pa.Table):
        self.con = con
        self.versions = dict(versions)
        self.names: list[str] = []
        self._lock = backends.run_lock(con)
        self._lock.acquire()
        self.store = {}
        for table in TABLES:
            version = self.versions.get(table)
            name = self._name(table)
            if version:
                path = store.parquet_glob(table, version)
                if not store.version_dir(table, version).exists():
                    raise MissingVersion(table, version)
                self.store[table] = backends.read_parquet(con, name, path, SCHEMAS[table])
            else:
                self.store[table] = backends.register_arrow(con, name, SCHEMAS[table].empty_table())
        self.cases = backends.register_arrow(con, self._name("cases"), cases)

    def _name(self, what: str) -> str:
        name = f"kpi_{what}"
        if name not in self.names:
            self.names.append(name)
        return name

    def __enter__(self) -> "Sources":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def tables(self, ctx: Context) -> Tables:
        frames = backends.register_arrow(self.con, self._name("frames"), frames_table(ctx))
        return Tables(
            policies=self.store["policies"],
            premiums=self.store["premiums"],
            surrenders=self.store["surrenders"],
            claims=self.store["claims"],
            cases=self.cases,
            frames=frames,
        )

    def batch_ids(self) -> list[int]:
        """The import batches behind the rows of the store versions read."""
        import ibis

        parts = [self.store[t].select("_batch") for t in TABLES]
        expr = ibis.union(*parts, distinct=True).order_by("_batch")
        return [int(v) for v in backends.fetch(self.con, expr).column("_batch").to_pylist()]

    def close(self) -> None:
        try:
            if backends.is_spark(self.con):
                for name in self.names:
                    self.con._session.catalog.dropTempView(name)
        finally:
            self.names = []
            self._lock.release()


class MissingVersion(Exception):
    def __init__(self, table: str, version: str):
        super().__init__(f"{table} {version}")
        self.table = table
        self.version = version
