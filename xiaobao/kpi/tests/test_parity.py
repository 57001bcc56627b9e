"""The whole KPI set, with and without breakdowns, gives the same figures on DuckDB and on Spark.

The demo book (xiaobao.book.demo at scale 0.02: some 3,200 policies with their premiums, surrenders
and claims; kpi/tests/synthetic.py if the demo builder is absent) and 400 cases naming its policies.
Both engines read the same store versions and the same case export; every numerator,
denominator and value of every group must agree: decimals exactly, floats within 1e-9. One Spark
session for the module. The test skips only when pyspark is not installed; it is in the `test`
extra, so CI runs it.
"""

import datetime as dt
import math
import random
import types
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from xiaobao.book import store
from xiaobao.kpi import backends, engine
from xiaobao.kpi.expressions import TOTAL_KEY, Context
from xiaobao.kpi.periods import parse_period
from xiaobao.kpi.registry import COMPUTED_IDS
from xiaobao.kpi.sources import Sources, export_cases, store_versions
from xiaobao.kpi.tests.cases_gen import make_cases
from xiaobao.kpi.tests.synthetic import generate

pytest.importorskip("pyspark")

# Every kind of key: none, frames (month), a policy attribute, a base's own column.
GROUPINGS = [None, "month", "channel", "policy_year"]


def write_book(today: dt.date) -> None:
    """The demo book at a small scale, or the synthetic one when there is no demo builder."""
    try:
        from xiaobao.book import demo
    except ImportError:
        for name, table in generate(3000, seed=7, end=str(today)).items():
            store.write_table(name, table)
        return
    demo.build(types.SimpleNamespace(seed=7, rng=random.Random(7), today=today, scale=0.02))


@pytest.fixture(scope="module")
def spark():
    return backends.spark_connection()


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return Decimal(a) == Decimal(b)  # exact: yuan to the fen
    return a == b


@pytest.mark.django_db
def test_the_whole_kpi_set_is_the_same_on_duckdb_and_spark(tree, spark):
    from xiaobao.customers.services import customer_create
    from xiaobao.demo.builders import id_number

    today = dt.date(2024, 11, 20)
    write_book(today)
    rng = random.Random(5)
    customers = [
        customer_create(actor=None, unit=tree["C1"], name=f"客户{i}", id_no=id_number(rng, "110105"))
        for i in range(6)
    ]
    policy_nos = pq.read_table(store.version_dir("policies"), columns=["policy_no"]).column(0).to_pylist()
    make_cases([tree["C1"], tree["C1KF"], tree["C2"]], policy_nos[:300], customers)
    period = parse_period("2024")
    params = engine.current_parameters(None, period, today)
    codes = None  # the whole company: every policy of the book
    export = export_cases(unit=None, period=period, today=today, cutoff=timezone.now())
    versions = store_versions()

    duck_con = backends.connect("duckdb")
    duck, sparks = (
        Sources(duck_con, versions=versions, cases=export.table),
        Sources(spark, versions=versions, cases=export.table),
    )
    failures, checked = [], 0
    try:
        for by in GROUPINGS:
            ctx = Context(period, today, codes, by, params)
            a, b = engine.evaluate(duck, ctx), engine.evaluate(sparks, ctx)
            assert a.keys() == b.keys(), by
            assert a, by
            for key in a:
                assert a[key].keys() == b[key].keys()
                for column in a[key]:
                    checked += 1
                    if not same(a[key][column], b[key][column]):
                        failures.append(f"by={by} [{key}] {column}: {a[key][column]!r} ≠ {b[key][column]!r}")
            if by is None:
                totals = a[TOTAL_KEY]
                # The data really exercises the figures (none is trivially empty).
                for kpi in COMPUTED_IDS:
                    assert totals[f"{kpi}__value"] is not None, kpi
    finally:
        sparks.close()
        duck.close()
        duck_con.disconnect()
    assert failures == []
    assert checked > 1000


def test_a_store_version_older_than_a_column_reads_the_same_on_both_engines(spark, tmp_path):
    """Surrenders written before contact_address existed: both engines read the whole schema, the
    missing columns NULL, every other value as written."""
    from xiaobao.book.schema import SCHEMAS

    schema = SCHEMAS["surrenders"]
    data = generate(300, seed=3, end="2024-11-20")["surrenders"]
    old = data.drop_columns([name for name in data.schema.names if name.startswith("contact_address")])
    assert old.num_rows > 10 and "contact_address_token" not in old.schema.names
    pq.write_table(old, tmp_path / "part-0.parquet")
    glob = str(tmp_path / "*.parquet")

    duck_con = backends.connect("duckdb")
    try:
        read = {}
        for label, con in (("duckdb", duck_con), ("spark", spark)):
            backends.read_parquet(con, "old_surrenders", glob, schema)
            read[label] = backends.run_sql(
                con, "SELECT * FROM old_surrenders ORDER BY policy_no, surrender_date"
            )
    finally:
        duck_con.disconnect()
    for label, table in read.items():
        assert table.schema.names == schema.names, label
        for name in ("contact_address_enc", "contact_address_token", "contact_address_masked"):
            assert table.column(name).null_count == old.num_rows, (label, name)
    expected = old.sort_by([("policy_no", "ascending"), ("surrender_date", "ascending")])
    for name in old.schema.names:
        want = expected.column(name).to_pylist()
        for label, table in read.items():
            got = table.column(name).to_pylist()
            assert all(same(a, b) for a, b in zip(got, want, strict=True)), (label, name)
