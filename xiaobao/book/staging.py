"""Staging an import into the Parquet store: validated rows in, one new table version out.

An import never edits a version in place. It:

1. takes the table's writer lock (an flock on `<table>/.lock`, released by the kernel even on
   kill -9) and removes what killed writers left behind (store.cleanup_scratch);
2. appends its validated rows, a batch at a time, to a scratch directory: `part-*.parquet` in the
   table's own schema (personal values already sealed, tokenised and masked: no plain personal data
   ever touches the disk, not even in scratch) and, in lockstep, `rows-*.parquet` with each row's
   number in the file and its key;
3. at the end computes, with DuckDB over the Parquet files, the new version = (current rows whose key
   is not in the file) ∪ (the file's rows), classifies every file row as created, updated or
   unchanged, writes the version to another scratch directory and commits it with
   store.commit_version (one atomic rename of CURRENT).

Crash safety: until the rename, CURRENT names the previous complete version; a killed import
leaves only scratch directories, which the next import removes. Idempotency: an unchanged row keeps
its stored values, its ciphertexts and its `_batch`; an import that changes nothing writes no
version at all, so importing the same file again leaves CURRENT where it was.

Columns the file does not supply keep their stored values (an update never blanks a column the
file did not mention). Changes are compared on every supplied column except `_batch`; personal
columns compare by token, since two encryptions of one value differ.
"""

import fcntl
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaobao.book import personal, store
from xiaobao.book.schema import KEYS, PERSONAL, SCHEMAS
from xiaobao.book.sealer import StageWriter, pack
from xiaobao.privacy.keys import system_key

COMPRESSION = "zstd"  # of committed versions; tests switch it off to search the bytes for plain text
ROW_GROUP_ROWS = 256 * 1024
DUCKDB_MEMORY = "1500MB"  # DuckDB spills to the scratch directory beyond this
CHANGE_LOG_LIMIT = 10_000  # updated records whose old → new values go to the change table


