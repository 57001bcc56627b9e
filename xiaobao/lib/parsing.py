"""Field parsers for imported cells: text, integers, amounts, booleans, dates, date-times and enums.

Each parser takes one cell as a CSV reader (str) or openpyxl (str, int, float, bool, date, datetime)
hands it over and returns the Python value, or raises ValueError with a Chinese reason a user can act
on. They are pure and cheap: an import calls them millions of times, so the common spelling of each
type is tried first with a C-level conversion and the regexes only see the rest.

Empty cells never reach a parser: whether a blank is allowed is the column's business, not the type's.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Excel counts days from 1899-12-31 and wrongly believes 1900 was a leap year (serial 60 is the
# non-existent 1900-02-29), so serials from 61 on are days since 1899-12-30.
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
# Integers above 2**53 cannot survive a trip through a float, which is how Excel stores numbers.
FLOAT_EXACT_LIMIT = 2**53
# No single premium, benefit or refund comes near a trillion yuan; a larger figure is a shifted column.
AMOUNT_LIMIT = Decimal(10) ** 13
FEN = Decimal("0.01")

_DATE_SEP_RE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_DATE_CN_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_DATE_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")
# Serials of five digits are 1927-05-18 to 2173-10-14; fewer digits are a year or a slip, not a date.
_SERIAL_RE = re.compile(r"\d{5}(?:\.\d+)?")
SERIAL_PLAUSIBLE = (10_000, 100_000)
_AMOUNT_RE = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_INT_RE = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?")

DATE_HINT = "应为 2024-03-05、2024/3/5、20240305、2024年3月5日 或 Excel 日期序号"
DATETIME_HINT = "应为日期 (如 2024-03-05) 加可选的时间 HH:MM[:SS]"


def shown(value: Any, limit: int = 40) -> str:
    """The value as quoted in an error message, cut so a runaway cell cannot flood a report."""
    text = str(value)
    return f"“{text[:limit]}…”" if len(text) > limit else f"“{text}”"


# ---------------------------------------------------------------- text


def parse_text(value: Any) -> str:
    if value.__class__ is str:
        text = value.strip()
        if "\ufffd" in text:
            # U+FFFD is what a decoder leaves behind when it met bytes it could not read: the value
            # was damaged before it reached us, and storing it would make the damage permanent.
            raise ValueError(f"含有乱码字符 (�): {shown(text)}, 请检查文件编码")
        if "\x00" in text:
            # A NUL byte is never text (PostgreSQL refuses it outright): a binary or damaged file.
            raise ValueError("含有空字符 (NUL), 文件可能已损坏")
        return text
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            if abs(value) >= FLOAT_EXACT_LIMIT:
                raise ValueError(
                    f"数字 {value:.0f} 位数过多, Excel 已丢失精度: 请将该列设为文本格式后重新导出"
                )
            # Codes typed into Excel as numbers come back as 1101.0; the user wrote 1101.
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def text_parser(*, max_length: int | None = None) -> Callable[[Any], str]:
    """parse_text with a length limit, so an over-long value is a row error, not a database error."""
    if max_length is None:
        return parse_text

    def parse(value: Any) -> str:
        text = parse_text(value)
        if len(text) > max_length:
            raise ValueError(f"长度 {len(text)} 超过上限 {max_length} 个字符")
        return text

    return parse


# ---------------------------------------------------------------- numbers


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"应为整数, 实际为 {shown(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"应为整数, 实际为 {value}")
        return int(value)
    text = str(value).strip()
    if not _INT_RE.fullmatch(text):
        raise ValueError(f"应为整数, 实际为 {shown(text)}")
    return int(text.split(".", 1)[0].replace(",", ""))


def parse_amount(value: Any) -> Decimal:
    """Yuan as Decimal with two places: `12,345.60`, `12345.6`, `¥12,345.60`, `12345.6元` or an Excel number."""
    if isinstance(value, bool):
        raise ValueError(f"应为金额, 实际为 {shown(value)}")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        # repr() is the shortest decimal that round-trips, so 12345.6 stays 12345.6 and is never
        # widened into the binary float's 12345.600000000000364...
        amount = Decimal(repr(value))
        if amount.is_finite() and abs(amount) < AMOUNT_LIMIT:
            rounded = amount.quantize(FEN)
            # Excel arithmetic leaves crumbs (0.1 + 0.2 = 0.30000000000000004); a real third
            # decimal place is an error like any other.
            if abs(rounded - amount) < Decimal("1e-9"):
                amount = rounded
    else:
        text = str(value).strip().lstrip("¥￥").removesuffix("元").strip()
        if not _AMOUNT_RE.fullmatch(text):
            raise ValueError(f"应为金额 (如 12,345.60), 实际为 {shown(value)}")
        try:
            amount = Decimal(text.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex admits only what Decimal reads
            raise ValueError(f"应为金额 (如 12,345.60), 实际为 {shown(value)}") from None
    if not amount.is_finite():
        raise ValueError(f"应为金额, 实际为 {shown(value)}")
    # The bound first: quantize() of a huge number overflows the decimal context.
    if abs(amount) >= AMOUNT_LIMIT:
        raise ValueError(f"金额 {shown(value)} 过大, 可能是列错位")
    if amount != amount.quantize(FEN):
        raise ValueError(f"金额最多精确到分 (两位小数), 实际为 {shown(value)}")
    return amount.quantize(FEN)


# ---------------------------------------------------------------- booleans

TRUE_WORDS = frozenset({"是", "y", "yes", "true", "1", "t"})
FALSE_WORDS = frozenset({"否", "n", "no", "false", "0", "f"})


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = str(value).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"应为 是/否 (Y/N, true/false, 1/0), 实际为 {shown(value)}")


# ---------------------------------------------------------------- dates and times


def excel_serial_to_datetime(serial: float) -> dt.datetime:
    """The naive date-time an Excel serial number stands for (1900 date system)."""
    if not 1 <= serial <= EXCEL_MAX_SERIAL:
        raise ValueError(f"Excel 日期序号 {serial:g} 超出范围 (1–{EXCEL_MAX_SERIAL})")
    if 60 <= serial < 61:
        raise ValueError("Excel 日期序号 60 是不存在的 1900-02-29")
    if serial < 60:
        serial += 1  # before Excel's phantom leap day the count is one day behind
    # Rounded to the second: Excel stores times as fractions of a day, so 14:30 arrives as 14:29:59.99...
    return EXCEL_EPOCH + dt.timedelta(seconds=round(serial * 86400))


def _make_date(year: str, month: str, day: str, original: Any) -> dt.date:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"日期 {shown(original)} 不存在") from None


def _split_date_time(text: str) -> tuple[str, str]:
    """`2024-03-05 14:30`, `2024-03-05T14:30`, `2024年3月5日 14:30` → date part, time part."""
    for sep in (" ", "T"):
        if sep in text:
            date_part, time_part = text.split(sep, 1)
            return date_part.strip(), time_part.strip()
    return text, ""


def _date_from_text(text: str, original: Any) -> dt.date:
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text)  # the common case, at C speed
        except ValueError:
            pass
    if match := _DATE_SEP_RE.fullmatch(text):
        return _make_date(match[1], match[3], match[4], original)
    if match := _DATE_CN_RE.fullmatch(text):
        return _make_date(match[1], match[2], match[3], original)
    if match := _DATE_COMPACT_RE.fullmatch(text):
        return _make_date(match[1], match[2], match[3], original)
    if _SERIAL_RE.fullmatch(text):
        # A General-formatted date copied out of Excel: 45356 is 2024-03-05.
        return excel_serial_to_datetime(float(text)).date()
    raise ValueError(f"无法识别的日期 {shown(original)}: {DATE_HINT}")


def _time_from_text(text: str, original: Any) -> dt.time:
    match = _TIME_RE.fullmatch(text)
    if not match:
        raise ValueError(f"无法识别的时间 {shown(original)}: {DATETIME_HINT}")
    try:
        return dt.time(int(match[1]), int(match[2]), int(match[3] or 0), int((match[4] or "0").ljust(6, "0")))
    except ValueError:
        raise ValueError(f"时间 {shown(original)} 不存在") from None


def _with_formats(text: str, formats: Sequence[str], original: Any) -> dt.datetime:
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"日期 {shown(original)} 不符合导入配置的格式 {' 或 '.join(formats)}")


def _number_to_datetime(value: int | float) -> dt.datetime:
    # An 8-digit number is 20240305 typed into a numeric cell, never a serial (that would be year 57000+).
    if isinstance(value, int) and 10_000_000 <= value <= 99_999_999:
        text = str(value)
        return dt.datetime.combine(_make_date(text[:4], text[4:6], text[6:], value), dt.time())
    if not SERIAL_PLAUSIBLE[0] <= value < SERIAL_PLAUSIBLE[1]:
        raise ValueError(f"数字 {shown(value)} 不是日期: {DATE_HINT}")
    return excel_serial_to_datetime(value)


def parse_date(value: Any, *, formats: Sequence[str] = ()) -> dt.date:
    """A calendar date. A date-time is accepted and its date kept: exports often write `2024-03-05 00:00:00`.

    `formats` (strptime patterns from an import profile) replace the built-in spellings for text, so
    `3/5/2024` is read the way the profile says and never guessed.
    """
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"应为日期, 实际为 {shown(value)}")
    if isinstance(value, int | float):
        return _number_to_datetime(value).date()
    text = str(value).strip()
    if formats:
        return _with_formats(text, formats, value).date()
    date_part, time_part = _split_date_time(text)
    day = _date_from_text(date_part, value)
    if time_part:
        _time_from_text(time_part, value)  # validated, then dropped: the column holds a date
    return day


def parse_datetime(value: Any, *, formats: Sequence[str] = (), tz: dt.tzinfo = SHANGHAI) -> dt.datetime:
    """An aware date-time in `tz` (Asia/Shanghai). A date alone means midnight; naive values are local time."""
    if isinstance(value, dt.datetime):
        return value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=tz)
    if isinstance(value, bool):
        raise ValueError(f"应为日期时间, 实际为 {shown(value)}")
    if isinstance(value, int | float):
        return _number_to_datetime(value).replace(tzinfo=tz)
    text = str(value).strip()
    if formats:
        moment = _with_formats(text, formats, value)
        return moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)
    date_part, time_part = _split_date_time(text)
    day = _date_from_text(date_part, value)
    clock = _time_from_text(time_part, value) if time_part else dt.time()
    return dt.datetime.combine(day, clock, tzinfo=tz)


# ---------------------------------------------------------------- enums


def enum_parser(
    choices: Iterable[Any], *, aliases: Mapping[str, str] | None = None, name: str = ""
) -> Callable[[Any], str]:
    """A parser for one of `choices` (a TextChoices class or plain values), by value, label or alias.

    Matching ignores case and surrounding blanks; the canonical value is returned. `aliases` maps
    extra spellings (`银保` ← `bancassurance`) onto values.
    """
    lookup: dict[str, str] = {}
    values: list[str] = []
    for choice in choices:
        value = str(getattr(choice, "value", choice))
        values.append(value)
        lookup[value.casefold()] = value
        label = getattr(choice, "label", None)
        if label is not None:
            lookup.setdefault(str(label).strip().casefold(), value)
    for alias, value in (aliases or {}).items():
        if value not in values:
            raise ValueError(f"别名 {alias!r} 指向未知的取值 {value!r}")
        lookup[alias.strip().casefold()] = value
    expected = "、".join(values)
    what = name or "取值"

    def parse(cell: Any) -> str:
        found = lookup.get(parse_text(cell).casefold())
        if found is None:
            raise ValueError(f"{shown(cell)} 不是有效的{what}, 应为: {expected}")
        return found

    return parse
