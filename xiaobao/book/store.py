"""The Parquet store: one directory per table, immutable versions, and an atomically swapped pointer.

<data dir>/store/<table>/v000012/part-0.parquet ...   one complete version of the table
<data dir>/store/<table>/CURRENT                      the name of the version readers use

A writer builds a whole new version in a temporary directory, renames it into place, then replaces
CURRENT with os.replace (atomic on POSIX). A crash at any moment (kill -9 included) leaves CURRENT on
the previous complete version, so readers never see a half-written table and the import can simply be
rerun. Old versions stay until nothing (no snapshot) refers to them, which lets a report reproduce the
figures of a frozen period after newer imports.
"""

import os
import re
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from xiaobao.book.schema import SCHEMAS

VERSION_RE = re.compile(r"^v(\d{6})$")


def store_root() -> Path:
    return Path(settings.DATA_DIR) / "store"


def table_dir(table: str) -> Path:
    if table not in SCHEMAS:
        raise KeyError(f"unknown table {table!r}")
    return store_root() / table


def current_version(table: str) -> str | None:
    pointer = table_dir(table) / "CURRENT"
    try:
        return pointer.read_text().strip() or None
    except FileNotFoundError:
        return None


def version_dir(table: str, version: str | None = None) -> Path | None:
    version = version or current_version(table)
    return table_dir(table) / version if version else None


def parquet_glob(table: str, version: str | None = None) -> str | None:
    """The glob DuckDB/Ibis/Spark read for a table version, or None while the table is empty."""
    folder = version_dir(table, version)
    return str(folder / "*.parquet") if folder else None


def missing_columns(table: str, version: str | None = None) -> list[str]:
    """Columns of the table's schema that a version's files lack: versions written before a column
    was added to SCHEMAS (surrenders.contact_address). Readers take them as NULL (see
    staging.parquet_source); the footers are read, not the data."""
    folder = version_dir(table, version)
    if folder is None:
        return []
    present: set[str] | None = None
    for part in sorted(folder.glob("*.parquet")):
        names = set(pq.read_schema(part).names)
        present = names if present is None else present & names
    if present is None:
        return []
    return [name for name in SCHEMAS[table].names if name not in present]


def versions(table: str) -> list[str]:
    folder = table_dir(table)
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if VERSION_RE.match(p.name))


def _next_version(table: str) -> str:
    existing = versions(table)
    number = int(existing[-1][1:]) + 1 if existing else 1
    return f"v{number:06d}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def begin_version(table: str) -> Path:
    """A fresh temporary directory for a writer to fill with part-*.parquet files."""
    scratch = table_dir(table) / f".tmp-{uuid.uuid4().hex}"
    scratch.mkdir(parents=True)
    return scratch


def commit_version(table: str, scratch: Path) -> str:
    """Make a fully written scratch directory the table's current version (atomic for readers)."""
    for part in scratch.glob("*.parquet"):
        with open(part, "rb") as fh:
            os.fsync(fh.fileno())
    version = _next_version(table)
    target = table_dir(table) / version
    scratch.rename(target)
    tmp_pointer = table_dir(table) / f".CURRENT-{uuid.uuid4().hex}"
    tmp_pointer.write_text(version)
    with open(tmp_pointer, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp_pointer, table_dir(table) / "CURRENT")
    _fsync_dir(table_dir(table))
    return version


def abort_version(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)


def write_table(table: str, data: pa.Table) -> str:
    """Replace a table with `data` (already in the table's schema) as a new version."""
    schema = SCHEMAS[table]
    data = data.select(schema.names).cast(schema)
    scratch = begin_version(table)
    try:
        pq.write_table(data, scratch / "part-0.parquet", compression="zstd")
        return commit_version(table, scratch)
    except BaseException:
        abort_version(scratch)
        raise


def cleanup_scratch(table: str) -> int:
    """Remove scratch directories and pointer files left by writers that were killed."""
    removed = 0
    folder = table_dir(table)
    if not folder.exists():
        return 0
    for path in folder.iterdir():
        if path.name.startswith(".tmp-"):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        elif path.name.startswith(".CURRENT-"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def empty_table(table: str) -> pa.Table:
    return SCHEMAS[table].empty_table()
