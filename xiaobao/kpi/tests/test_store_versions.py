"""A store version written before a column was added to the schema (surrenders.contact_address) is
read by the KPI engine as if the column were there and NULL: the figures are the same, and a
drill-down still lists its rows."""

import pytest

from xiaobao.book import store
from xiaobao.book.tests.helpers import make_legacy
from xiaobao.kpi import engine
from xiaobao.kpi.periods import parse_period
from xiaobao.kpi.tests.book import D, policy, surrender, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(tree):
    write(
        "policies",
        [policy(f"P{i}", effective_date=D(2023, 1 + i, 1), org_code="C1") for i in range(6)],
    )
    write(
        "surrenders",
        [
            surrender("P0", D(2024, 3, 4), full_refund=True, contact_address_token="T-ADDR"),
            surrender("P1", D(2024, 5, 6), contact_address_masked="山东省济南市****"),
            surrender("P2", D(2024, 8, 9), amount="9000.00"),
        ],
    )


def test_the_figures_of_an_old_version_are_those_of_the_same_rows_with_the_column(book, tree):
    period = parse_period("2024")
    with_column = engine.to_json(engine.compute(period=period, unit=tree["C1"]).results)

    make_legacy("surrenders")
    assert store.missing_columns("surrenders") != []
    without = engine.to_json(engine.compute(period=period, unit=tree["C1"]).results)

    assert without == with_column
    surrenders = [k for k, v in without.items() if k.startswith("surrender") and v.get("value") is not None]
    assert surrenders, "the book's surrender figures were computed"


def test_the_engine_reads_the_missing_column_as_null(book):
    from xiaobao.kpi import backends
    from xiaobao.kpi.sources import CASE_SCHEMA, Sources

    make_legacy("surrenders")
    con = backends.connect("duckdb")
    sources = Sources(
        con, versions={"surrenders": store.current_version("surrenders")}, cases=CASE_SCHEMA.empty_table()
    )
    try:
        table = sources.store["surrenders"]
        rows = backends.fetch(
            con,
            table.select("policy_no", "contact_address_token", "contact_address_masked").order_by(
                "policy_no"
            ),
        ).to_pylist()
    finally:
        sources.close()
        con.disconnect()
    assert rows == [
        {"policy_no": f"P{i}", "contact_address_token": None, "contact_address_masked": None}
        for i in range(3)
    ]
