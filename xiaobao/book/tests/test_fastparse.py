"""The numpy parsers of the common spellings against the framework's parsers: whatever they read,
the Python parser reads the same value; what they leave NULL the SQL parses as before."""

import datetime as dt
from decimal import Decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaobao.book import fastparse
from xiaobao.lib.parsing import parse_amount, parse_date, parse_int

DATE_CELLS = st.one_of(
    st.dates(dt.date(1890, 1, 1), dt.date(2110, 12, 31)).map(str),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.text(alphabet="0123456789-/ 年月日", max_size=12),
)
INT_CELLS = st.one_of(
    st.integers(-(10**10), 10**10).map(str), st.text(alphabet="0123456789-+., ", max_size=11)
)
AMOUNT_CELLS = st.one_of(
    st.decimals(min_value=-(10**14), max_value=10**14, places=2, allow_nan=False).map(str),
    st.from_regex(r"[0-9]{1,15}(\.[0-9]{0,3})?", fullmatch=True),
    st.text(alphabet="0123456789.,-¥元 e", max_size=18),
)


def _python(parser, cell):
    try:
        return parser(cell)
    except ValueError:
        return None


@settings(max_examples=300, deadline=None)
@given(st.lists(DATE_CELLS, min_size=1, max_size=30))
def test_dates_read_what_parse_date_reads(cells):
    for cell, value in zip(cells, fastparse.dates(pa.array(cells)).to_pylist(), strict=True):
        if value is not None:
            assert value == _python(parse_date, cell), cell


@settings(max_examples=300, deadline=None)
@given(st.lists(INT_CELLS, min_size=1, max_size=30))
def test_integers_read_what_parse_int_reads(cells):
    for cell, value in zip(cells, fastparse.integers(pa.array(cells)).to_pylist(), strict=True):
        if value is not None:
            assert value == _python(parse_int, cell), cell


@settings(max_examples=300, deadline=None)
@given(st.lists(AMOUNT_CELLS, min_size=1, max_size=30))
def test_amounts_read_what_parse_amount_reads(cells):
    for cell, value in zip(cells, fastparse.amounts(pa.array(cells)).to_pylist(), strict=True):
        if value is not None:
            assert value == _python(parse_amount, cell), cell


def test_the_common_spellings_are_read_and_the_others_left_to_sql():
    dates = fastparse.dates(
        pa.array(["2024-02-29", "2023-02-29", "1899-12-31", "2024-3-5", "", "2100-01-01"])
    )
    assert dates.to_pylist() == [dt.date(2024, 2, 29), None, None, None, None, None]
    ints = fastparse.integers(pa.array(["7", "007", "123456789", "1234567890", "-3", "+3", " 3", ""]))
    assert ints.to_pylist() == [7, 7, 123456789, None, None, None, None, None]
    amounts = fastparse.amounts(
        pa.array(
            [
                "35880.00",
                "0.5",
                "12",
                "1234567890123",
                "12345678901234",
                "1.234",
                "-1.00",
                "1,000.00",
                ".5",
                "",
            ]
        )
    )
    assert amounts.to_pylist() == [
        Decimal("35880.00"),
        Decimal("0.50"),
        Decimal("12.00"),
        Decimal("1234567890123.00"),
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    sliced = fastparse.dates(pa.array(["x", "2024-01-02", "2024-01-03"]).slice(1))
    assert sliced.to_pylist() == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]


def test_every_day_from_1900_to_2099_is_its_own_date():
    days = [
        dt.date(1900, 1, 1) + dt.timedelta(n) for n in range((dt.date(2100, 1, 1) - dt.date(1900, 1, 1)).days)
    ]
    assert fastparse.dates(pa.array([str(d) for d in days])).to_pylist() == days
