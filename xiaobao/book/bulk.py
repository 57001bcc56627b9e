"""The vectorised pass for plain CSV files of the book formats: the framework's import, at column speed.

The framework engine (xiaobao.imports.engine) reads a file row by row in Python: right for every
file, but some 50 µs a row, and a core-system extract has millions of rows. For a CSV file without
a profile this pass does the same import, with the same outcome, a block of rows at a time:

1. Hash the file and count its lines, in a thread, while the rest runs.
2. Find the header, map it and check a sample for mojibake with the engine's own code, so aliases,
   refusals and warnings are the framework's. A file that is not UTF-8 is judged by the framework's
   encoding detector: GB18030 (or UTF-16) is transcoded to UTF-8 in scratch, anything else refused.
3. Read the rows with Arrow's CSV reader in blocks, as text. DuckDB parses and checks each block
   with SQL generated from the format's declaration (importers.FORMATS and RULES). A row the SQL
   does not pass for certain (an unusual spelling, a bad value) is parsed in Python by the engine
   and checked by the importer, which have the last word on it: same values, same messages.
4. Stage the accepted rows (staging.Stage: sealed, tokenised and masked; never plain on disk).
5. At the end, per record: rows sharing a key are replayed through the engine's record logic
   (identical rows merge, disagreeing ones are rejected); a policy's unit and the policy of a
   premium, surrender or claim are checked in one join each; Stage.finish classifies every record
   as created, updated or unchanged, and writes and commits the new version.
6. Rejected rows go through the engine's own reporter: the same summary, the same error file.

bulk_import() returns None, before recording anything, for what the framework must read: .xlsx,
a profile, a sheet. When the pass finds that the file's records are not one per line (a quoted line
break, a blank line, a row of the wrong width) row numbers need Python's csv reader, so it drops
its batch and returns None too; the caller then runs the framework's import_run.
"""

import codecs
import csv
import datetime as dt
import gc
import hashlib
import threading
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, transaction
from django.utils import timezone

from xiaobao.audit.models import AuditAction
from xiaobao.audit.services import audit_record
from xiaobao.book import cellchecks, fastparse, hooks, store
from xiaobao.book.importers import (
    FORMATS,
    RULES,
    SYNONYMS,
    Field,
    arrays_of,
    unknown_policy,
    unknown_unit,
)
from xiaobao.book.schema import KEYS, PERSONAL, SCHEMAS
from xiaobao.book.staging import CHANGE_LOG_LIMIT, Stage, TableLock, duck_type, parquet_source, quoted
from xiaobao.imports.engine import ImportEngine, RunResult
from xiaobao.imports.errorfile import ErrorFileWriter
from xiaobao.imports.mapping import profile_default
from xiaobao.imports.models import BatchStatus, ImportBatch, ImportChange
from xiaobao.imports.readers import XLS_MAGIC, XLSX_MAGIC, detect_csv_encoding
from xiaobao.imports.registry import importer_for
from xiaobao.imports.services import _details, _message, errors_dir, import_batches_recover
from xiaobao.imports.spec import ImportRefused, Issue, Record
from xiaobao.lib import jobs
from xiaobao.lib.address import MAX_LENGTH as ADDRESS_LENGTH
from xiaobao.lib.address import PLACEHOLDERS as ADDRESS_PLACEHOLDERS
from xiaobao.lib.address import PLAIN_SQL_RE as ADDRESS_PLAIN_RE
from xiaobao.lib.parsing import FALSE_WORDS, TRUE_WORDS
from xiaobao.org.models import Unit

BLOCK_BYTES = 16 << 20  # one Arrow CSV block: some 80,000 policy rows
HASH_CHUNK = 4 << 20
PROBE_BYTES = 1 << 20  # a file whose first MiB is not UTF-8 goes to the framework's detector
MOJIBAKE_SAMPLE_ROWS = 2000  # as the engine
# From this size on, sealing runs in child processes (staging.SealerProcess); below, starting them
# would cost more than it saves.
SEALER_PROCESS_BYTES = 4 << 20

