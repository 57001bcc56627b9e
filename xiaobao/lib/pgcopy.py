"""Rows → PostgreSQL's COPY text format, a column at a time.

psycopg's `Copy.write_row()` formats every value of every row on its own: it looks up a dumper per
value (for an int, a Python call that picks int2/int4/int8 by size) and JSON goes through
json.dumps per row. An import's chunk repeats most of its values (a file's categories, statuses,
dates, clock rules, even its descriptions and extra attributes), and the columns a caller does not
set hold the same default in every row. So here:

- each column is formatted through a memo: a value met again in the chunk costs one dict lookup,
  run by map() in C;
- the columns with one value for every row are formatted once, as the line's tail;
- a line is one `"\\t".join`, the chunk one `"\\n".join`, sent with one `Copy.write()`.

Measured on 5,000 case-like rows of 26 values plus 17 defaults: 0.56 CPU s per 100,000 rows sent,
against 1.20 with write_row().

The text format (PostgreSQL, "COPY … File Formats"): columns separated by tab, NULL as `\\N`,
backslash, newline, carriage return and tab escaped with a backslash. Values are written the way
the server's input functions read them: ISO 8601 dates and times (with their UTC offset), `t`/`f`,
decimal integers, JSON text.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any

from django.db import models

NULL = "\\N"
ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _text(value: Any) -> str:
    text = str(value)
    # str.translate() looks up every character of a non-ASCII text in the table (3 µs for a
    # 90-character description); four scans for the characters that need it cost 0.1 µs.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(ESCAPES)
    return text


def _boolean(value: Any) -> str:
    return "t" if value else "f"


def _iso(value: Any) -> str:
    return value.isoformat()


class _Memo(dict):
    """value → its COPY text, for one column of one chunk."""

    __slots__ = ("format",)

    def __init__(self, format: Callable[[Any], str]) -> None:
        super().__init__()
        self.format = format

    def __missing__(self, value: Any) -> str:
        text = self[value] = _cell(self.format, value)
        return text


def _cell(format: Callable[[Any], str], value: Any) -> str:
    return NULL if value is None else format(value)


class _JsonColumn:
    """A JSON column's values (dicts, lists, scalars) as JSON text; a flat dict of texts met again
    costs one lookup by its items. Only texts (and nulls): as dict keys 1, 1.0 and True are one key,
    though their JSON differs."""

    def __init__(self, encoder: type[json.JSONEncoder] | None) -> None:
        self.encoder = encoder

    def __call__(self, value: Any) -> str:
        return _text(json.dumps(value, ensure_ascii=False, cls=self.encoder))

    def column(self, values: Iterable[Any]) -> list[str]:
        memo: dict[tuple, str] = {}
        out = []
        for value in values:
            if value is None:
                text = NULL  # SQL NULL, as Django stores None in a nullable JSONField
            elif value.__class__ is dict and all(v is None or v.__class__ is str for v in value.values()):
                key = tuple(value.items())
                text = memo.get(key)
                if text is None:
                    text = memo[key] = self(value)
            else:
                text = self(value)
            out.append(text)
        return out


def formatter(field: models.Field, *, json_text: bool = False) -> Callable[[Any], str] | _JsonColumn:
    """How one model field's values are written in COPY text. json_text: the caller gives a JSON
    column's values as JSON text already."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        return _text if json_text else _JsonColumn(getattr(field, "encoder", None))
    if kind == "BooleanField":
        return _boolean
    if kind in ("DateTimeField", "DateField", "TimeField"):
        return _iso
    if kind.endswith(("IntegerField", "AutoField")) or kind in (
        "ForeignKey",
        "OneToOneField",
        "DecimalField",
    ):
        return str
    return _text


class CopyText:
    """The COPY text of rows holding values for `fields` (in that order), each line followed by
    `constant`: (field, value) of further columns that hold the same value in every row."""

    def __init__(
        self,
        fields: Sequence[models.Field],
        constant: Sequence[tuple[models.Field, Any]] = (),
        *,
        json_text: frozenset[str] = frozenset(),
    ) -> None:
        self.columns = [formatter(f, json_text=f.attname in json_text) for f in fields]
        # A column whose every value differs (the key, the primary key) gains nothing from a memo.
        self.distinct = [f.primary_key or f.unique for f in fields]
        tail = [_cell(formatter(field), value) for field, value in constant]
        self.tail = "\t".join(tail) if tail else None

    def __call__(self, rows: Sequence[Sequence[Any]]) -> bytes:
        if not rows:
            return b""
        columns: list[Iterable[str]] = []
        for format, distinct, values in zip(
            self.columns, self.distinct, zip(*rows, strict=True), strict=True
        ):
            if isinstance(format, _JsonColumn):
                columns.append(format.column(values))
            elif distinct:
                columns.append([_cell(format, value) for value in values])
            else:
                columns.append(map(_Memo(format).__getitem__, values))
        if self.tail is not None:
            columns.append(repeat(self.tail, len(rows)))
        return ("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n").encode()
