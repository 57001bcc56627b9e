"""Native, byte-exact database dumps: the sqlite3 online backup API, or pg_dump/pg_restore.

A DB-agnostic dump (dumpdata/loaddata) is not used on purpose: the audit chain's HMACs, its sequence
numbers and the append-only triggers must come back exactly as they were.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

from xiaobao.backup.crypto import BackupError


def vendor() -> str:
    return connection.vendor


def dump_name() -> str:
    return "xiaobao.sqlite3" if vendor() == "sqlite" else "xiaobao.pgdump"


def sqlite_path() -> Path | None:
    if vendor() != "sqlite":
        return None
    return Path(connection.settings_dict["NAME"]).resolve()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_counts(con: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: con.execute(f"SELECT count(*) FROM {_quote(n)}").fetchone()[0] for n in sorted(names)}


def _pg_env() -> tuple[list[str], dict[str, str]]:
    s = connection.settings_dict
    args = ["--dbname", s["NAME"]]
    if s.get("HOST"):
        args += ["--host", str(s["HOST"])]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", str(s["USER"])]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"未找到 {name}: PostgreSQL 的备份与恢复需要安装 PostgreSQL 客户端工具")
    return path


def dump(target: Path) -> dict[str, int]:
    """A consistent copy of the whole database into `target`; returns the row count of every table."""
    connection.close()
    if vendor() == "sqlite":
        source = sqlite3.connect(sqlite_path())
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # one step: a consistent snapshot even while others write
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            counts = _sqlite_counts(copy)
        finally:
            copy.close()
            source.close()
        return counts
    if vendor() != "postgresql":
        raise BackupError(f"不支持的数据库类型 {vendor()}: 仅支持 SQLite 与 PostgreSQL")
    # One exported snapshot for the counts and for pg_dump, so both describe the same moment.
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        with raw.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cur.fetchone()
            cur.execute(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename), tablename "
                "FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            )
            counts = {}
            for qualified, name in cur.fetchall():
                cur.execute(f"SELECT count(*) FROM {qualified}")
                counts[name] = cur.fetchone()[0]
            args, env = _pg_env()
            result = subprocess.run(
                [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--file", str(target), *args],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_dump 失败: {result.stderr.strip()[-2000:]}")
    finally:
        raw.rollback()
        raw.close()
    return counts


def restore(source: Path) -> None:
    """Replace the whole database with the dump, in one transaction: it all lands or nothing does."""
    connection.close()
    if vendor() == "sqlite":
        src = sqlite3.connect(source)
        live = sqlite3.connect(sqlite_path(), timeout=30)
        try:
            src.backup(live)  # a single write transaction on the live file
        except sqlite3.Error as exc:
            raise BackupError(f"恢复 SQLite 数据库失败: {exc}") from exc
        finally:
            live.close()
            src.close()
        return
    args, env = _pg_env()
    result = subprocess.run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(source),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore 失败, 数据库未改变: {result.stderr.strip()[-2000:]}")


def check_dump(source: Path) -> None:
    """A cheap check that the extracted dump is what the manifest says, before anything is touched."""
    if vendor() == "sqlite":
        con = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            (status,) = con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
        if status != "ok":
            raise BackupError(f"备份中的数据库文件损坏: {status}")
    else:
        result = subprocess.run([_tool("pg_restore"), "--list", str(source)], capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"备份中的数据库转储无法读取: {result.stderr.strip()[-500:]}")


def counts() -> dict[str, int]:
    """Row counts of every table of the live database."""
    tables = connection.introspection.table_names()
    with connection.cursor() as cur:
        out = {}
        for name in sorted(tables):
            cur.execute(f"SELECT count(*) FROM {connection.ops.quote_name(name)}")
            out[name] = cur.fetchone()[0]
    return out