# Field types whose common spellings numpy parses before the SQL (xiaobao.book.fastparse).
FAST_PARSERS = {"date": fastparse.dates, "int": fastparse.integers, "amount": fastparse.amounts}

Progress = Callable[[ImportBatch, int, int], None]  # (batch, rows read so far, rows in the file or 0)


class Declined(Exception):
    """The file's records are not one per line: the framework's row-by-row reader must take it."""


# ---------------------------------------------------------------- SQL from the declaration


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values: Any) -> str:
    return "(" + ", ".join(_literal(v) for v in values) + ")"


def _value_type(table: str, name: str) -> str:
    if name in PERSONAL[table]:
        return "VARCHAR"
    return duck_type(SCHEMAS[table].field(name).type)


def field_sql(
    table: str, f: Field, raw: str | None, typed: str | None = None, fast: str | None = None
) -> tuple[str, str]:
    """(the typed value of raw cell `raw`, TRUE when that is certainly what the Python parser makes
    of the cell). `raw` is None when the file lacks the column. Cells reach here without surrounding
    whitespace, U+FFFD or NUL (the row check sends those to Python).

    `typed`: the name under which the caller computes the value; the check then reads that column
    instead of parsing the cell a second time (block_sql). Without it, the check repeats the value's
    expression. `fast`: a column holding the value already parsed by xiaobao.book.fastparse, or
    NULL; the cell's own parse then runs only where it is NULL."""
    target = _value_type(table, f.name)
    if raw is None:
        return f"NULL::{target}", "true"
    value = f"NULLIF({raw}, '')"
    parsed: str | None = None  # the value's expression, for the types whose check is "it parsed"
    if f.type == "text":
        ok = f"length({raw}) <= {f.max_length}" if f.max_length else "true"
    elif f.type == "personal":
        ok = {
            # A name without whitespace is its own normal form (cellchecks.has_space).
            "name": f"(length({raw}) <= 50 AND NOT _space_{f.name})",
            "id_no": f"_idok_{f.name}",  # cellchecks.id_no_valid
            "phone": f"regexp_full_match({raw}, '1[3-9][0-9]{{9}}|0[0-9]{{2,3}}-?[0-9]{{7,8}}')",
            "account": f"regexp_full_match({raw}, '[0-9]{{8,30}}')",
            # Already in normal form (xiaobao.lib.address) and not a placeholder; the rest is
            # normalised in Python.
            "address": (
                f"(length({raw}) <= {ADDRESS_LENGTH} AND regexp_full_match({raw}, '{ADDRESS_PLAIN_RE}') "
                f"AND {raw} NOT IN {_in(sorted(ADDRESS_PLACEHOLDERS))})"
            ),
        }[f.kind]
    elif f.type == "enum":
        synonyms = {k.casefold(): v for k, v in SYNONYMS.get(f.name, {}).items()}
        mapped = " ".join(f"WHEN {_literal(k)} THEN {_literal(v)}" for k, v in synonyms.items())
        value = f"CASE WHEN {raw} IN {_in(f.choices)} THEN {raw}" + (
            f" ELSE CASE lower({raw}) {mapped} END END" if mapped else " END"
        )
        parsed = value
    elif f.type == "date":
        shape = (
            f"regexp_full_match({raw}, "
            "'(19|20)[0-9]{2}(-[0-9]{1,2}-[0-9]{1,2}|/[0-9]{1,2}/[0-9]{1,2}|[0-9]{4})')"
        )
        value = f"CASE WHEN {shape} THEN try_strptime({raw}, ['%Y-%m-%d', '%Y/%m/%d', '%Y%m%d'])::DATE END"
        parsed = value
    elif f.type == "int":
        value = f"CASE WHEN regexp_full_match({raw}, '-?[0-9]{{1,9}}') THEN {raw}::INTEGER END"
        parsed = value
    elif f.type == "amount":
        value = (
            f"CASE WHEN regexp_full_match({raw}, '-?[0-9]{{1,13}}(\\.[0-9]{{1,2}})?') "
            f"THEN {raw}::DECIMAL(18, 2) END"
        )
        parsed = value
    elif f.type == "bool":
        value = (
            f"CASE WHEN lower({raw}) IN {_in(sorted(TRUE_WORDS))} THEN true "
            f"WHEN lower({raw}) IN {_in(sorted(FALSE_WORDS))} THEN false END"
        )
        parsed = value
    else:  # pragma: no cover - FORMATS uses only the types above
        raise ValueError(f.type)
    if parsed is not None:
        if fast is not None and f.type in FAST_PARSERS:
            value = parsed = f"coalesce({fast}, {parsed})"
        ok = f"{typed} IS NOT NULL" if typed else f"({parsed}) IS NOT NULL"
    empty = f"{raw} = ''"
    ok = f"(NOT ({empty}) AND {ok})" if f.required else f"({empty} OR {ok})"
    return f"(CASE WHEN {empty} THEN NULL ELSE {value} END)::{target}", ok


