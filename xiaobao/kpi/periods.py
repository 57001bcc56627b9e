"""统计期间 (period): a year, a quarter or a month, and the frames a figure is evaluated over.

A period's evaluation date is its last day (metrics.md). A monthly breakdown evaluates every month
as a period of its own, so the figure of "2024-07" in a `--by month` run is the figure of the
period 2024-07. The dashboard also uses a window of consecutive months, which is not a period a
user types but is evaluated the same way, month by month.
"""

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class PeriodError(ValueError):
    pass


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Period:
    code: str  # "2024", "2024Q3", "2024-07", or "2024-01..2024-12" for a window
    start: dt.date
    end: dt.date  # the evaluation date

    @property
    def day_before(self) -> dt.date:
        return self.start - dt.timedelta(days=1)

    def months(self) -> list["Period"]:
        out = []
        year, month = self.start.year, self.start.month
        while dt.date(year, month, 1) <= self.end:
            out.append(month_period(year, month))
            year, month = add_months(year, month, 1)
        return out

    def cohort(self, lag_months: int) -> tuple[dt.date, dt.date]:
        """The persistency cohort: policies effective in the 12 months that end `lag_months` months
        before the evaluation date (13 → the 13-month ratio). Months are calendar months, so the
        cohort of 2024-12-31 for 13 months is 2022-12-01 .. 2023-11-30."""
        year, month = add_months(self.end.year, self.end.month, -lag_months)
        first_year, first_month = add_months(year, month, -11)
        return dt.date(first_year, first_month, 1), month_end(year, month)

    def __str__(self) -> str:
        return self.code


def month_period(year: int, month: int) -> Period:
    return Period(f"{year:04d}-{month:02d}", dt.date(year, month, 1), month_end(year, month))


def parse_period(text: str) -> Period:
    """2024 | 2024Q3 | 2024-07 → Period; anything else is a PeriodError with a Chinese message."""
    text = (text or "").strip()
    if found := _YEAR.match(text):
        year = int(found.group(1))
        return Period(text, dt.date(year, 1, 1), dt.date(year, 12, 31))
    if found := _QUARTER.match(text):
        year, quarter = int(found.group(1)), int(found.group(2))
        first = 3 * quarter - 2
        return Period(f"{year}Q{quarter}", dt.date(year, first, 1), month_end(year, first + 2))
    if found := _MONTH.match(text):
        year, month = int(found.group(1)), int(found.group(2))
        if 1 <= month <= 12:
            return month_period(year, month)
    raise PeriodError(_("期间格式应为 2024、2024Q3 或 2024-07, 实际为 “%(p)s”") % {"p": text})


def window(last: Period, months: int) -> Period:
    """`months` consecutive months ending with the month of `last` (the dashboard's trend)."""
    year, month = add_months(last.end.year, last.end.month, -(months - 1))
    first = month_period(year, month)
    return Period(f"{first.code}..{last.end:%Y-%m}", first.start, last.end)


def containing(period: Period) -> list[str]:
    """The period codes a hand-entered value may have been entered for, most specific first: a month
    falls back to its quarter and then its year; a quarter to its year."""
    codes = [period.code]
    if _MONTH.match(period.code):
        quarter = (period.start.month - 1) // 3 + 1
        codes += [f"{period.start.year}Q{quarter}", str(period.start.year)]
    elif _QUARTER.match(period.code):
        codes.append(str(period.start.year))
    return codes
