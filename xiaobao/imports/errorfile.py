"""The error file (错误明细): every rejected row, as it was, with its row number, column and reason.

It is an .xlsx whatever the input was: codes such as 0101 stay text (a CSV reopened in Excel would
lose the leading zero), and the user fixes the rows in Excel and imports the file again. The three
error columns come first so the reason is what one reads; the importer ignores them on re-import.
"""

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

ERROR_COLUMNS = ("错误行号", "错误列", "错误原因")
# openpyxl writes a string starting with "=" as a formula; an imported value must stay a value.
_FORMULA_RE = re.compile(r"^[=+\-@]")


class ErrorFileWriter:
    """Streams rows into a write-only workbook, created on the first rejected row only."""

    def __init__(self, path: Path, header: Sequence[Any]) -> None:
        self.path = path
        self.header = list(header)
        self.rows = 0
        self._workbook: Workbook | None = None
        self._sheet: Any = None
        self._stale: set[int] = set()

    def _open(self) -> None:
        from xiaobao.imports.engine import META_HEADERS, normalize_header

        # A file that is itself an error file (fixed and imported again) has the three error
        # columns of the previous round: they are dropped, not copied next to the new reasons.
        self._stale = {i for i, cell in enumerate(self.header) if normalize_header(cell) in META_HEADERS}
        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet("错误明细")
        self._sheet.append([*ERROR_COLUMNS, *self._cells(self.header)])

    def _cells(self, cells: Sequence[Any]) -> list[Any]:
        return [self._cell(v) for i, v in enumerate(cells) if i not in self._stale]

    def _cell(self, value: Any) -> Any:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if _FORMULA_RE.match(value):
                cell = WriteOnlyCell(self._sheet, value=value)
                cell.data_type = "s"
                return cell
        return value

    def write(self, row: int, columns: str, reasons: str, cells: Sequence[Any]) -> None:
        if self._workbook is None:
            self._open()
        self._sheet.append([row, columns, self._cell(reasons), *self._cells(cells)])
        self.rows += 1

    def close(self) -> str:
        """Save and return the path, or "" when nothing was rejected."""
        if self._workbook is None:
            return ""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._workbook.save(self.path)
        self._workbook = None
        return str(self.path)

    def discard(self) -> None:
        self._workbook = None