def block_sql(table: str, positions: dict[str, int]) -> str:
    """The query turning one block of raw cells (`_row`, c0, c1, … and the flags of cell_flags) into
    the format's typed columns and `_ok`. Each cell is parsed once, in the inner query; the checks
    of the outer one read the typed columns (parsing is most of the query's time)."""
    typed, oks = [], ["NOT _dirty"]
    for f in FORMATS[table]:
        raw = f"c{positions[f.name]}" if f.name in positions else None
        fast = f"_fast_{f.name}" if raw is not None and f.type in FAST_PARSERS else None
        value, ok = field_sql(table, f, raw, f.name, fast)
        typed.append(f"{value} AS {f.name}")
        if ok != "true":
            oks.append(ok)
    rules = " AND ".join(rule.sql for rule in RULES[table]) or "true"
    names = ", ".join(f.name for f in FORMATS[table])
    return (
        f"SELECT _row, _blank, {names}, coalesce(({' AND '.join(oks)}) AND ({rules}), false) AS _ok "
        f"FROM (SELECT *, {', '.join(typed)} FROM _book_block)"
    )


def cell_flags(
    table: str, positions: dict[str, int], columns: list[pa.Array], today: dt.date
) -> dict[str, Any]:
    """The checks numpy makes faster than a regex (see cellchecks): per row `_dirty` (a cell to be
    stripped or holding NUL/U+FFFD) and `_blank` (every cell empty), per personal column its own,
    and per date, count or amount column its common spellings already parsed (fastparse)."""
    dirty = np.zeros(len(columns[0]), dtype=bool)
    blank = np.ones(len(columns[0]), dtype=bool)
    for column in columns:
        dirty |= cellchecks.dirty(column)
        blank &= cellchecks.empty(column)
    flags: dict[str, Any] = {"_dirty": dirty & ~blank, "_blank": blank}
    for f in FORMATS[table]:
        if f.type in FAST_PARSERS and f.name in positions:
            flags[f"_fast_{f.name}"] = FAST_PARSERS[f.type](columns[positions[f.name]])
        if f.type != "personal" or f.name not in positions:
            continue
        column = columns[positions[f.name]]
        if f.kind == "name":
            flags[f"_space_{f.name}"] = cellchecks.has_space(column)
        elif f.kind == "id_no":
            flags[f"_idok_{f.name}"] = cellchecks.id_no_valid(column, today)
    return flags


# ---------------------------------------------------------------- the file


