"""Read an uploaded table (.csv or .xlsx) as a stream of (row number, cells).

Row numbers are what a user sees in Excel: the first record of the file is row 1, whatever lies
above the header. A CSV record with a line break inside a quoted field is still one row.

CSV encodings are decided, not guessed: the whole file must decode strictly as UTF-8 (with or
without BOM) or, failing that, as GB18030 (a superset of GBK and GB2312, what Chinese Excel writes).
A file that is almost entirely valid UTF-8 with a few broken bytes is damaged, not GBK, and is
refused rather than read as GBK garbage.
"""

import codecs
import csv
import hashlib
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from xiaobao.imports.spec import ImportRefused

CHUNK = 1 << 20
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (OLE2 compound file)
# Narratives (诉求内容) can be long; the csv module's default 128 KiB per field is too tight.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 24))
# A few broken bytes among this many well-formed UTF-8 characters mean damage, not another encoding.
DAMAGED_UTF8_RATIO = 20

Row = tuple[int, Sequence[Any]]


@dataclass
class Table:
    rows: Iterator[Row]
    format: str  # "csv" or "xlsx"
    encoding: str = ""
    sheet: str = ""
    delimiter: str = ","


def file_sha256(path: Path) -> str:
    """The file's SHA-256, recorded on the batch; ImportRefused when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        raise ImportRefused(f"找不到文件 {path}") from None
    except IsADirectoryError:
        raise ImportRefused(f"{path} 是文件夹, 不是文件") from None
    except OSError as exc:
        raise ImportRefused(f"无法读取文件 {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


def _first_bad_line(path: Path, encoding: str) -> tuple[int, str] | None:
    """Stream-decode the whole file strictly; the line and bytes of the first undecodable sequence."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 1
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return lines + chunk.count(b"\n", 0, exc.start), chunk[exc.start : exc.start + 4].hex(" ")
            if not chunk:
                return None
            lines += chunk.count(b"\n")


def _utf8_damage(path: Path) -> tuple[int, int]:
    """(replacement characters, non-ASCII characters) when the file is read as UTF-8 with errors replaced."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    broken = non_ascii = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            broken += text.count("\ufffd")
            non_ascii += len(text) - len(text.encode("ascii", "ignore"))
            if not chunk:
                return broken, non_ascii


def _likely_encoding(path: Path) -> str:
    """charset-normalizer's opinion, only to make the refusal message useful."""
    try:
        from charset_normalizer import from_path

        best = from_path(path, steps=3, chunk_size=4096).best()
    except Exception:  # an opinion, never a reason to fail differently
        return ""
    return f" (看起来像 {best.encoding})" if best is not None else ""


def detect_csv_encoding(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    else:
        candidates = ["utf-8", "gb18030"]
    first = candidates[0]
    bad = _first_bad_line(path, first)
    if bad is None:
        return first
    if first == "utf-8":
        broken, non_ascii = _utf8_damage(path)
        if broken * DAMAGED_UTF8_RATIO < non_ascii:
            raise ImportRefused(
                f"文件是 UTF-8 编码, 但第 {bad[0]} 行起有 {broken} 处损坏的字节 ({bad[1]}): "
                "文件可能被截断或损坏, 请重新导出"
            )
        if _first_bad_line(path, "gb18030") is None:
            return "gb18030"
    raise ImportRefused(
        f"无法识别文件编码: 既不是 UTF-8 也不是 GB18030/GBK{_likely_encoding(path)}, "
        f"第 {bad[0]} 行无法解码; 请在 Excel 中另存为 “CSV UTF-8” 后重新导入"
    )


def _sniff_delimiter(path: Path, encoding: str) -> str:
    """Comma, unless the first lines clearly use tabs (Excel's “Unicode text” export)."""
    with path.open(encoding=encoding, newline="") as fh:
        sample = fh.read(1 << 16)
    lines = sample.splitlines()[:20]
    tabs = sum(line.count("\t") for line in lines)
    commas = sum(line.count(",") for line in lines)
    return "\t" if tabs > commas else ","


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[Row]:
    with path.open(encoding=encoding, newline="") as fh:
        # strict: a stray quote would otherwise swallow the following rows into one field, silently.
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        rowno = 0
        try:
            for rowno, cells in enumerate(reader, start=1):  # noqa: B007 - rowno is read after the loop
                yield rowno, cells
        except csv.Error as exc:
            raise ImportRefused(f"第 {rowno + 1} 行不是有效的 CSV: {exc}") from None


def _xlsx_rows(workbook: Any, worksheet: Any, fh: BinaryIO) -> Iterator[Row]:
    try:
        # read_only sheets fill gaps with empty rows, so the count matches Excel's row numbers.
        yield from enumerate(worksheet.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()
        fh.close()


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl

    # A file object, not the path: openpyxl refuses names not ending in .xlsx, and an upload may be
    # saved under any name.
    fh = path.open("rb")
    try:
        workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        fh.close()
        raise ImportRefused(f"无法打开 Excel 文件: {exc}") from None
    if sheet and sheet not in workbook.sheetnames:
        names = "、".join(workbook.sheetnames)
        workbook.close()
        fh.close()
        raise ImportRefused(f"工作簿中没有名为 “{sheet}” 的工作表 (现有: {names})")
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    return Table(rows=_xlsx_rows(workbook, worksheet, fh), format="xlsx", sheet=worksheet.title)


@contextmanager
def open_table(path: Path, *, sheet: str | None = None) -> Iterator[Table]:
    """The file's rows, streamed; ImportRefused when it cannot be read at all."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(8)
    except FileNotFoundError:
        raise ImportRefused(f"找不到文件 {path}") from None
    except OSError as exc:
        raise ImportRefused(f"无法读取文件 {path}: {exc.strerror or exc}") from None
    if not magic:
        raise ImportRefused("文件为空")
    if magic == XLS_MAGIC:
        raise ImportRefused("不支持旧版 Excel (.xls) 文件: 请在 Excel 中另存为 .xlsx 或 CSV 后重新导入")
    if magic.startswith(XLSX_MAGIC):
        table = _open_xlsx(path, sheet)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        raise ImportRefused("文件扩展名是 .xlsx, 但内容不是 Excel 工作簿")
    else:
        encoding = detect_csv_encoding(path)
        delimiter = _sniff_delimiter(path, encoding)
        table = Table(
            rows=_csv_rows(path, encoding, delimiter), format="csv", encoding=encoding, delimiter=delimiter
        )
    try:
        yield table
    finally:
        rows = table.rows
        if hasattr(rows, "close"):
            rows.close()  # closes the file or the workbook even when the caller stopped early
