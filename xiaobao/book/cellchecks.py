"""Checks on whole columns of raw CSV cells, on the bytes of Arrow string arrays with numpy.

The bulk pass (xiaobao.book.bulk) asks these before its SQL: they are the checks a regex per cell
would make slowly. Each one may flag more than it must (a flagged row is parsed in Python, which
decides), never less: a row it passes must be one the Python parser passes unchanged.
"""

import datetime as dt

import numpy as np
import pyarrow as pa

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int32)
ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
# Lead bytes of the UTF-8 forms of every non-ASCII character str.strip() removes (U+0085, U+00A0,
# U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), and of their neighbours.
SPACE_LEADS = np.array([0xC2, 0xE1, 0xE2, 0xE3], dtype=np.uint8)
_SPACE_LEAD = np.zeros(256, dtype=bool)  # byte → is one of SPACE_LEADS (a lookup, not np.isin)
_SPACE_LEAD[SPACE_LEADS] = True
_SPACE_LEAD_3 = np.zeros(256, dtype=bool)  # the lead bytes of three-byte spaces
_SPACE_LEAD_3[SPACE_LEADS[1:]] = True


def _parts(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets of every cell plus the end, the UTF-8 bytes) of a string array."""
    if array.type != pa.string():
        array = array.cast(pa.string())
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int32)[array.offset : array.offset + len(array) + 1].astype(
        np.int64
    )
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets, data


def _rows_of(offsets: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return np.searchsorted(offsets, positions, side="right") - 1


def dirty(array: pa.Array) -> np.ndarray:
    """Cells that may start or end with whitespace (as str.strip() sees it), or hold NUL or U+FFFD."""
    offsets, data = _parts(array)
    starts, ends = offsets[:-1], offsets[1:]
    if not len(data):
        return np.zeros(len(starts), dtype=bool)
    size = ends - starts
    # The bytes at the ends of each cell (clipped reads of an empty cell are masked by `size`).
    first = data.take(starts, mode="clip")
    flagged = (first < 0x21) | _SPACE_LEAD[first]
    flagged |= data.take(ends - 1, mode="clip") < 0x21
    flagged |= (size >= 2) & (data.take(ends - 2, mode="clip") == 0xC2)
    flagged |= (size >= 3) & _SPACE_LEAD_3[data.take(ends - 3, mode="clip")]
    flagged &= size > 0
    # NUL and U+FFFD (EF BF BD) anywhere: one pass finds whether either lead byte occurs at all
    # (EF leads only U+F000–U+FFFF, rare in Chinese text), the exact search runs only then.
    # Only the bytes of these cells: a sliced array's buffer holds others.
    base = int(offsets[0])
    cells = data[base : int(offsets[-1])]
    if ((cells == 0) | (cells == 0xEF)).any():
        marks = np.flatnonzero(cells == 0)
        if len(cells) >= 3:
            ef = np.flatnonzero((cells[:-2] == 0xEF) & (cells[1:-1] == 0xBF) & (cells[2:] == 0xBD))
            marks = np.concatenate([marks, ef])
        if len(marks):
            flagged[_rows_of(offsets, marks + base)] = True
    return flagged


def empty(array: pa.Array) -> np.ndarray:
    offsets, _ = _parts(array)
    return offsets[1:] == offsets[:-1]


def has_space(array: pa.Array) -> np.ndarray:
    """Cells that may contain whitespace anywhere (a name then needs normalising in Python)."""
    offsets, data = _parts(array)
    suspicious = (data < 0x21) | np.isin(data, SPACE_LEADS)
    if not suspicious.any():
        return np.zeros(len(offsets) - 1, dtype=bool)
    flagged = np.zeros(len(offsets) - 1, dtype=bool)
    flagged[_rows_of(offsets, np.flatnonzero(suspicious))] = True
    return flagged


def id_no_valid(array: pa.Array, today: dt.date) -> np.ndarray:
    """Cells that are a valid 居民身份证号 exactly as written (GB 11643: 17 digits and a check
    character, uppercase X; a birth date from 1900 to today)."""
    offsets, data = _parts(array)
    starts = offsets[:-1]
    valid = (offsets[1:] - starts) == 18
    rows = np.flatnonzero(valid)
    if not len(rows):
        return valid
    m = data[starts[rows, None] + np.arange(18)].astype(np.int32)
    digits = m[:, :17] - 48
    ok = np.all(digits.astype(np.uint32) <= 9, axis=1) & (m[:, 0] != 48)
    ok &= ((m[:, 17] >= 48) & (m[:, 17] <= 57)) | (m[:, 17] == 88)
    year = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    limit = DAYS[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    ok &= month_ok & (day >= 1) & (day <= limit)
    stamp = year * 10000 + month * 100 + day
    ok &= (year >= 1900) & (stamp <= today.year * 10000 + today.month * 100 + today.day)
    # Digits outside 0–9 make a meaningless sum, but those rows are already refused above.
    check = ID_CHECK[(digits @ ID_WEIGHTS) % 11]
    ok &= check == m[:, 17]
    valid[rows] = ok
    return valid
