"""The common spellings of dates, counts and amounts, parsed a whole column at a time with numpy.

The bulk pass's SQL (xiaobao.book.bulk) parses a cell with a regular expression and a cast: safe for
every spelling the framework accepts, and most of the query's time. Almost every cell of a
core-system extract is written one way (`2024-03-05`, `12`, `35880.00`), so these functions read
that one way on the bytes of the Arrow array and give the value, or NULL for any other cell, which
the SQL then parses as before (it reads `coalesce(fast value, its own parse)`).

Each recognises only a subset of what the SQL and Python parsers accept, giving the same value
(tests compare with xiaobao.lib.parsing): a cell recognised here is one they pass unchanged.
"""

import numpy as np
import pyarrow as pa

from xiaobao.book.cellchecks import DAYS, _parts

ZERO, NINE, DASH, DOT = 48, 57, 45, 46


class _Cells:
    """A string array's cells grouped by byte length, as (rows, matrix of their bytes)."""

    def __init__(self, array: pa.Array) -> None:
        offsets, self.data = _parts(array)
        self.starts = offsets[:-1]
        self.length = offsets[1:] - self.starts
        self.present = np.flatnonzero(np.bincount(self.length)) if len(self.length) else np.zeros(0, int)

    def of_size(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows whose cell has exactly `size` bytes, those cells as a (rows, size) uint8 matrix)."""
        if size not in self.present:
            return np.zeros(0, dtype=np.int64), np.zeros((0, size), dtype=np.uint8)
        rows = np.flatnonzero(self.length == size)
        if len(rows) == len(self.length):  # every cell this long: the bytes are the matrix
            first = int(self.starts[0]) if len(rows) else 0
            return rows, self.data[first : first + len(rows) * size].reshape(len(rows), size)
        return rows, self.data[self.starts[rows, None] + np.arange(size)]


def _digits(m: np.ndarray) -> np.ndarray:
    return np.all((m >= ZERO) & (m <= NINE), axis=1)


def _number(m: np.ndarray) -> np.ndarray:
    """The decimal value of rows of digit bytes."""
    value = np.zeros(len(m), dtype=np.int64)
    for column in range(m.shape[1]):
        value = value * 10 + (m[:, column].astype(np.int64) - ZERO)
    return value


def _array(values: np.ndarray, ok: np.ndarray, type_: pa.DataType) -> pa.Array:
    return pa.array(values, mask=~ok).cast(type_) if len(values) else pa.nulls(0, type_)


def dates(array: pa.Array) -> pa.Array:
    """date32: `YYYY-MM-DD` with a year from 1900 to 2099 and a real day; NULL otherwise."""
    n = len(array)
    days = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    rows, m = _Cells(array).of_size(10)
    if len(rows):
        digit = m[:, [0, 1, 2, 3, 5, 6, 8, 9]]
        good = _digits(digit) & (m[:, 4] == DASH) & (m[:, 7] == DASH)
        d = digit.astype(np.int32) - ZERO
        year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
        month = d[:, 4] * 10 + d[:, 5]
        day = d[:, 6] * 10 + d[:, 7]
        good &= (year >= 1900) & (year <= 2099) & (month >= 1) & (month <= 12)
        leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
        limit = DAYS[np.where(good, month, 0)] + ((month == 2) & leap)
        good &= (day >= 1) & (day <= limit)
        # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)
        y = year - (month <= 2)
        era = y // 400
        of_era = y - era * 400
        of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
        of_cycle = of_era * 365 + of_era // 4 - of_era // 100 + of_year
        days[rows] = np.where(good, era * 146097 + of_cycle - 719468, 0)
        ok[rows] = good
    return _array(days.astype(np.int32), ok, pa.date32())


def integers(array: pa.Array) -> pa.Array:
    """int32: 1 to 9 digits, no sign; NULL otherwise."""
    n = len(array)
    values = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    cells = _Cells(array)
    for size in range(1, 10):
        rows, m = cells.of_size(size)
        if len(rows):
            good = _digits(m)
            values[rows] = np.where(good, _number(m), 0)
            ok[rows] = good
    return _array(values.astype(np.int32), ok, pa.int32())


def amounts(array: pa.Array, integer_digits: int = 13) -> pa.Array:
    """decimal128(18, 2): 1 to `integer_digits` digits, then nothing or `.` and one or two digits;
    no sign, no separators. NULL otherwise."""
    n = len(array)
    cents_all = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    cells = _Cells(array)
    for size in range(1, integer_digits + 4):
        rows, m = cells.of_size(size)
        if not len(rows):
            continue
        # where the point is: two places, one place, or none
        places = np.zeros(len(rows), dtype=np.int64)
        if size >= 3:
            places[m[:, size - 3] == DOT] = 2
        if size >= 2:
            places[(m[:, size - 2] == DOT) & (places == 0)] = 1
        for count in (0, 1, 2):
            whole = size - count - (1 if count else 0)
            chosen = np.flatnonzero(places == count)
            if not len(chosen) or not 1 <= whole <= integer_digits:
                continue
            digits = np.delete(m[chosen], whole, axis=1) if count else m[chosen]
            good = _digits(digits)
            cents = _number(digits) * (10 ** (2 - count))
            cents_all[rows[chosen]] = np.where(good, cents, 0)
            ok[rows[chosen]] = good
    # decimal128 holds the unscaled value (cents) as a 128-bit little-endian integer.
    words = np.zeros((n, 2), dtype=np.int64)
    words[:, 0] = cents_all
    validity = pa.py_buffer(np.packbits(ok, bitorder="little").tobytes())
    return pa.Array.from_buffers(pa.decimal128(18, 2), n, [validity, pa.py_buffer(words.tobytes())])
