"""China's working-day calendar (工作日), with 调休 make-up days and administrator overrides.

The official schedule comes from chinese-calendar. A year it does not know is never silently
treated as plain weekdays: every answer carries `provisional=True`, so a deadline computed from it
is shown as provisional until an administrator enters that year's schedule.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import chinese_calendar


@dataclass(frozen=True)
class WorkCalendar:
    # date → True (working day) / False (day off), entered by an administrator; wins over the library.
    overrides: Mapping[dt.date, bool] = field(default_factory=dict)
    # Years whose full schedule an administrator has entered, so they are no longer provisional.
    confirmed_years: frozenset[int] = frozenset()
    # Answers already given (an import asks about the same few hundred days again and again).
    _answers: dict[dt.date, tuple[bool, bool]] = field(default_factory=dict, compare=False, repr=False)

    def known(self, day: dt.date) -> bool:
        if day.year in self.confirmed_years:
            return True
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: dt.date) -> tuple[bool, bool]:
        """(is it a working day, is the answer provisional)."""
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._ask(day)
        return answer

    def _ask(self, day: dt.date) -> tuple[bool, bool]:
        if day in self.overrides:
            return self.overrides[day], False
        try:
            return chinese_calendar.is_workday(day), False
        except NotImplementedError:
            return day.weekday() < 5, day.year not in self.confirmed_years


@dataclass(frozen=True)
class DueDate:
    date: dt.date
    provisional: bool
    rolled: bool  # the last day fell on a day off and moved to the next working day


def roll_to_workday(cal: WorkCalendar, day: dt.date) -> DueDate:
    """民法典 Art. 203: a last day that is not a working day moves to the next working day."""
    provisional = False
    rolled = False
    while True:
        working, unsure = cal.is_workday(day)
        provisional |= unsure
        if working:
            return DueDate(day, provisional, rolled)
        day += dt.timedelta(days=1)
        rolled = True


def add_days(cal: WorkCalendar, start: dt.date, days: int) -> DueDate:
    """A period of N (calendar) days: the start day is not counted (Art. 201), the end rolls (Art. 203)."""
    return roll_to_workday(cal, start + dt.timedelta(days=days))


def add_workdays(cal: WorkCalendar, start: dt.date, days: int) -> DueDate:
    """The N-th working day after `start` (the start day itself is not counted)."""
    provisional = False
    day = start
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        working, unsure = cal.is_workday(day)
        provisional |= unsure
        counted += working
    return DueDate(day, provisional, False)


def same_workday(cal: WorkCalendar, received: dt.date, after_hours: bool) -> DueDate:
    """ "The same working day": the day of receipt if it is a working day and the ticket came in
    office hours; otherwise the next working day."""
    working, unsure = cal.is_workday(received)
    if working and not after_hours:
        return DueDate(received, unsure, False)
    nxt = add_workdays(cal, received, 1)
    return DueDate(nxt.date, nxt.provisional or unsure, True)


def workdays_between(cal: WorkCalendar, start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end`."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        count += cal.is_workday(day)[0]
    return count
