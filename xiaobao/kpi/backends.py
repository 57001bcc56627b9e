"""The engines the KPI expressions run on: DuckDB in-process (default) or Apache Spark (local).

XIAOBAO_ANALYTICS_BACKEND=duckdb|spark chooses. The same Ibis expressions run on both; the parity
test proves they give the same figures. Arrow goes in and comes out directly (never through pandas):
in-memory tables are registered from Arrow and results are fetched as Arrow, which keeps decimals
exact and nulls intact on both engines.
"""

import glob
import os
import threading

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BACKENDS = ("duckdb", "spark")

_spark_lock = threading.Lock()
_spark_run_lock = threading.RLock()
_spark_con = None


def backend_name(name: str | None = None) -> str:
    name = name or getattr(
        settings, "XIAOBAO_ANALYTICS_BACKEND", os.environ.get("XIAOBAO_ANALYTICS_BACKEND", "duckdb")
    )
    if name not in BACKENDS:
        raise ImproperlyConfigured(f"XIAOBAO_ANALYTICS_BACKEND: 应为 duckdb 或 spark, 实际为 {name!r}")
    return name


def connect(name: str | None = None):
    """A fresh DuckDB connection per run (cheap, in-process), or the one shared local Spark session."""
    name = backend_name(name)
    if name == "duckdb":
        return ibis.duckdb.connect()
    return spark_connection()


def spark_session():
    """Local Spark: one core, one shuffle partition, no UI, bound to the loopback interface, so it
    needs no network and starts in seconds. Requires the optional extra xiaobao[spark]."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ImproperlyConfigured(
            "XIAOBAO_ANALYTICS_BACKEND=spark 需要安装 xiaobao[spark] (pyspark<4.1)"
        ) from None
    session = (
        SparkSession.builder.master("local[1]")
        .appName("xiaobao-kpi")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        # A KPI set is one wide plan (about thirty stages) over modest data. In local mode every
        # broadcast is a job of its own and every job costs more than the data it moves, so: plan once
        # (no adaptive re-planning), no broadcasts (one job, shuffles within it), no whole-stage code
        # generation (its compile time dominates such plans), and a JVM tuned for start-up.
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.autoBroadcastJoinThreshold", "-1")
        .config("spark.driver.extraJavaOptions", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1")
        .config("spark.sql.session.timeZone", settings.TIME_ZONE)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_connection():
    global _spark_con
    with _spark_lock:
        if _spark_con is None:
            _spark_con = ibis.pyspark.connect(spark_session())
        return _spark_con


def is_spark(con) -> bool:
    return con.name == "pyspark"


def run_lock(con):
    """One KPI run at a time on the shared Spark session (its views have fixed names); DuckDB
    connections are per run and need none."""
    return _spark_run_lock if is_spark(con) else _NoLock()


class _NoLock:
    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


def _table(name: str, schema: pa.Schema):
    """An Ibis table of a known schema, by name: no catalog round trip on either engine (on Spark
    each lookup costs a noticeable fraction of a second)."""
    return ibis.table(ibis.Schema.from_pyarrow(schema), name=name)


def register_arrow(con, name: str, data: pa.Table):
    """An Arrow table as a named table of the connection (a DuckDB view of the Arrow data; a Spark
    temporary view of a DataFrame built from Arrow)."""
    if is_spark(con):
        con._session.createDataFrame(data).createOrReplaceTempView(name)
    else:
        con.con.register(name, data)
    return _table(name, data.schema)


def read_parquet(con, name: str, path: str, schema: pa.Schema):
    """A Parquet glob as a named table. The schema is given, so neither engine infers it; columns of
    the schema the files lack (a store version older than the column) read as NULL on both."""
    if is_spark(con):
        from ibis.backends.pyspark.datatypes import PySparkSchema

        # Spark reads a column of the given schema that a file lacks as null.
        spark_schema = PySparkSchema.from_ibis(ibis.Schema.from_pyarrow(schema))
        con._session.read.schema(spark_schema).parquet(path).createOrReplaceTempView(name)
    else:
        from xiaobao.book.staging import duck_type

        quoted = path.replace("'", "''")
        present = _file_columns(path)
        columns = ", ".join(
            f'"{f.name}"'
            if present is None or f.name in present
            else f'NULL::{duck_type(f.type)} AS "{f.name}"'
            for f in schema
        )
        con.con.execute(
            f"CREATE OR REPLACE TEMP VIEW \"{name}\" AS SELECT {columns} FROM read_parquet('{quoted}')"
        )
    return _table(name, schema)


def _file_columns(path: str) -> set[str] | None:
    """The columns every file of a glob has (their footers only); None when the glob matches nothing."""
    present = None
    for part in sorted(glob.glob(path)):
        names = set(pq.read_schema(part).names)
        present = names if present is None else present & names
    return present


def fetch(con, expr) -> pa.Table:
    """Run an expression and return Arrow."""
    return run_sql(con, con.compile(expr))


def run_sql(con, sql: str) -> pa.Table:
    if is_spark(con):
        return con._session.sql(sql).toArrow()
    return con.con.sql(sql).to_arrow_table()