class FileScan:
    """The file's SHA-256 and its number of lines up to the last with content, computed in a thread
    while the pass runs (hashlib releases the GIL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha256 = ""
        self.lines = 0
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="book-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        digest = hashlib.sha256()
        newlines = content_lines = 0
        try:
            with self.path.open("rb") as fh:
                while chunk := fh.read(HASH_CHUNK):
                    digest.update(chunk)
                    count = chunk.count(b"\n")
                    content = len(chunk.rstrip(b"\r\n\t "))
                    if content:
                        # the newlines before the chunk's last content, plus its own line
                        content_lines = newlines + count - chunk.count(b"\n", content) + 1
                    newlines += count
        except OSError as exc:
            self._error = exc
            return
        self.sha256 = digest.hexdigest()
        self.lines = content_lines

    def done(self) -> "FileScan":
        self._thread.join()
        if self._error is not None:
            raise ImportRefused(f"无法读取文件 {self.path}: {self._error.strerror or self._error}")
        return self


def utf8_source(path: Path, scratch: Path) -> tuple[Path, str]:
    """The UTF-8 file to read and the encoding the file was in."""
    with path.open("rb") as fh:
        head = fh.read(PROBE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return path, "utf-8-sig"
    if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            return path, "utf-8"
        except UnicodeDecodeError:
            pass
    encoding = detect_csv_encoding(path)  # refuses a damaged file with its reason
    if encoding in ("utf-8", "utf-8-sig"):
        return path, encoding
    target = scratch / "utf8.csv"
    with (
        path.open(encoding=encoding, newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(HASH_CHUNK):
            dst.write(chunk)
    return target, encoding


def cells_of_rows(path: Path, encoding: str, delimiter: str, wanted: set[int]) -> dict[int, list[str]]:
    """The cells of the given rows, read again with Python's csv reader (only rows refused after
    they were staged need this, so most files are read once)."""
    found: dict[int, list[str]] = {}
    if not wanted:
        return found
    last = max(wanted)
    with path.open(encoding="utf-8-sig" if encoding == "utf-8-sig" else "utf-8", newline="") as fh:
        for rowno, cells in enumerate(csv.reader(fh, delimiter=delimiter), start=1):
            if rowno in wanted:
                found[rowno] = cells
            if rowno >= last:
                break
    return found


# ---------------------------------------------------------------- the pass


class BulkPass:
    """One import of one CSV file; see the module docstring for the steps."""

    def __init__(
        self,
        *,
        kind: str,
        batch: ImportBatch,
        errors: ErrorFileWriter,
        progress: Progress | None,
        lock: TableLock,
    ) -> None:
        self.lock = lock
        self.table = kind
        self.batch = batch
        self.progress = progress
        self.importer = importer_for(kind)()
        self.importer.batch = batch
        self.engine = ImportEngine(importer=self.importer, profile=profile_default(kind), errors=errors)
        self.result: RunResult = self.engine.result
        self.key = KEYS[kind]
        self.rejected: dict[int, Record] = {}  # first row → record refused, with its cells
        self.stage: Stage | None = None
        self.encoding = ""
        self.source: tuple[Path, str, str] | None = None  # the UTF-8 file, its encoding, the delimiter
        self.changes: list[tuple[int, str, dict[str, list[Any]]]] = []
        self.version: str | None = None

    def close(self) -> None:
        self.importer.con.close()
        if self.stage is not None:
            self.stage.abort()

    # ------------------------------------------------------------ reading

    def read(self, path: Path, scan: FileScan, scratch: Path) -> None:
        """Steps 2–4: header, blocks, staging."""
        from xiaobao.imports.readers import _sniff_delimiter

        source, encoding = utf8_source(path, scratch)
        self.encoding = encoding
        read_as = "utf-8-sig" if encoding == "utf-8-sig" else "utf-8"
        delimiter = _sniff_delimiter(source, read_as)
        header_row, width = self._header(source, read_as, delimiter)
        self.source = (source, encoding, delimiter)
        positions = {step.name: step.index for step in self.engine.steps if step.index >= 0}
        # Sealing is Python (the token HMACs) and would wait for the GIL beside this thread's work; a
        # table without personal columns only writes Parquet, which a thread does as well as a child
        # (Arrow and DuckDB release the GIL) without starting interpreters and copying every batch.
        large = path.stat().st_size >= SEALER_PROCESS_BYTES and bool(PERSONAL[self.table])
        self.stage = Stage(
            self.table, batch_id=self.batch.pk, supplied=positions, lock=self.lock, process=large
        )
        self.fields = [f.name for f in FORMATS[self.table] if f.name in positions]
        sql = block_sql(self.table, positions)
        self.positions = positions
        self.today = dt.date.today()
        names = [f"c{i}" for i in range(width)]
        records = 0
        total = 0
        if self.progress is not None:
            self.progress(self.batch, 0, 0)
        try:
            # Opening reads the first block: a row of the wrong width there is found here already.
            reader = pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(
                    skip_rows=header_row,
                    column_names=names,
                    block_size=BLOCK_BYTES,
                    # With sealer processes on the other cores, Arrow's own threads only add the
                    # cost of handing blocks over (a quarter more CPU for the same wall time).
                    use_threads=not large,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, invalid_row_handler=lambda row: "error"
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for block in reader:
                first = header_row + 1 + records
                records += block.num_rows
                rows = pa.array(np.arange(first, first + block.num_rows, dtype=np.int64))
                flags = cell_flags(self.table, positions, block.columns, self.today)
                self._block(
                    sql,
                    pa.RecordBatch.from_arrays(
                        [
                            rows,
                            *block.columns,
                            *(v if isinstance(v, pa.Array) else pa.array(v) for v in flags.values()),
                        ],
                        names=["_row", *names, *flags],
                    ),
                    width,
                )
                if self.progress is not None:
                    if not total and scan.lines:
                        total = max(scan.lines - header_row, 0)
                    self.progress(self.batch, self.result.rows_read, total)
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc):
                detect_csv_encoding(path)  # valid at the start, damaged later: refused with the reason
            raise Declined(str(exc)) from None
        if scan.done().lines != header_row + records:
            raise Declined("blank lines or records spanning lines")

    def _header(self, source: Path, encoding: str, delimiter: str) -> tuple[int, int]:
        """The header row and width, found and mapped by the engine, which also checks a sample."""
        engine = self.engine
        with source.open(encoding=encoding, newline="") as fh:
            rows = enumerate(csv.reader(fh, delimiter=delimiter, strict=True), start=1)
            try:
                index = engine._header_index()
                engine.header = list(engine._find_header(rows, index))
                engine._map_header(engine.header, index)
                engine.errors_out.header = engine.header
                engine._check_mojibake(list(islice(rows, MOJIBAKE_SAMPLE_ROWS)))
            except csv.Error as exc:
                raise Declined(str(exc)) from None
        return engine.result.header_row, len(engine.header)

    def _block(self, sql: str, block: pa.RecordBatch, width: int) -> None:
        con = self.stage.con
        con.register("_book_block", block)
        try:
            parsed = con.sql(sql).to_arrow_table()
        finally:
            con.unregister("_book_block")
        blank = parsed.column("_blank")
        self.result.rows_read += parsed.num_rows - pc.sum(pc.cast(blank, pa.int64())).as_py()
        ok = parsed.column("_ok")
        good = parsed.filter(pc.and_(ok, pc.invert(blank)))
        if good.num_rows:
            kinds = PERSONAL[self.table]
            values = {n: good.column(n).combine_chunks() for n in self.fields if n not in kinds}
            personal = [n for n in self.fields if n in kinds]
            plain = pa.table({n: good.column(n) for n in personal}) if personal else None
            self.stage.add(good.column("_row").combine_chunks(), values, plain)
        bad = parsed.filter(pc.and_(pc.invert(ok), pc.invert(blank))).column("_row").to_pylist()
        if bad:
            self._python(block, bad, width)

    def _python(self, block: pa.RecordBatch, rows: list[int], width: int) -> None:
        """Rows the SQL did not pass: parsed and checked in Python, exactly as the framework does."""
        first = block.column(0)[0].as_py()
        columns = block.columns[1 : width + 1]
        accepted: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            cells = [column[row - first].as_py() for column in columns]
            if all(not cell.strip() for cell in cells):
                self.result.rows_read -= 1  # blank once stripped: skipped, as the engine skips it
                continue
            values, problems = self.engine._parse(cells)
            if problems:
                record = Record(self.engine._key_of(values, problems), values, row, cells)
                record.issues.extend(Issue(row, name, reason) for name, reason in problems)
                self.rejected[row] = record
            else:
                accepted.append((row, values))
        if accepted:
            values, plain = arrays_of(self.table, [v for _, v in accepted], self.fields)
            self.stage.add(pa.array([row for row, _ in accepted], pa.int64()), values, plain)

    # ------------------------------------------------------------ records

    def settle(self, *, dry_run: bool, strict: bool) -> None:
        """Step 5: records across rows, references, classification and, unless this is a dry run or
        a strict import with any row refused, the new version."""
        stage = self.stage
        keys_only = stage.rows_sql()
        groups = self._groups(keys_only)
        # The column a reference check needs is in the key for premiums and surrenders.
        by_key = self.table != "policies" and "policy_no" in self.key
        refused = self._references(keys_only if by_key else stage.staged_sql())
        wanted = {row for rows in groups.values() for row in rows if row not in self.rejected}
        cells = cells_of_rows(*self.source, wanted | refused.keys())
        drop: set[int] = set()
        extra: dict[int, int] = {}  # the kept row of a record merged from several → its other rows
        for rows in groups.values():
            record = self._replay(sorted(set(rows)), cells)
            if not record.rejected:
                reason = next((refused[row] for row in record.rows if row in refused), None)
                if reason is not None:
                    record.reject(*reason)
            for row in record.rows:
                self.rejected.pop(row, None)
                refused.pop(row, None)
            if record.rejected:
                drop.update(record.rows)
                self.rejected[record.first_row] = record
            else:
                drop.update(record.rows[1:])
                extra[record.first_row] = len(record.rows) - 1
        for row, (column, reason) in refused.items():
            record = Record(None, {}, row, cells[row])
            record.reject(column, reason)
            drop.add(row)
            self.rejected[row] = record
        commit = not dry_run and not (strict and self.rejected)
        outcome = stage.finish(commit=commit, drop_rows=drop, log_changes=commit, outcome_rows=extra.keys())
        self.stage = None
        counts = self.result
        for name in ("created", "updated", "unchanged"):
            value = getattr(outcome, name)
            counts.records[name] += value
            counts.rows[name] += value
        for row, more in extra.items():
            counts.rows[outcome.of_rows[row]] += more
        self.version = outcome.version
        self.changes = outcome.changes
        self.engine._report(sorted(self.rejected.values(), key=lambda r: r.first_row))

    def _groups(self, staged: str) -> dict[tuple, list[int]]:
        """Keys shared by several rows (staged or refused): key → their row numbers."""
        con = self.stage.con
        keys = ", ".join(quoted(k) for k in self.key)
        groups: dict[tuple, list[int]] = {}
        # Counting 64-bit hashes of the keys is cheaper than grouping the keys themselves with a
        # list per group; the few candidates (true repeats, and any hash collision) are then grouped
        # by their real keys.
        for *key, rows in con.sql(
            f"WITH repeated AS (SELECT hash({keys}) AS h FROM {staged} GROUP BY h HAVING count(*) > 1) "
            f"SELECT {keys}, list(_row) FROM {staged} WHERE hash({keys}) IN (SELECT h FROM repeated) "
            f"GROUP BY {keys} HAVING count(*) > 1"
        ).fetchall():
            groups[tuple(key)] = rows
        keyed: dict[tuple, list[int]] = {}
        for record in self.rejected.values():
            if record.key is not None:
                keyed.setdefault(record.key, []).append(record.first_row)
        if keyed:
            schema = SCHEMAS[self.table]
            wanted = pa.table(
                {k: pa.array([key[i] for key in keyed], schema.field(k).type) for i, k in enumerate(self.key)}
            )
            con.register("_book_refused_keys", wanted)
            on = " AND ".join(f"s.{quoted(k)} = w.{quoted(k)}" for k in self.key)
            staged_rows: dict[tuple, list[int]] = {}
            for *key, row in con.sql(
                f"SELECT {', '.join('s.' + quoted(k) for k in self.key)}, s._row "
                f"FROM {staged} s JOIN _book_refused_keys w ON {on}"
            ).fetchall():
                staged_rows.setdefault(tuple(key), []).append(row)
            for key, rows in keyed.items():
                if len(rows) > 1 or key in staged_rows:
                    groups[key] = sorted({*groups.get(key, []), *staged_rows.get(key, []), *rows})
        return groups

    def _references(self, staged: str) -> dict[int, tuple[str, str]]:
        """Staged rows whose unit (policies) or policy (the others) does not exist: row → (column, reason)."""
        con = self.stage.con
        if self.table == "policies":
            codes = list(Unit.objects.values_list("code", flat=True))
            con.register("_book_units", pa.table({"code": pa.array(codes, pa.string())}))
            missing = con.sql(
                f"SELECT _row, org_code FROM {staged} s WHERE NOT EXISTS "
                "(SELECT 1 FROM _book_units u WHERE u.code = s.org_code)"
            ).fetchall()
            return {row: ("org_code", unknown_unit(code)) for row, code in missing}
        policies = parquet_source("policies")
        missing = con.sql(
            f"SELECT _row, policy_no FROM {staged} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {policies} p WHERE p.policy_no = s.policy_no)"
        ).fetchall()
        return {row: ("policy_no", unknown_policy(number)) for row, number in missing}

    def _replay(self, rows: list[int], cells: dict[int, list[str]]) -> Record:
        """The rows of one key, in file order, through the engine's record logic (merge or conflict)."""
        engine = self.engine
        engine._records = {}
        engine._seen = None
        for row in rows:
            known = self.rejected.get(row)
            row_cells = list(known.raws[0]) if known is not None else cells[row]
            values, problems = engine._parse(row_cells)
            engine._file(row, row_cells, values, problems, engine._key_of(values, problems))
        records = list(engine._records.values()) + engine._loose
        engine._records = {}
        engine._loose = []
        merged = records[0]
        for other in records[1:]:  # pragma: no cover - rows of one key file under one record
            merged.rows += other.rows
            merged.raws += other.raws
            merged.issues += other.issues
        return merged


