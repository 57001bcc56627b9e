"""The vocabulary of an import: a format's declaration (ImportSpec, Column) and what flows through
the engine (Record, Change, Issue) and out of it when a row or a file is refused (RowError,
ImportRefused).

A format is data, not code: its columns, their Chinese aliases, their parsers and its natural key.
Everything generic (finding the header, parsing, grouping rows into records, diffing, reporting)
is done once by the engine for every format.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from xiaobao.lib.parsing import parse_text

Key = tuple[Any, ...]


class ImportRefused(Exception):
    """The whole file is refused (unreadable, no header, required columns missing, invalid profile).

    The message is Chinese and addressed to the person who exported the file.
    """


class RowError(Exception):
    """One row is refused: raised by Importer.validate_row with the column at fault and why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class Column:
    """One column of a format.

    name: the canonical English name, which is also the key of the cleaned row dict.
    aliases: Chinese (and other) headers that mean this column; the first is its display label.
    parser: cell → value, raising ValueError with a Chinese reason (see xiaobao.lib.parsing).
    multi: the column holds several values (a tuple), split within a cell on `separator` and
        collected across rows that share the key.
    """

    name: str
    aliases: Sequence[str] = ()
    parser: Callable[[Any], Any] = parse_text
    required: bool = False
    multi: bool = False
    separator: str = ";"

    @property
    def label(self) -> str:
        return self.aliases[0] if self.aliases else self.name


@dataclass(frozen=True)
class ImportSpec:
    """A canonical import format (data-formats.md): its kind, natural key and columns.

    alternate_keys lists other column tuples a profile may choose as the key (e.g. a hotline's own
    ticket number); the importer's existing() must then look records up by that key.
    extra: a profile may keep further columns of an export as extra attributes; they reach the
    importer as text values named "extra.<attribute>", collected across a record's rows.
    """

    kind: str
    key: tuple[str, ...]
    columns: Sequence[Column]
    label: str = ""
    alternate_keys: tuple[tuple[str, ...], ...] = ()
    extra: bool = False
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {column.name: column for column in self.columns}
        if len(by_name) != len(self.columns):
            raise ValueError(f"{self.kind}: 列名重复")
        for key in (self.key, *self.alternate_keys):
            unknown = [name for name in key if name not in by_name]
            if unknown:
                raise ValueError(f"{self.kind}: 键中的列 {unknown} 未定义")
        object.__setattr__(self, "by_name", by_name)

    def label_of(self, name: str) -> str:
        column = self.by_name.get(name)
        return column.label if column is not None else name


@dataclass(frozen=True, slots=True)
class Issue:
    """Why a row was refused: its row number as Excel shows it, the column (canonical name) and reason."""

    row: int
    column: str
    reason: str


class Record:
    """The rows of one file that share a key, merged into one set of values.

    `values` holds only the columns the file supplies, so an update never blanks a column the file
    did not mention. `raws` keeps each row's original cells for the error file.
    """

    __slots__ = ("key", "values", "rows", "raws", "issues")

    def __init__(self, key: Key | None, values: dict[str, Any], row: int, raw: Sequence[Any]) -> None:
        self.key = key
        self.values = values
        self.rows = [row]
        self.raws = [raw]
        self.issues: list[Issue] = []

    @property
    def rejected(self) -> bool:
        return bool(self.issues)

    @property
    def first_row(self) -> int:
        return self.rows[0]

    def reject(self, column: str, reason: str, *, row: int | None = None) -> None:
        """Refuse the whole record (every one of its rows), blaming `column` on `row` (default: its first)."""
        self.issues.append(Issue(self.first_row if row is None else row, column, reason))

    def __repr__(self) -> str:
        return f"<Record {self.key} rows={self.rows} issues={len(self.issues)}>"


@dataclass(slots=True)
class Change:
    """An accepted record that differs from what is stored: `changes` maps column → (old, new)."""

    record: Record
    before: dict[str, Any]
    changes: dict[str, tuple[Any, Any]]