def duck(scratch: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A private DuckDB for one import or one query: bounded memory, spilling to `scratch`."""
    con = duckdb.connect(config={"threads": min(os.cpu_count() or 2, 4), "memory_limit": DUCKDB_MEMORY})
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = false")
    if scratch is not None:
        con.execute(f"SET temp_directory = '{scratch / 'duckdb.tmp'}'")
    return con


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parquet_source(table: str, version: str | None = None) -> str:
    """`read_parquet(...)` of a table version, or an empty relation in the table's schema. A version
    written before a column was added to the schema reads as the whole schema, in its order, with
    the missing columns NULL: every reader sees one shape whatever the version's age."""
    glob = store.parquet_glob(table, version)
    if glob is None:
        columns = ", ".join(f"NULL::{duck_type(f.type)} AS {quoted(f.name)}" for f in SCHEMAS[table])
        return f"(SELECT {columns} LIMIT 0)"
    missing = set(store.missing_columns(table, version))
    if not missing:
        return f"read_parquet('{glob}')"
    columns = ", ".join(
        f"NULL::{duck_type(f.type)} AS {quoted(f.name)}" if f.name in missing else quoted(f.name)
        for f in SCHEMAS[table]
    )
    return f"(SELECT {columns} FROM read_parquet('{glob}'))"


def duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_string(arrow_type):
        return "VARCHAR"
    if pa.types.is_binary(arrow_type):
        return "BLOB"
    if pa.types.is_date32(arrow_type):
        return "DATE"
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_int32(arrow_type):
        return "INTEGER"
    if pa.types.is_int64(arrow_type):
        return "BIGINT"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    raise TypeError(arrow_type)


class TableLock:
    """The one-writer-per-table lock. flock: released by the kernel when the process dies."""

    def __init__(self, table: str) -> None:
        folder = store.table_dir(table)
        folder.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.release()


@dataclass
class Outcome:
    """What finishing a stage did: counts by record, the version written (None: nothing changed or
    not committed) and the first CHANGE_LOG_LIMIT updates as (row, key, {column: [old, new]})."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    version: str | None = None
    changes: list[tuple[int, str, dict[str, list[Any]]]] = field(default_factory=list)
    of_rows: dict[int, str] = field(default_factory=dict)  # outcome of the rows asked about


# Columns with few distinct values, worth Parquet dictionary encoding; ciphertexts and tokens are
# random and neither dictionary-encoded nor compressed.
DICTIONARY_COLUMNS = {
    "org_code",
    "channel",
    "product_code",
    "product_name",
    "product_type",
    "agent_code",
    "payment_mode",
    "status",
    "apply_channel",
    "decision",
    "reason",
    "_batch",
}


def parquet_options(schema: pa.Schema) -> dict[str, Any]:
    random = [f.name for f in schema if f.name.endswith(("_enc", "_token"))]
    compression = {f.name: ("NONE" if f.name in random else COMPRESSION) for f in schema}
    if COMPRESSION.lower() in ("none", "uncompressed"):
        compression = dict.fromkeys(compression, "NONE")
    return {
        "compression": compression,
        "use_dictionary": [f.name for f in schema if f.name in DICTIONARY_COLUMNS],
        # min/max of ciphertexts, tokens and masks help no query and cost time
        "write_statistics": [f.name for f in schema if not f.name.endswith(("_enc", "_token", "_masked"))],
    }


def supplied_columns(table: str, names: Iterable[str]) -> set[str]:
    """The stored columns a file supplies when it has the format columns `names` (a personal column
    supplies its three stored columns)."""
    stored = set(SCHEMAS[table].names)
    out = set()
    for name in names:
        if name in PERSONAL[table]:
            out |= {f"{name}_enc", f"{name}_token", f"{name}_masked"}
        elif name in stored:
            out.add(name)
    return out


SEALERS = 2  # child processes sealing and writing for the bulk pass, one per core of a small server


class SealerProcess:
    """One `python -m xiaobao.book.sealer` child and the Arrow IPC stream to its stdin."""

    def __init__(self, log: Path, **header: Any) -> None:
        self.log = log  # a file, not a pipe: a full pipe would block the child
        with log.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "xiaobao.book.sealer"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self.process.stdin.write(json.dumps(header).encode() + b"\n")
        self.stream: pa.ipc.RecordBatchStreamWriter | None = None

    def send(self, batch: pa.RecordBatch) -> None:
        try:
            if self.stream is None:
                self.stream = pa.ipc.new_stream(self.process.stdin, batch.schema)
            self.stream.write_batch(batch)
        except (BrokenPipeError, OSError):
            raise self.failure() from None

    def finish(self) -> None:
        try:
            if self.stream is not None:
                self.stream.close()
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            raise self.failure() from None
        out = self.process.stdout.read()
        if self.process.wait() != 0 or not out.startswith(b"ok"):
            raise self.failure()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def failure(self) -> RuntimeError:
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
        lines = self.log.read_text(errors="replace").strip().splitlines()
        return RuntimeError(
            f"写入暂存文件的进程出错 (退出码 {self.process.returncode}): {lines[-1] if lines else ''}"
        )


class Stage:
    """The rows of one import on their way to a new version (see the module docstring).

    Rows are tokenised, masked, sealed and written by a StageWriter, in a thread or, with
    `process=True`, in child processes (xiaobao.book.sealer), which let the Python part of
    tokenising run on other cores beside the caller's Python work instead of taking turns for the GIL.
    """

    def __init__(
        self,
        table: str,
        *,
        batch_id: int,
        supplied: Iterable[str],
        lock: TableLock | None = None,
        process: bool = False,
    ) -> None:
        """`lock`: the table's lock when the caller already holds it (and has cleaned up)."""
        self.table = table
        self.schema = SCHEMAS[table]
        self.key = KEYS[table]
        self.batch_id = batch_id
        self.supplied = supplied_columns(table, supplied) | set(self.key)
        self._own_lock = lock is None
        self.lock = lock or TableLock(table)
        self.cleaned = store.cleanup_scratch(table) if lock is None else 0
        self.dir = store.begin_version(table)  # part-*.parquet: may become the version as it is
        self.side = store.begin_version(table)  # rows-*.parquet, DuckDB's spill files
        self.con = duck(self.side)
        # Read here: neither writer opens a database connection.
        store_key, token_key = personal.store_key(), system_key("token")
        self.count = 0
        self._closed = False
        self._classified = False
        self._failure: BaseException | None = None
        self._batches = 0
        self._children: list[SealerProcess] = []
        if process:
            for i in range(SEALERS):
                self._children.append(
                    SealerProcess(
                        self.side / f"sealer-{i}.log",
                        table=table,
                        batch=batch_id,
                        key=store_key.hex(),
                        token_key=token_key.hex(),
                        data=str(self.dir / f"part-{i}.parquet"),
                        rows=str(self.side / f"rows-{i}.parquet"),
                    )
                )
            return
        data, rows = self.dir / "part-0.parquet", self.side / "rows-0.parquet"
        self._writer = StageWriter(
            table=table, batch_id=batch_id, store_key=store_key, token_key=token_key, data=data, rows=rows
        )
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._drain, name=f"book-stage-{table}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ adding rows

    def add(self, rows: pa.Array, values: dict[str, pa.Array], plain: pa.Table | None) -> None:
        """Append rows: their numbers in the file, their typed columns by name (any subset of the
        schema's plain columns, missing ones are NULL) and their plain personal values (one column
        per personal column supplied, which the writer tokenises, masks and seals)."""
        if self._failure is not None:
            raise self._failure
        n = len(rows)
        if n == 0:
            return
        keys = self._key_text(values)
        plains: dict[str, pa.Array] = {}
        if plain is not None:
            plains = {name: plain.column(name).combine_chunks() for name in plain.column_names}
        if self._children:
            # Round robin: each child seals and writes every SEALERS-th batch into its own files.
            child = self._children[self._batches % len(self._children)]
            child.send(pack(rows, values, plains, keys, self.schema))
        else:
            self._queue.put((rows, values, plains, keys))
        self._batches += 1
        self.count += n

    def _key_text(self, values: dict[str, pa.Array]) -> pa.Array:
        parts = [pc.cast(values[k], pa.string()) for k in self.key]
        if len(parts) == 1:
            return parts[0]
        return pc.binary_join_element_wise(*parts, "|")

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._failure is None:
                try:
                    self._writer.write(*item)
                except BaseException as exc:  # re-raised in the caller's thread
                    self._failure = exc

    # ------------------------------------------------------------ finishing

    def _close_writers(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._children:
            for child in self._children:
                child.finish()
            return
        self._queue.put(None)
        self._thread.join()
        self._writer.close()
        if self._failure is not None:
            raise self._failure

    def finish(
        self,
        *,
        commit: bool,
        drop_rows: Iterable[int] = (),
        log_changes: bool = False,
        outcome_rows: Iterable[int] = (),
    ) -> Outcome:
        """Classify the staged rows against the current version and, when `commit` and anything
        changed, write and commit the new version. `drop_rows`: row numbers rejected after staging
        (a referential check, a conflict between rows sharing a key); rows never staged are ignored.
        `outcome_rows`: rows whose own outcome the caller needs (the kept row of a record merged
        from several)."""
        self._close_writers()
        try:
            outcome = self._finish(commit=commit, drop=sorted(set(drop_rows)), log_changes=log_changes)
            wanted = sorted(set(outcome_rows))
            if wanted and self._classified:
                self.con.register("_book_wanted", pa.table({"_row": pa.array(wanted, pa.int64())}))
                found = self.con.sql(
                    "SELECT _row, CASE WHEN created THEN 'created' WHEN changed THEN 'updated' "
                    "ELSE 'unchanged' END FROM cls JOIN _book_wanted USING (_row)"
                ).fetchall()
                outcome.of_rows = dict(found)
            elif wanted:
                outcome.of_rows = dict.fromkeys(wanted, "created")
            return outcome
        finally:
            self.abort()

    def abort(self) -> None:
        if self._children and not self._closed:
            self._closed = True
            for child in self._children:
                child.kill()  # nothing they wrote will be used
        try:
            self._close_writers()
        except BaseException:  # noqa: S110 - aborting anyway; the caller has the error that led here
            pass
        self.con.close()
        store.abort_version(self.side)
        if self.dir.exists():
            store.abort_version(self.dir)
        if self._own_lock:
            self.lock.release()

    def rows_sql(self) -> str:
        """The staged rows' numbers and keys only (`_row` and the key columns): cheaper to scan than
        staged_sql() when nothing else is needed."""
        self._close_writers()
        return f"read_parquet('{self.side / 'rows-*.parquet'}')"

    def staged_sql(self, drop: list[int] = ()) -> str:
        """The staged rows (table columns plus `_row`), without the dropped ones, as a subquery.
        Readable once add() is over (the writers are closed on first use)."""
        self._close_writers()
        # part-i.parquet and rows-i.parquet were written in lockstep by writer i.
        data = f"read_parquet('{self.dir / 'part-*.parquet'}', file_row_number = true, filename = true)"
        rows = f"read_parquet('{self.side / 'rows-*.parquet'}', file_row_number = true, filename = true)"
        on = (
            "d.file_row_number = r.file_row_number AND "
            "regexp_extract(d.filename, 'part-([0-9]+)', 1) = regexp_extract(r.filename, 'rows-([0-9]+)', 1)"
        )
        where = ""
        if drop:
            self.con.register("_book_drop", pa.table({"_row": pa.array(drop, pa.int64())}))
            where = "WHERE r._row NOT IN (SELECT _row FROM _book_drop)"
        return f"(SELECT d.* EXCLUDE (file_row_number, filename), r._row FROM {data} d JOIN {rows} r ON {on} {where})"

    def _finish(self, *, commit: bool, drop: list[int], log_changes: bool) -> Outcome:
        outcome = Outcome()
        current = store.current_version(self.table)
        con = self.con
        staged = self.staged_sql(drop)
        if current is None:
            outcome.created = self.count
            if drop:
                # Only the staged ones count: a record is dropped whole, with its rows that Python
                # refused before staging (a bad cell beside a good row of the same key).
                outcome.created -= con.sql(
                    f"SELECT count(*) FROM {self.rows_sql()} WHERE _row IN (SELECT _row FROM _book_drop)"
                ).fetchall()[0][0]
            if commit and outcome.created:
                if drop:
                    outcome.version = self._write_version(f"SELECT * EXCLUDE (_row) FROM {staged}")
                else:
                    # Nothing to merge with: the staged file already is the version.
                    store.abort_version(self.side)
                    outcome.version = store.commit_version(self.table, self.dir)
            return outcome

        cur = parquet_source(self.table, current)
        on = " AND ".join(f"s.{quoted(k)} = c.{quoted(k)}" for k in self.key)
        found = f"c.{quoted(self.key[0])} IS NOT NULL"
        changed = self._changed_sql()
        con.execute(
            f"CREATE TEMP TABLE cls AS SELECT s._row, {', '.join('s.' + quoted(k) for k in self.key)}, "
            f"NOT ({found}) AS created, ({found}) AND ({changed}) AS changed "
            f"FROM {staged} s LEFT JOIN {cur} c ON {on}"
        )
        created, updated, total = con.sql(
            "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE changed), count(*) FROM cls"
        ).fetchall()[0]
        self._classified = True
        outcome.created, outcome.updated = created, updated
        outcome.unchanged = total - created - updated
        if log_changes and updated:
            outcome.changes = self._changes(staged, cur, on)
        if commit and (created or updated):
            merged = ", ".join(self._merged_sql(column, found, changed) for column in self.schema.names)
            anti = " AND ".join(f"c.{quoted(k)} = s.{quoted(k)}" for k in self.key)
            outcome.version = self._write_version(
                f"SELECT c.* FROM {cur} c WHERE NOT EXISTS (SELECT 1 FROM {staged} s WHERE {anti}) "
                f"UNION ALL SELECT {merged} FROM {staged} s LEFT JOIN {cur} c ON {on}"
            )
        return outcome

    def _compared(self) -> list[str]:
        """Stored columns whose difference makes an update: supplied, not the key, not `_batch`, and
        for personal columns the token only."""
        names = []
        for name in self.schema.names:
            if name in self.key or name == "_batch" or name not in self.supplied:
                continue
            if name.endswith(("_enc", "_masked")) and name.rsplit("_", 1)[0] in PERSONAL[self.table]:
                continue
            names.append(name)
        return names

    def _changed_sql(self) -> str:
        terms = [f"s.{quoted(n)} IS DISTINCT FROM c.{quoted(n)}" for n in self._compared()]
        return " OR ".join(terms) if terms else "false"

    def _merged_sql(self, column: str, found: str, changed: str) -> str:
        q = quoted(column)
        if column in self.key:
            return f"s.{q}"
        if column == "_batch":
            return f"CASE WHEN NOT ({found}) OR ({changed}) THEN {self.batch_id}::BIGINT ELSE c._batch END AS _batch"
        if column not in self.supplied:
            return f"c.{q}"
        base = column.removesuffix("_enc")
        if column.endswith("_enc") and base in PERSONAL[self.table]:
            token = quoted(f"{base}_token")
            # Same person as stored: keep the stored ciphertext, so an unchanged row stays byte-identical.
            return f"CASE WHEN {found} AND s.{token} IS NOT DISTINCT FROM c.{token} THEN c.{q} ELSE s.{q} END AS {q}"
        return f"s.{q}"

    def _changes(self, staged: str, cur: str, on: str) -> list[tuple[int, str, dict[str, list[Any]]]]:
        """old → new of the first CHANGE_LOG_LIMIT updated records (personal values masked), as the
        framework's change recorder writes them."""
        from xiaobao.imports.services import _jsonable

        shown = []
        for name in self._compared():
            base = name.removesuffix("_token")
            if name.endswith("_token") and base in PERSONAL[self.table]:
                shown.append((base, name, f"{base}_masked"))
            else:
                shown.append((name, name, name))
        selects = ", ".join(
            f"s.{quoted(cmp)} IS DISTINCT FROM c.{quoted(cmp)}, c.{quoted(disp)}, s.{quoted(disp)}"
            for _, cmp, disp in shown
        )
        # As text, as key_text prints them: a list of a text and a date has no type in DuckDB.
        keys = ", ".join(f"CAST(s.{quoted(k)} AS VARCHAR)" for k in self.key)
        rows = self.con.sql(
            f"SELECT s._row, [{keys}], {selects} FROM {staged} s JOIN {cur} c ON {on} "
            f"JOIN cls USING (_row) WHERE cls.changed ORDER BY s._row LIMIT {CHANGE_LOG_LIMIT}"
        ).fetchall()
        out = []
        for row, key, *triples in rows:
            changes = {}
            for i, (label, _, _) in enumerate(shown):
                differs, old, new = triples[3 * i : 3 * i + 3]
                if differs:
                    changes[label] = [_jsonable(old), _jsonable(new)]
            out.append((row, personal.key_text(key), changes))
        return out

    def _write_version(self, query: str) -> str:
        """Write `query` as the table's next version (exact schema, row groups of ROW_GROUP_ROWS)."""
        target = store.begin_version(self.table)
        try:
            reader = self.con.sql(query).to_arrow_reader(ROW_GROUP_ROWS)
            with pq.ParquetWriter(
                target / "part-0.parquet", self.schema, **parquet_options(self.schema)
            ) as writer:
                for batch in reader:
                    writer.write_batch(
                        batch.select(self.schema.names).cast(self.schema), row_group_size=ROW_GROUP_ROWS
                    )
            return store.commit_version(self.table, target)
        except BaseException:
            store.abort_version(target)
            raise