# ---------------------------------------------------------------- the service


def bulk_import(
    *,
    kind: str,
    path: Path | str,
    actor: AbstractBaseUser | None = None,
    actor_name: str = "",
    profile: str = "",
    dry_run: bool = False,
    strict: bool = False,
    sheet: str | None = None,
    file_name: str = "",
    progress: Progress | None = None,
) -> ImportBatch | None:
    """Import a CSV file of a book format with the vectorised pass, recorded exactly as
    xiaobao.imports.services.import_run records an import; None when the framework must read it.

    1. Decline (None) for a profile, a sheet, an Excel file or a path that is not a file.
    2. Record the batch as running; hash the file in a thread.
    3. Read, check and stage the rows (BulkPass.read); a file found not to be one record per line
       drops its batch and is declined.
    4. Settle the records and, unless --dry-run or --strict with rejected rows, commit the version.
    5. Finish the batch, its change log (capped) and one audit entry in one transaction.
    """
    path = Path(path)
    if profile or sheet or not path.is_file():
        return None
    with path.open("rb") as fh:
        magic = fh.read(8)
    if (
        not magic
        or magic.startswith(XLSX_MAGIC)
        or magic == XLS_MAGIC
        or path.suffix.lower() in (".xlsx", ".xlsm")
    ):
        return None
    import_batches_recover()
    if actor is not None and not actor_name:
        actor_name = actor.get_username()
    batch = ImportBatch.objects.create(
        kind=kind,
        file_name=(file_name or path.name)[:255],
        file_sha256="",
        actor=actor,
        actor_name=actor_name[:150],
        unit=getattr(actor, "unit", None),
        dry_run=dry_run,
        strict=strict,
        details={"owner": jobs.owner_tag()},
    )
    started = time.monotonic()
    errors = ErrorFileWriter(errors_dir() / f"{batch.pk}-errors.xlsx", header=[])
    scan = FileScan(path)
    lock = TableLock(kind)
    removed = store.cleanup_scratch(kind)  # what killed imports left, now that no import is running
    scratch = store.begin_version(kind)
    bulk: BulkPass | None = None
    unexpected: BaseException | None = None
    # Millions of short-lived bytes objects (ciphertexts) would wake the cycle collector thousands of
    # times for nothing: the pass creates no reference cycles worth collecting.
    collecting = gc.isenabled()
    gc.disable()
    try:
        bulk = BulkPass(kind=kind, batch=batch, errors=errors, progress=progress, lock=lock)
        bulk.read(path, scan, scratch)
        read = time.monotonic()
        bulk.settle(dry_run=dry_run, strict=strict)
        settled = time.monotonic()
        result = bulk.result
        batch.file_sha256 = scan.done().sha256
        batch.rows_read = result.rows_read
        batch.created = result.rows["created"]
        batch.updated = result.rows["updated"]
        batch.unchanged = result.rows["unchanged"]
        batch.rejected = result.rows["rejected"]
        batch.errors_file = errors.close()
        batch.details = _details(result, encoding=bulk.encoding, sheet="", seconds=time.monotonic() - started)
        batch.details["store"] = {
            "table": kind,
            "version": bulk.version or store.current_version(kind),
            "written": bulk.version is not None,
            "scratch_removed": removed,
        }
        batch.details["change_log"] = {
            "recorded": len(bulk.changes),
            "limit": CHANGE_LOG_LIMIT,
            "capped": result.records["updated"] > len(bulk.changes) and bulk.version is not None,
        }
        batch.details["engine"] = "bulk"
        batch.details["timings"] = {"read": round(read - started, 3), "settle": round(settled - read, 3)}
        if dry_run:
            batch.status = BatchStatus.DRY_RUN
        elif strict and batch.rejected:
            batch.status = BatchStatus.REJECTED
        else:
            batch.status = BatchStatus.DONE
        batch.message = _message(batch)
        if batch.status == BatchStatus.DONE and bulk.version is not None:
            notes = hooks.rows_written(batch, kind)  # e.g. the watchlist check of the new rows
            batch.message = hooks.message_with_notes(batch.message, [n.get("message", "") for n in notes])
    except Declined:
        if collecting:
            gc.enable()
        errors.discard()
        bulk.close()
        store.abort_version(scratch)
        lock.release()
        scan.done()
        batch.delete()
        return None
    except ImportRefused as exc:
        errors.discard()
        batch.status = BatchStatus.FAILED
        batch.message = str(exc)
    except (DatabaseError, duckdb.Error, OSError) as exc:
        errors.discard()
        batch.status = BatchStatus.FAILED
        batch.message = f"写入失败, 数据未变: {exc}"
    except Exception as exc:
        # A bug, not a bad file: recorded like any failure, then raised so it is seen and fixed.
        errors.discard()
        batch.status = BatchStatus.FAILED
        batch.message = f"导入程序出错, 数据未变: {exc.__class__.__name__}: {exc}"
        unexpected = exc
    finally:
        if collecting:
            gc.enable()
        if bulk is not None:
            bulk.close()
        store.abort_version(scratch)
        lock.release()
    if not batch.file_sha256:
        try:
            batch.file_sha256 = scan.done().sha256
        except ImportRefused:
            pass
    batch.finished_at = timezone.now()
    with transaction.atomic():
        batch.save()
        if bulk is not None and bulk.changes and batch.status == BatchStatus.DONE:
            ImportChange.objects.bulk_create(
                [
                    ImportChange(batch=batch, key=key[:255], row=row, changes=changes)
                    for row, key, changes in bulk.changes
                ],
                batch_size=1000,
            )
        audit_record(
            actor=actor,
            actor_name=actor_name,
            action=AuditAction.IMPORT,
            obj=batch,
            unit=batch.unit,
            details={
                "kind": kind,
                "file": batch.file_name,
                "sha256": batch.file_sha256,
                "profile": "",
                "status": batch.status,
                "dry_run": dry_run,
                "strict": strict,
                "rows_read": batch.rows_read,
                "created": batch.created,
                "updated": batch.updated,
                "unchanged": batch.unchanged,
                "rejected": batch.rejected,
                "errors_file": batch.errors_file,
            },
        )
    if unexpected is not None:
        raise unexpected
    return batch
