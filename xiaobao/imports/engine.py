"""The import engine: one streaming pass over a table, the same for every format.

An importer declares its format (ImportSpec) and supplies four hooks; the engine does the rest:

1. Find the header: the first row naming enough known columns. Rows above it are reported and
   skipped; a header missing a required column refuses the file, naming the columns.
2. Check a sample of every column for mojibake; a garbled column refuses the file.
3. Parse each row with its columns' parsers, then the importer's validate_row(). Rows are parsed a
   thousand at a time, a column at a time: each distinct text of a column is read once (parsers,
   value maps and templates are pure), with the same values and problems as row by row.
4. Group rows sharing the key into records: identical values merge, multi-valued columns are
   collected, disagreeing scalar values are a conflict (rejected, or resolved as the profile says).
5. Per chunk of records: existing() fetches what is stored for all keys at once, validate_records()
   does checks that need other records or the database, each record is classified as created,
   updated (with its old → new values) or unchanged, and apply() writes them in bulk.
6. Every rejected row goes to the error file and the report, with row number, column and reason.

The caller (services.import_run) owns the transaction, so "all good rows or, with --strict,
nothing" and --dry-run are one rollback decision made after the pass.
"""

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain, islice
from operator import itemgetter
from typing import Any, ClassVar

from xiaobao.imports.errorfile import ERROR_COLUMNS, ErrorFileWriter
from xiaobao.imports.mapping import Profile, TemplatePart, template_fields
from xiaobao.imports.readers import Row, Table
from xiaobao.imports.spec import Change, ImportRefused, ImportSpec, Issue, Key, Record, RowError
from xiaobao.lib.bulkgc import bulk_gc
from xiaobao.lib.dbthread import BackgroundWriter, InlineWriter
from xiaobao.lib.mojibake import looks_mojibake
from xiaobao.lib.parsing import parse_date, parse_datetime, parse_text, shown

HEADER_SCAN_ROWS = 30  # a preamble longer than this is not a preamble
MOJIBAKE_SAMPLE_ROWS = 2000
PARSE_BATCH = 1000  # rows parsed together, a column at a time
_FAILED = object()  # a cell that could not be read: its column stays out of the row's values
_TEXT_TYPES = frozenset({str, type(None)})  # cells of one type only, so equal keys mean equal cells
REPORT_LIMIT = 100  # issues and warnings listed in the summary; the error file has them all
OUTCOMES = ("created", "updated", "unchanged", "rejected")


def header_text(cell: Any) -> str:
    """A header cell as text; never raises, whatever the cell holds (a garbled header is reported later)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def normalize_header(cell: Any) -> str:
    """`机构代码 `, `Parent Code`, `parent_code` and `ＣＯＤＥ*` all meet on one spelling."""
    folded = unicodedata.normalize("NFKC", header_text(cell)).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "_-*\ufeff")


META_HEADERS = frozenset(normalize_header(name) for name in ERROR_COLUMNS)


def in_batches(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """Slices of `items` small enough for one `IN (...)` query on every database."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _blank(cells: Sequence[Any]) -> bool:
    for cell in cells:
        if cell.__class__ is str:
            if cell.strip():
                return False
        elif cell is not None:
            return False
    return True


def _same(old: Any, new: Any) -> bool:
    """Stored and imported values compare equal when they mean the same (None == "", list == tuple)."""
    if old == "":
        old = None
    if new == "":
        new = None
    # Lists are tuples here, so that a value equal by == is always the same (the engine's fast path).
    if isinstance(old, list):
        old = tuple(old)
    if isinstance(new, list):
        new = tuple(new)
    return old == new


def _fields(alternatives: tuple[tuple[TemplatePart, ...], ...]) -> list[str]:
    return [f for parts in alternatives for f in template_fields(parts)]


