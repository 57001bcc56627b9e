"""Field parsers (xiaobao.lib.parsing): every spelling data-formats.md allows, and nothing else."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaobao.lib.mojibake import looks_mojibake
from xiaobao.lib.parsing import (
    SHANGHAI,
    enum_parser,
    excel_serial_to_datetime,
    parse_amount,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_int,
    parse_text,
    text_parser,
)
from xiaobao.org.models import UnitLevel

MARCH_5 = dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-05",
        "2024/3/5",
        "2024/03/05",
        "2024.3.5",
        "20240305",
        "2024年3月5日",
        "2024年03月05日",
        " 2024-03-05 ",
    ],
)
def test_date_spellings(value):
    assert parse_date(value) == MARCH_5


@pytest.mark.parametrize(
    "value",
    [45356, 45356.0, "45356", dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 5, 23, 59), MARCH_5, 20240305],
)
def test_dates_from_excel_cells(value):
    assert parse_date(value) == MARCH_5


def test_a_date_column_accepts_a_midnight_timestamp():
    assert parse_date("2024-03-05 00:00:00") == MARCH_5


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-02-30", "不存在"),
        ("2024-13-01", "不存在"),
        ("5/3/2024", "无法识别"),  # day/month or month/day: only a profile may say which
        ("2024-3/5", "无法识别"),
        ("2024", "无法识别"),  # a year is not a serial number
        ("abc", "无法识别"),
        (2024, "不是日期"),
        (True, "应为日期"),
        ("2024-03-05 25:00", "不存在"),
    ],
)
def test_bad_dates_say_why(value, reason):
    with pytest.raises(ValueError, match=reason):
        parse_date(value)


def test_excel_serials_around_the_phantom_leap_day():
    assert excel_serial_to_datetime(59).date() == dt.date(1900, 2, 28)
    assert excel_serial_to_datetime(61).date() == dt.date(1900, 3, 1)
    assert excel_serial_to_datetime(1).date() == dt.date(1900, 1, 1)
    with pytest.raises(ValueError, match="1900-02-29"):
        excel_serial_to_datetime(60)
    # 14:30 arrives as a fraction of a day that is a hair short of it.
    assert excel_serial_to_datetime(45356 + 14.5 / 24 - 1e-10) == dt.datetime(2024, 3, 5, 14, 30)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05 14:30", dt.datetime(2024, 3, 5, 14, 30, tzinfo=SHANGHAI)),
        ("2024/3/5 14:30:15", dt.datetime(2024, 3, 5, 14, 30, 15, tzinfo=SHANGHAI)),
        ("2024-03-05T09:05", dt.datetime(2024, 3, 5, 9, 5, tzinfo=SHANGHAI)),
        ("2024年3月5日 8:00", dt.datetime(2024, 3, 5, 8, 0, tzinfo=SHANGHAI)),
        ("20240305", dt.datetime(2024, 3, 5, tzinfo=SHANGHAI)),
        (dt.datetime(2024, 3, 5, 14, 30), dt.datetime(2024, 3, 5, 14, 30, tzinfo=SHANGHAI)),
        (45356.5, dt.datetime(2024, 3, 5, 12, 0, tzinfo=SHANGHAI)),
    ],
)
def test_datetimes_are_shanghai_time(value, expected):
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed.utcoffset() == dt.timedelta(hours=8)


def test_an_aware_datetime_is_converted_not_relabelled():
    utc = dt.datetime(2024, 3, 5, 0, 0, tzinfo=dt.UTC)
    assert parse_datetime(utc) == dt.datetime(2024, 3, 5, 8, 0, tzinfo=SHANGHAI)
    assert parse_date(dt.datetime(2024, 3, 4, 20, 0, tzinfo=dt.UTC)) == MARCH_5


def test_profile_formats_replace_the_built_in_spellings():
    assert parse_date("3/5/2024", formats=["%m/%d/%Y"]) == MARCH_5
    assert parse_datetime("3/5/2024 14:30", formats=["%m/%d/%Y %H:%M"]).hour == 14
    with pytest.raises(ValueError, match="导入配置的格式"):
        parse_date("2024-03-05", formats=["%m/%d/%Y"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12,345.60", Decimal("12345.60")),
        ("12345.6", Decimal("12345.60")),
        ("¥1,000", Decimal("1000.00")),
        ("88元", Decimal("88.00")),
        ("-5.5", Decimal("-5.50")),
        ("12.300", Decimal("12.30")),
        (12345.6, Decimal("12345.60")),
        (0.1 + 0.2, Decimal("0.30")),
        (100, Decimal("100.00")),
    ],
)
def test_amounts_are_decimal_yuan(value, expected):
    parsed = parse_amount(value)
    assert parsed == expected and isinstance(parsed, Decimal)
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "value", ["12.345", "1,23", "12,34.5", "NaN", "1e5", "Infinity", "abc", "", 12.345, True, "1" * 14]
)
def test_bad_amounts(value):
    with pytest.raises(ValueError):
        parse_amount(value)


@pytest.mark.parametrize(("value", "expected"), [("12", 12), ("1,200", 1200), ("7.0", 7), (7.0, 7), (-3, -3)])
def test_ints(value, expected):
    assert parse_int(value) == expected


@pytest.mark.parametrize("value", ["7.5", 7.5, "七", "", True])
def test_bad_ints(value):
    with pytest.raises(ValueError, match="整数"):
        parse_int(value)


@pytest.mark.parametrize("value", ["是", "Y", "y", "yes", "TRUE", "true", "1", 1, True])
def test_true(value):
    assert parse_bool(value) is True


@pytest.mark.parametrize("value", ["否", "N", "no", "False", "0", 0, False])
def test_false(value):
    assert parse_bool(value) is False


def test_bad_bool():
    with pytest.raises(ValueError, match="是/否"):
        parse_bool("也许")


def test_enum_by_value_label_and_alias():
    parse = enum_parser(UnitLevel, aliases={"Branch": "分公司"}, name="机构层级")
    assert parse(" 分公司 ") == "分公司"
    assert parse("branch") == "分公司"
    with pytest.raises(ValueError, match="不是有效的机构层级.*总公司、分公司"):
        parse("科室")


def test_enum_aliases_must_point_at_a_value():
    with pytest.raises(ValueError):
        enum_parser(["投诉"], aliases={"Complaint": "投拆"})


def test_text():
    assert parse_text("  甲  ") == "甲"
    assert parse_text(1101.0) == "1101"
    assert parse_text(12) == "12"
    with pytest.raises(ValueError, match="精度"):
        parse_text(3.7021119900101e17)  # an ID number Excel turned into a float
    with pytest.raises(ValueError, match="乱码"):
        parse_text("张\ufffd")
    with pytest.raises(ValueError, match="NUL"):
        parse_text("a\x00b")
    with pytest.raises(ValueError, match="超过上限 3"):
        text_parser(max_length=3)("abcd")


def test_mojibake_heuristic():
    for garbled in ["鏈烘瀯浠ｇ爜", "æœºæž„", "»ú¹¹´úÂë", "锟斤拷", "\ufffd"]:
        assert looks_mojibake(garbled), garbled
    for clean in ["机构代码", "王喆", "Müller", "Café", "São Paulo", "ABC", "部门", "12,345.60"]:
        assert not looks_mojibake(clean), clean


# ---------------------------------------------------------------- properties


@given(st.dates(min_value=dt.date(1928, 1, 1), max_value=dt.date(2173, 1, 1)))
def test_every_date_spelling_round_trips(day):
    serial = (day - dt.date(1899, 12, 30)).days
    spellings = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        day.strftime("%Y%m%d"),
        f"{day.year}年{day.month}月{day.day}日",
        str(serial),
        serial,
        f"{day.isoformat()} 13:45:10",
    ]
    for spelling in spellings:
        assert parse_date(spelling) == day, spelling


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_every_amount_round_trips(amount):
    assert parse_amount(f"{amount:,.2f}") == amount
    assert parse_amount(f"{amount:.2f}") == amount
    assert parse_amount(float(amount)) == amount


@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.datetimes(), st.dates()))
def test_parsers_fail_only_with_a_value_error(value):
    parsers = [
        parse_date,
        parse_datetime,
        parse_amount,
        parse_int,
        parse_bool,
        parse_text,
        enum_parser(UnitLevel),
    ]
    for parser in parsers:
        try:
            parser(value)
        except ValueError as exc:
            assert str(exc)  # every refusal says why


def test_a_template_renders_every_row_alike_whether_it_remembers_or_not():
    """_Template remembers renderings by the cells it reads, and stops for a template over a
    unique column: both paths give the text rendered afresh, row by row."""
    from xiaobao.imports.engine import _Template
    from xiaobao.imports.mapping import template_parse

    positions = {"no": 0, "kind": 1, "extra": 2}
    unique = _Template((template_parse("X-{no}"),), positions)
    repeating = _Template((template_parse("{kind}[ / {extra}]"), template_parse("(无)")), positions)
    rows = [[str(i), ("A", "B", " ")[i % 3], ("", "e", None)[i % 3] if i % 5 else "z"] for i in range(5000)]
    for row in rows:
        assert unique(row) == f"X-{row[0]}" == unique._render(row)
        expected = repeating._render(row)
        assert repeating(row) == expected
        kind, extra = row[1].strip(), (row[2] or "").strip()
        assert expected == ((kind + (f" / {extra}" if extra else "")) if kind else "(无)")
    assert unique.memo is None, "a unique column is not remembered past the trial"
    assert repeating.memo is not None and len(repeating.memo) < 20