class Importer:
    """Base of every format's importer. Subclass, set `spec`, implement the hooks, @register it.

    Hooks, in the order the engine calls them (all run inside the import's transaction):
      validate_row(row)            one parsed row (dict by column name) → cleaned row, or RowError
      existing(keys)               {key: stored values by column name} for a chunk's keys, in bulk
      validate_records(...)        checks across records or against the database: record.reject()
      apply(created, updated)      write a chunk in bulk; never called with an empty plan. It may
                                   return a function that finishes the write (see `pipelined`)
      finish()                     after the last chunk's write, still inside the transaction
      report()                     extra facts for the batch summary (e.g. units it created)
    A profile's `options` reach the importer as self.options (names allowed by option_names).
    """

    spec: ClassVar[ImportSpec]
    # Records handed to existing()/validate_records()/apply() at a time. None: the whole file at
    # once, for formats whose rows refer to each other (a unit's parent may come later).
    chunk_size: ClassVar[int | None] = 5000
    # The profile `options` this importer understands; any other option refuses the import.
    option_names: ClassVar[frozenset[str]] = frozenset()
    # The batch being imported, set by services.import_run (None when the engine is run directly).
    batch: Any = None
    # True: the function apply() returns (the chunk's database writes, and then on_changes) runs on a
    # writer thread sharing the import's connection while the engine reads the next chunk
    # (lib.dbthread), and the engine waits for it before its next existing(). Only for an importer
    # whose validate_row() never touches the database and whose returned function changes nothing
    # validate_row() reads. Python work belongs in apply() itself: the threads share one Python lock.
    pipelined: ClassVar[bool] = False

    def __init__(self, *, key: tuple[str, ...] | None = None, options: dict[str, Any] | None = None) -> None:
        self.key = key or self.spec.key
        self.options = dict(options or {})
        unknown = sorted(set(self.options) - self.option_names)
        if unknown:
            allowed = "、".join(sorted(self.option_names)) or "无"
            raise ImportRefused(f"导入配置的 options 中有未知的设置 {', '.join(unknown)} (可用: {allowed})")

    def finish(self) -> None:
        """Called once every chunk has been written (not in a dry run), inside the import's
        transaction: work that belongs to the load as a whole (e.g. indexes built again)."""

    def report(self) -> dict[str, Any]:
        """What the importer adds to the batch summary (e.g. the units it created)."""
        return {}

    def validate_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return row

    def existing(self, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        raise NotImplementedError

    def validate_records(self, *, records: list[Record], existing: dict[Key, dict[str, Any]]) -> None:
        """`records` includes those already rejected (their values may be partial), so a record can
        be refused because one it depends on was."""

    def apply(self, *, created: list[Record], updated: list[Change]) -> Callable[[], None] | None:
        raise NotImplementedError


@dataclass
class RunResult:
    rows_read: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    records: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # canonical column → header in the file
    unknown_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    conflicts: int = 0

    def warn(self, message: str) -> None:
        if len(self.warnings) < REPORT_LIMIT:
            self.warnings.append(message)


class _ValueMap:
    """A profile's value mapping for one column: exact keys (casefolded) first, then `*` patterns
    in the profile's order (`"*"` alone: the default). Pattern verdicts are cached per value."""

    __slots__ = ("exact", "patterns", "cache")
    NO_MATCH = object()
    CACHE_LIMIT = 100_000

    def __init__(self, mapping: dict[str, str]) -> None:
        self.exact: dict[str, str] = {}
        self.patterns: list[tuple[re.Pattern[str], str]] = []
        for key, value in mapping.items():
            folded = key.strip().casefold()
            if "*" in folded:
                regex = ".*".join(re.escape(part) for part in folded.split("*"))
                self.patterns.append((re.compile(regex, re.DOTALL), value))
            else:
                self.exact[folded] = value
        self.cache: dict[str, Any] = {}

    def __call__(self, cell: Any) -> Any:
        text = parse_text(cell).casefold()
        found = self.exact.get(text)
        if found is not None:
            return found
        if not self.patterns:
            return cell
        found = self.cache.get(text)
        if found is None:
            found = next((value for regex, value in self.patterns if regex.fullmatch(text)), self.NO_MATCH)
            if len(self.cache) < self.CACHE_LIMIT:
                self.cache[text] = found
        return cell if found is self.NO_MATCH else found


def _cell_text(cells: Sequence[Any], index: int) -> str:
    if index >= len(cells):
        return ""
    cell = cells[index]
    if cell is None:
        return ""
    if cell.__class__ is str:
        return cell.strip()
    try:
        return parse_text(cell)
    except ValueError:
        return str(cell)


class _Template:
    """A profile template bound to the file's header: renders one row's cell for its column."""

    __slots__ = ("alternatives", "fields", "memo", "calls")
    # Templates over a few repeating columns (a description from type, coverage and keywords) render
    # the same text for most rows: it is remembered by the cells it reads. One that reads a unique
    # column (a case number) stops remembering after MEMO_TRIAL rows that mostly missed.
    MEMO_TRIAL = 2_000

    def __init__(self, alternatives: tuple[tuple[TemplatePart, ...], ...], positions: dict[str, int]) -> None:
        def bind(parts: tuple[TemplatePart, ...]) -> tuple[TemplatePart, ...]:
            return tuple(
                (
                    kind,
                    positions[normalize_header(value)]
                    if kind == "field"
                    else bind(value)
                    if kind == "group"
                    else value,
                )
                for kind, value in parts
            )

        self.alternatives = tuple(bind(parts) for parts in alternatives)

        def fields(parts: tuple[TemplatePart, ...]) -> list[int]:
            found = []
            for kind, value in parts:
                if kind == "field":
                    found.append(value)
                elif kind == "group":
                    found += fields(value)
            return found

        self.fields = tuple(sorted({i for parts in self.alternatives for i in fields(parts)}))
        self.memo: dict[tuple[Any, ...], str | None] | None = {}
        self.calls = 0

    def column(self, rows: list[Sequence[Any]], narrowest: int) -> list[str | None]:
        """The template rendered for each of `rows` (each at least `narrowest` wide): once per
        distinct combination of the cells it reads, when those are texts or blanks."""
        fields = self.fields
        if not fields or fields[-1] >= narrowest:
            return list(map(self, rows))
        keys = list(map(itemgetter(*fields), rows))  # a cell, or a tuple of cells for several
        cells = keys if len(fields) == 1 else chain.from_iterable(keys)
        if not set(map(type, cells)) <= _TEXT_TYPES:
            return list(map(self, rows))  # spreadsheet cells: 1, 1.0 and True are one key
        rendered = {key: self._render(row) for key, row in dict(zip(keys, rows, strict=True)).items()}
        return list(map(rendered.__getitem__, keys))

    def __call__(self, cells: Sequence[Any]) -> str | None:
        memo = self.memo
        if memo is None:
            return self._render(cells)
        self.calls += 1
        width = len(cells)
        key = tuple([cells[i] if i < width else None for i in self.fields])
        try:
            return memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable cell
            return self._render(cells)
        rendered = memo[key] = self._render(cells)
        if self.calls >= self.MEMO_TRIAL and 2 * len(memo) > self.calls or len(memo) >= MEMO_LIMIT:
            self.memo = None  # mostly misses: remembering costs more than it saves
        return rendered

    def _render(self, cells: Sequence[Any]) -> str | None:
        # The common cell (a str) is read inline, everything else by _cell_text.
        width = len(cells)
        for parts in self.alternatives:
            out: list[str] = []
            for kind, value in parts:
                if kind == "text":
                    out.append(value)
                    continue
                if kind == "field":
                    cell = cells[value] if value < width else None
                    text = cell.strip() if cell.__class__ is str else _cell_text(cells, value)
                    if not text:
                        break
                    out.append(text)
                    continue
                section = []
                for inner_kind, inner in value:
                    if inner_kind == "text":
                        section.append(inner)
                        continue
                    cell = cells[inner] if inner < width else None
                    text = cell.strip() if cell.__class__ is str else _cell_text(cells, inner)
                    if not text:
                        break
                    section.append(text)
                else:
                    out += section
            else:
                rendered = "".join(out).strip()
                if rendered:
                    return rendered
        return None


@dataclass(frozen=True, slots=True)
class _Step:
    """How one column is read from a raw row: precomputed once, used for every row."""

    name: str
    index: int  # position in the row; -1 for a profile constant or template
    parser: Callable[[Any], Any]
    required: bool
    values: _ValueMap | None  # profile value mapping
    separator: str | None  # multi-valued columns only
    constant: Any = None
    template: _Template | None = None
    collect: bool = False  # a text column whose rows' values are collected (joined at the end)
    # A profile constant is read once, not per row (a constant that cannot be read refuses the file).
    fixed: Any = None
    # Dates repeat across rows: their parsed values are remembered by cell text.
    memo: dict[str, Any] | None = None


MEMO_LIMIT = 100_000


def _read_cell(step: _Step, cell: Any) -> tuple[Any, str | None]:
    """One cell through one step: (its value or _FAILED, the problem or None). Pure in the cell."""
    if cell.__class__ is str:
        cell = cell.strip()
        if not cell:
            cell = None
    if cell is None:
        return (() if step.separator is not None or step.collect else None), (
            "不能为空" if step.required else None
        )
    mapping = step.values
    try:
        if step.separator is None:
            if mapping is not None:
                cell = mapping(cell)
            memo = step.memo
            if memo is not None and cell.__class__ is str:
                value = memo.get(cell)
                if value is None:
                    value = step.parser(cell)
                    if len(memo) < MEMO_LIMIT:
                        memo[cell] = value
            else:
                value = step.parser(cell)
            return ((value,) if step.collect else value), None
        parts = cell.split(step.separator) if isinstance(cell, str) else [cell]
        parsed = []
        for part in parts:
            part = part.strip() if isinstance(part, str) else part
            if part == "" or part is None:
                continue
            if mapping is not None:
                part = mapping(part)
            parsed.append(step.parser(part))
        return tuple(dict.fromkeys(parsed)), None
    except ValueError as exc:
        return _FAILED, str(exc)


class ImportEngine:
    def __init__(
        self,
        *,
        importer: Importer,
        profile: Profile,
        errors: ErrorFileWriter | None = None,
        on_changes: Callable[[list[Change]], None] | None = None,
        write: bool = True,
    ) -> None:
        """write=False (--dry-run): everything but apply() and on_changes, so nothing is written,
        not even by an importer that writes outside the database transaction."""
        self.write = write
        self.importer = importer
        self.spec = importer.spec
        self.profile = profile
        self.key = importer.key
        self.errors_out = errors
        self.on_changes = on_changes
        self.result = RunResult()
        self.header: list[Any] = []
        self.steps: list[_Step] = []
        self.multi = frozenset(c.name for c in self.spec.columns if c.multi)
        self.joined: dict[str, str] = {}  # collected text column → separator joining its values
        self._records: dict[Key, Record] = {}
        self._loose: list[Record] = []  # rejected rows without a readable key
        self._seen: dict[Key, int] | None = {}  # key → first row, across chunks
        self._writer: InlineWriter = InlineWriter()

    # ------------------------------------------------------------ header

    def _header_index(self) -> dict[str, str | None]:
        index: dict[str, str | None] = {}
        for column in self.spec.columns:
            for name in (column.name, *column.aliases):
                index[normalize_header(name)] = column.name
        for outside, target in self.profile.columns.items():
            index[normalize_header(outside)] = target
        # Headers read by templates or kept as extra attributes are known, not reported as unknown.
        used = [*self.profile.extra, *(f for alts in self.profile.templates.values() for f in _fields(alts))]
        for outside in used:
            index.setdefault(normalize_header(outside), None)
        return index

    def _find_header(self, rows: Iterator[Row], index: dict[str, str | None]) -> Sequence[Any]:
        targets = {t for t in index.values() if t is not None}
        needed = min(2, len(targets))
        skipped: list[int] = []
        garbled: list[str] = []
        for rowno, cells in rows:
            if _blank(cells):
                continue
            if sum(1 for c in cells if c is not None and index.get(normalize_header(c))) >= needed:
                self.result.header_row = rowno
                if skipped:
                    span = f"{skipped[0]}–{skipped[-1]}" if len(skipped) > 1 else f"{skipped[0]}"
                    self.result.warn(f"第 {span} 行不是表头, 已跳过")
                return cells
            skipped.append(rowno)
            garbled.extend(c for c in cells if isinstance(c, str) and looks_mojibake(c))
            if len(skipped) >= HEADER_SCAN_ROWS:
                break
        expected = ", ".join(f"{c.name} ({'/'.join(c.aliases)})" for c in self.spec.columns if c.required)
        if garbled:
            raise ImportRefused(
                f"未找到表头, 且文件内容疑似乱码 (例如 {shown(garbled[0])}): 请确认文件编码后重新导出"
            )
        if not skipped:
            raise ImportRefused("文件中没有数据")
        raise ImportRefused(
            f"未找到表头: 前 {len(skipped)} 行中没有一行包含至少 {needed} 个已知列名; 应包含: {expected}"
        )

    def _map_header(self, cells: Sequence[Any], index: dict[str, str | None]) -> None:
        positions: dict[str, int] = {}
        problems: list[str] = []
        for i, cell in enumerate(cells):
            norm = normalize_header(cell) if cell is not None else ""
            if not norm or norm in META_HEADERS:
                continue
            if norm not in index:
                self.result.unknown_columns.append(header_text(cell))
                continue
            target = index[norm]
            if target is None:
                continue  # the profile knows this column and leaves it out on purpose
            if target in positions:
                first = cells[positions[target]]
                problems.append(
                    f"第 {positions[target] + 1} 列 “{first}” 和第 {i + 1} 列 “{cell}” 都对应 {target}"
                )
                continue
            positions[target] = i
            self.result.columns[target] = header_text(cell)
        if problems:
            raise ImportRefused("表头有重复的列: " + "; ".join(problems))

        constants = {k: v for k, v in self.profile.constants.items() if k not in positions}
        for name in set(self.profile.constants) - set(constants):
            self.result.warn(f"文件中已有列 {self.result.columns[name]}, 导入配置中的固定值 {name} 未使用")
        # Where each header sits, for templates and extra columns (the first of duplicates wins).
        found = {
            normalize_header(cell): i for i, cell in reversed(list(enumerate(cells))) if cell is not None
        }
        templates = self._bind_templates(found, positions)
        required = {c.name for c in self.spec.columns if c.required} | set(self.key)
        supplied = positions.keys() | constants.keys() | templates.keys()
        missing = [c for c in self.spec.columns if c.name in required and c.name not in supplied]
        if missing:
            names = "、".join(f"{c.name} ({'/'.join(c.aliases)})" if c.aliases else c.name for c in missing)
            raise ImportRefused(f"缺少必需的列: {names}; 整个文件未导入")
        if self.result.unknown_columns:
            self.result.warn(f"未识别的列 (已忽略): {'、'.join(self.result.unknown_columns)}")

        for column in self.spec.columns:
            if column.name not in supplied:
                continue
            parser = column.parser
            formats = self.profile.date_formats_for(column.name)
            if formats and parser in (parse_date, parse_datetime):
                parser = partial(parser, formats=formats)
            mapping = self.profile.values.get(column.name)
            separator = None
            if column.multi:
                separator = self.profile.multi_valued.get(column.name) or column.separator
            elif column.name in self.profile.multi_valued:
                self.joined[column.name] = self.profile.multi_valued[column.name] or "\n"
            step = _Step(
                name=column.name,
                index=positions.get(column.name, -1),
                parser=parser,
                required=column.required or column.name in self.key,
                values=_ValueMap(mapping) if mapping else None,
                separator=separator,
                constant=constants.get(column.name),
                template=templates.get(column.name),
                collect=column.name in self.joined,
                memo={} if column.parser in (parse_date, parse_datetime) and separator is None else None,
            )
            if column.name in constants:
                fixed, problems = self._parse_cells([step], [constants[column.name]], width=0)
                if problems:
                    # Every row would fail the same way: the profile is wrong, not the file.
                    raise ImportRefused(
                        f"导入配置 {self.profile.name} 的固定值 (constants) {column.name} "
                        f"{shown(constants[column.name])} 无效: {problems[0][1]}; 整个文件未导入"
                    )
                step = replace(step, fixed=fixed[step.name])
            self.steps.append(step)
        self._extra_steps(found)
        self.multi = self.multi | self.joined.keys()

    def _bind_templates(self, found: dict[str, int], positions: dict[str, int]) -> dict[str, _Template]:
        """The profile's templates, bound to this header; a template naming a missing header refuses the file."""
        templates: dict[str, _Template] = {}
        problems: list[str] = []
        for name, alternatives in self.profile.templates.items():
            if name in positions:
                problems.append(
                    f"{name} 由导入配置的模板生成, 但文件中也有该列 “{self.result.columns[name]}”"
                    " (可在 columns 中将其设为 null)"
                )
                continue
            absent = [f for f in _fields(alternatives) if normalize_header(f) not in found]
            if absent:
                problems.append(f"{name} 的模板用到的列 {'、'.join(dict.fromkeys(absent))} 不在文件中")
                continue
            templates[name] = _Template(alternatives, found)
        if problems:
            raise ImportRefused("导入配置的模板与文件不符: " + "; ".join(problems))
        return templates

    def _extra_steps(self, found: dict[str, int]) -> None:
        """Columns the profile keeps as extra attributes: text, collected across a record's rows."""
        for outside, attribute in self.profile.extra.items():
            position = found.get(normalize_header(outside))
            if position is None:
                self.result.warn(f"导入配置要保存的附加列 “{outside}” 不在文件中")
                continue
            name = f"extra.{attribute}"
            self.joined[name] = "; "
            self.steps.append(
                _Step(
                    name=name,
                    index=position,
                    parser=parse_text,
                    required=False,
                    values=None,
                    separator=None,
                    collect=True,
                )
            )

    # ------------------------------------------------------------ mojibake

    def _check_mojibake(self, sample: list[Row]) -> None:
        """Refuse the file when a column reads like garbage. Judged per column on a sample: a file is
        mis-decoded as a whole, and one odd name must not condemn it."""
        width = len(self.header)
        seen = [0] * width
        bad = [0] * width
        example: list[str] = [""] * width
        for _rowno, cells in chain([(0, self.header)], sample):
            for i, cell in enumerate(cells[:width]):
                if cell.__class__ is str and not cell.isascii():
                    seen[i] += 1
                    if looks_mojibake(cell):
                        bad[i] += 1
                        example[i] = example[i] or cell
        garbled = [i for i in range(width) if bad[i] and bad[i] * 2 >= seen[i]]
        if garbled:
            names = "、".join(f"“{self.header[i] or i + 1}”" for i in garbled)
            i = garbled[0]
            raise ImportRefused(
                f"文件疑似乱码: 列 {names} 的内容像是用错误的编码解码的文字 (例如 {shown(example[i])}, "
                f"{bad[i]}/{seen[i]} 个值); 请确认导出时的编码后重新导出"
            )

    # ------------------------------------------------------------ rows

    def _parse(self, cells: Sequence[Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        values, problems = self._parse_cells(self.steps, cells, width=len(cells))
        if not problems:
            try:
                values = self.importer.validate_row(values)
            except RowError as exc:
                problems.append((exc.column, exc.reason))
        return values, problems

    def _parse_cells(
        self, steps: list[_Step], cells: Sequence[Any], *, width: int
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Read and parse every step's cell of a row (width=0: read the steps' constants)."""
        values: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for step in steps:
            index = step.index
            if index >= 0:
                cell = cells[index] if index < width else None
            elif step.template is not None:
                cell = step.template(cells)
            elif width:
                # A constant, read once when the header was mapped.
                values[step.name] = step.fixed
                continue
            else:
                cell = step.constant
            value, problem = _read_cell(step, cell)
            if value is not _FAILED:
                values[step.name] = value
            if problem is not None:
                problems.append((step.name, problem))
        return values, problems

    def _parse_many(self, rows: list[Sequence[Any]]) -> list[tuple[dict[str, Any], list[tuple[str, str]]]]:
        """`[self._parse(cells) for cells in rows]`, a column at a time.

        Each step reads its column of the rows at once, and each distinct text in it is read and
        parsed once (the parsers are pure), so repeating values (dates, codes, kinds, constants)
        cost a dictionary lookup. The rows' values come out in the steps' order with the same
        problems, in the same order, as the row-at-a-time _parse gives; a test compares the two.
        """
        count = len(rows)
        if not count:
            return []
        narrowest = min(map(len, rows))
        names: list[str] = []
        columns: list[list[Any]] = []
        # (row, step position) → problem; a failed cell's value is _FAILED and leaves the row's dict.
        problems: dict[int, list[tuple[int, str]]] = {}
        for position, step in enumerate(self.steps):
            names.append(step.name)
            index = step.index
            if index >= 0:
                if index < narrowest:
                    cells = list(map(itemgetter(index), rows))
                else:
                    cells = [row[index] if index < len(row) else None for row in rows]
            elif step.template is not None:
                cells = step.template.column(rows, narrowest)
            else:
                columns.append([step.fixed] * count)
                continue
            if set(map(type, cells)) <= _TEXT_TYPES:
                # Text and blanks only (every CSV): read each distinct text once.
                read = {cell: _read_cell(step, cell) for cell in dict.fromkeys(cells)}
                failed = {cell: outcome[1] for cell, outcome in read.items() if outcome[1] is not None}
                outcomes = {cell: outcome[0] for cell, outcome in read.items()}
                columns.append(list(map(outcomes.__getitem__, cells)))
                if failed:
                    for row, cell in enumerate(cells):
                        problem = failed.get(cell)
                        if problem is not None:
                            problems.setdefault(row, []).append((position, problem))
            else:
                # Spreadsheet cells (numbers, dates, booleans: 1 == 1.0 == True) are read one by one.
                column = []
                for row, cell in enumerate(cells):
                    value, problem = _read_cell(step, cell)
                    column.append(value)
                    if problem is not None:
                        problems.setdefault(row, []).append((position, problem))
                columns.append(column)
        parsed: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
        validate = self.importer.validate_row
        for row, values in enumerate(map(dict, map(partial(zip, names), zip(*columns, strict=True)))):
            found = problems.get(row)
            if found is None:
                listed: list[tuple[str, str]] = []
                try:
                    values = validate(values)
                except RowError as exc:
                    listed.append((exc.column, exc.reason))
            else:
                listed = [
                    (names[position], problem) for position, problem in sorted(found, key=itemgetter(0))
                ]
                for name, value in list(values.items()):
                    if value is _FAILED:
                        del values[name]
            parsed.append((values, listed))
        return parsed

    def _merge(self, record: Record, values: dict[str, Any], rowno: int) -> None:
        """Fold a further row of the same record into it (data-formats.md: multi-row records)."""
        for name, new in values.items():
            old = record.values.get(name)
            if name in self.multi:
                record.values[name] = old + tuple(v for v in new if v not in old)
            elif not _same(old, new):
                label = self._label(name)
                self.result.conflicts += 1
                policy = self.profile.on_conflict
                if policy == "reject":
                    record.reject(
                        name,
                        f"与第 {record.first_row} 行的{label}不一致: {shown(old)} ≠ {shown(new)}",
                        row=rowno,
                    )
                    return
                if policy == "last":
                    record.values[name] = new
                kept = "第一行" if policy == "first" else "最后一行"
                self.result.warn(
                    f"第 {rowno} 行的{label} {shown(new)} 与第 {record.first_row} 行的 {shown(old)} 不一致, "
                    f"按导入配置保留{kept}的值"
                )

    def _key_of(self, values: dict[str, Any], problems: list[tuple[str, str]]) -> Key | None:
        if problems and any(name in self.key for name, _ in problems):
            return None
        key = tuple([values.get(name) for name in self.key])
        for part in key:
            if part is None or part == "":
                return None
        return key

    def _file(
        self, rowno: int, cells: Sequence[Any], values: dict[str, Any], problems: list, key: Key | None
    ) -> None:
        """File a parsed row under its record: a new record, a further row of one, or a loose reject."""
        if key is None:
            loose = Record(None, values, rowno, cells)
            loose.issues.extend(Issue(rowno, name, reason) for name, reason in problems)
            self._loose.append(loose)
            return
        record = self._records.get(key)
        if record is None:
            first = self._seen.get(key) if self._seen is not None else None
            if first is not None:
                # The record went out with an earlier chunk; merging now would half-write it.
                loose = Record(None, values, rowno, cells)
                loose.reject(
                    self.key[0],
                    f"与第 {first} 行属于同一记录 ({self._key_text(key)}), 但两行相隔太远: 请把同一记录的各行排在一起",
                )
                self._loose.append(loose)
                return
            record = Record(key, values, rowno, cells)
            if problems:
                record.issues.extend(Issue(rowno, name, reason) for name, reason in problems)
            self._records[key] = record
            return
        record.rows.append(rowno)
        record.raws.append(cells)
        if problems:
            record.issues.extend(Issue(rowno, name, reason) for name, reason in problems)
        elif not record.rejected:
            self._merge(record, values, rowno)

    # ------------------------------------------------------------ chunks

    def _flush(self) -> None:
        records = list(self._records.values())
        if self.joined:
            for record in chain(records, self._loose):
                values = record.values
                for name, separator in self.joined.items():
                    collected = values.get(name)
                    if collected.__class__ is tuple:
                        if len(collected) == 1:
                            values[name] = collected[0]
                        else:
                            values[name] = separator.join(map(str, collected)) or None
        good = [r.key for r in records if not r.rejected]
        self._writer.wait()  # the last chunk's write has ended: the database is the engine's again
        current = self.importer.existing(good) if good else {}
        self.importer.validate_records(records=records, existing=current)
        created: list[Record] = []
        updated: list[Change] = []
        rejected: list[Record] = list(self._loose)
        rows, counts = self.result.rows, self.result.records
        for record in records:
            if self._seen is not None and record.key is not None:
                self._seen.setdefault(record.key, record.first_row)
            if record.rejected:
                rejected.append(record)
                continue
            before = current.get(record.key)
            if before is None:
                created.append(record)
                outcome = "created"
            else:
                values = record.values
                # Mostly nothing changed: one C-level comparison of all the values says so.
                if list(map(before.get, values)) == list(values.values()):
                    changes = {}
                else:
                    changes = {
                        name: (before.get(name), value)
                        for name, value in values.items()
                        if name not in self.key and not _same(before.get(name), value)
                    }
                if changes:
                    updated.append(Change(record, before, changes))
                    outcome = "updated"
                else:
                    outcome = "unchanged"
            counts[outcome] += 1
            rows[outcome] += len(record.rows)
        if self.write and (created or updated):
            finish = self.importer.apply(created=created, updated=updated)
            self._writer.submit(self._finish, finish, updated)
        self._report(rejected)
        self._records.clear()
        self._loose.clear()

    def _finish(self, finish: Callable[[], None] | None, updated: list[Change]) -> None:
        if finish is not None:
            finish()
        if updated and self.on_changes is not None:
            self.on_changes(updated)

    def _report(self, rejected: list[Record]) -> None:
        """Count the rejected records and list their rows, in file order, in the report and error file."""
        lines = []
        for record in rejected:
            self.result.rows["rejected"] += len(record.rows)
            self.result.records["rejected"] += 1
            blamed = "、".join(str(row) for row in sorted({issue.row for issue in record.issues}))
            for rowno, cells in zip(record.rows, record.raws, strict=True):
                own = [issue for issue in record.issues if issue.row == rowno]
                lines.append((rowno, own, blamed, cells))
        lines.sort(key=lambda line: line[0])
        for rowno, own, blamed, cells in lines:
            if not own:
                columns, reasons = "", f"同一记录的第 {blamed} 行有错误, 整条记录未导入"
            elif len(own) == 1:
                columns, reasons = self._label(own[0].column), own[0].reason
            else:
                columns = "; ".join(dict.fromkeys(self._label(issue.column) for issue in own))
                reasons = "; ".join(f"{self._label(issue.column)}: {issue.reason}" for issue in own)
            for issue in own:
                self.result.error_count += 1
                if len(self.result.errors) < REPORT_LIMIT:
                    self.result.errors.append(
                        {"row": rowno, "column": self._label(issue.column), "reason": issue.reason}
                    )
            if self.errors_out is not None:
                self.errors_out.write(rowno, columns, reasons, cells)

    def _label(self, name: str) -> str:
        return self.result.columns.get(name) or self.spec.label_of(name)

    def _key_text(self, key: Key) -> str:
        return ", ".join(f"{self._label(n)}={v}" for n, v in zip(self.key, key, strict=True))

    # ------------------------------------------------------------ the pass

    def run(self, table: Table) -> RunResult:
        rows = iter(table.rows)
        index = self._header_index()
        self.header = list(self._find_header(rows, index))
        self._map_header(self.header, index)
        if self.errors_out is not None:
            self.errors_out.header = self.header
        sample = list(islice(rows, MOJIBAKE_SAMPLE_ROWS))
        self._check_mojibake(sample)

        chunk_size = self.importer.chunk_size
        if chunk_size is None:
            self._seen = None  # one chunk: every row of a record meets it in memory
        result = self.result
        # A chunk is written while the next one is read (Importer.pipelined).
        pipelined = self.write and self.importer.pipelined and chunk_size is not None
        # bulk_gc: the collector leaves alone the objects that were there before the pass (lib.bulkgc).
        with bulk_gc, BackgroundWriter() if pipelined else InlineWriter() as self._writer:
            # Rows are parsed PARSE_BATCH at a time, a column at a time (_parse_many).
            stream = chain(sample, rows)
            while batch := list(islice(stream, PARSE_BATCH)):
                batch = [(rowno, cells) for rowno, cells in batch if not _blank(cells)]
                parsed = self._parse_many([cells for _, cells in batch])
                for (rowno, cells), (values, problems) in zip(batch, parsed, strict=True):
                    result.rows_read += 1
                    key = self._key_of(values, problems)
                    # Chunks end only between records, so the adjacent rows of one record stay together.
                    if (
                        chunk_size is not None
                        and len(self._records) >= chunk_size
                        and key not in self._records
                    ):
                        self._flush()
                    self._file(rowno, cells, values, problems, key)
            self._flush()
        self._writer = InlineWriter()
        if self.write:
            self.importer.finish()
        return result
