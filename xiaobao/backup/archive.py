"""Backup and restore of a whole installation: database, data folder (Parquet store, evidence, import
error files, reports) and, in demo mode, the keys.

The archive is a gzip'd tar, encrypted by xiaobao.backup.crypto, holding:

    database/xiaobao.sqlite3 | database/xiaobao.pgdump   the native dump
    data/<path>                                          every file of the data folder (see `_skip`)
    manifest.json                                        last: counts per table, sha256 of every file,
                                                         versions, created_at, vendor, what of the keys

Keys: in demo mode the master key lives in <data>/keys/field.key and goes into the archive with the
rest of keys/. When the master key comes from XIAOBAO_FIELD_KEY (production) it is NOT in the archive:
the manifest records only its fingerprint, and a restore refuses to run unless the same key is set.
The token and audit keys live in the database, wrapped by the master key, and travel with it.

Restore is all-or-nothing: the archive is decrypted, authenticated and extracted into a scratch folder
inside the data folder, every file is checked against the manifest, and only then is anything
replaced: the data-folder entries are moved aside and the restored ones moved in (rolled back on any
error), and the database is replaced last, in a single transaction.

Killed (kill -9) while decrypting or checking, a restore has changed nothing; killed during the swap
(a few renames) or between the swap and the database, the data folder is half swapped until the same
restore is rerun, which converges on the archive's state (both steps are whole-entry replacements and
the database restore is idempotent). Scratch folders are named after their process; the next backup or
restore removes those of processes that are gone. Stop the web server and the worker before a restore.
"""

import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import platform
import shutil
import tarfile
import uuid
from importlib import metadata
from pathlib import Path

import django
from django.conf import settings

from xiaobao.backup import database
from xiaobao.backup.crypto import BackupError, DecryptingReader, EncryptingWriter

MANIFEST = "manifest.json"
ARCHIVE_FORMAT = 1
SCRATCH_PREFIXES = (".tmp-", ".backup-", ".restore-")
# Regenerated on demand (collectstatic), not data.
SKIP_TOP = {"static"}
MAIN_TABLES = {
    "units": "org.Unit",
    "users": "accounts.User",
    "customers": "customers.Customer",
    "cases": "cases.Case",
    "case_events": "cases.CaseEvent",
    "evidence": "cases.Evidence",
    "audit_entries": "audit.AuditEntry",
}


def _data_dir() -> Path:
    return Path(settings.DATA_DIR).resolve()


def _key_from_env() -> bool:
    return bool(settings.FIELD_KEY)


def _master_key_id() -> str | None:
    from xiaobao.privacy import keys

    if not _key_from_env() and not Path(settings.FIELD_KEY_FILE).exists():
        return None  # nothing encrypted yet; do not create a key just to fingerprint it
    return keys.key_id(keys.master_key())


def _skip(rel: Path, extra: set[Path]) -> bool:
    parts = rel.parts
    if any(p.startswith(SCRATCH_PREFIXES) for p in parts) or parts[0] in SKIP_TOP:
        return True
    if rel in extra:
        return True
    if _key_from_env() and rel == Path("keys") / "field.key":
        return True  # a stale file beside the key in use; the key in use is never archived
    return False


def _excluded_files(also: list[Path]) -> set[Path]:
    """The live SQLite file (and its journals), and the archive being written: relative to the data dir."""
    data = _data_dir()
    paths = list(also)
    live = database.sqlite_path()
    if live:
        paths += [live, Path(f"{live}-wal"), Path(f"{live}-shm"), Path(f"{live}-journal")]
    out = set()
    for p in paths:
        try:
            out.add(p.resolve().relative_to(data))
        except ValueError:
            pass
    return out


def data_files(also_exclude: list[Path] = ()) -> list[Path]:
    """Every regular file of the data folder that a backup covers, relative to it, sorted."""
    data = _data_dir()
    extra = _excluded_files(list(also_exclude))
    found = []
    for root, dirs, files in os.walk(data):
        here = Path(root).relative_to(data)
        dirs[:] = sorted(d for d in dirs if not _skip(here / d, extra))
        for name in sorted(files):
            rel = here / name
            if not _skip(rel, extra) and (data / rel).is_file() and not (data / rel).is_symlink():
                found.append(rel)
    return found


class _Hashing(io.RawIOBase):
    """Reads a file for tarfile while hashing exactly the bytes that go into the archive."""

    def __init__(self, fh):
        self._fh = fh
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size=-1) -> bytes:
        data = self._fh.read(size)
        self.sha.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> dict:
    info = tar.gettarinfo(str(path), arcname=arcname)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with open(path, "rb") as fh:
        hashing = _Hashing(fh)
        tar.addfile(info, hashing)
    return {"sha256": hashing.sha.hexdigest(), "size": info.size}


def _add_bytes(tar: tarfile.TarFile, data: bytes, arcname: str) -> None:
    info = tarfile.TarInfo(arcname)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(dt.datetime.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _scratch(data: Path, prefix: str) -> Path:
    """A private scratch folder in the data folder, named after this process. Those of processes that
    are gone (a backup or restore killed midway) are removed first: they are never backed up nor
    restored, and a rerun of the interrupted command starts clean."""
    for stale in data.glob(f"{prefix}*"):
        try:
            pid = int(stale.name[len(prefix) :].split("-")[0])
        except ValueError:
            continue
        if stale.is_dir() and not _alive(pid):
            shutil.rmtree(stale, ignore_errors=True)
    folder = data / f"{prefix}{os.getpid()}-{uuid.uuid4().hex}"
    folder.mkdir(mode=0o700)
    return folder


def create_backup(output: Path, passphrase: str) -> dict:
    """Write the encrypted archive to `output` atomically (temp file + rename); returns the manifest."""
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    data = _data_dir()
    data.mkdir(parents=True, exist_ok=True)
    temp = output.parent / f".{output.name}.tmp-{uuid.uuid4().hex}"
    staging = _scratch(data, ".backup-")
    try:
        dump = staging / database.dump_name()
        counts = database.dump(dump)
        manifest = {
            "format": ARCHIVE_FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "versions": {
                "xiaobao": _version("xiaobao"),
                "django": django.get_version(),
                "python": platform.python_version(),
            },
            "database": {"vendor": database.vendor(), "file": f"database/{dump.name}", "tables": counts},
            "keys": {
                "included": not _key_from_env(),
                "master_key_id": _master_key_id(),
                "note": (
                    "主密钥来自 XIAOBAO_FIELD_KEY, 未包含在备份中; 恢复时必须设置同一密钥"
                    if _key_from_env()
                    else "演示模式: 主密钥 (keys/field.key) 已包含在备份中"
                ),
            },
            "files": {},
        }
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw:
            writer = EncryptingWriter(raw, passphrase)
            with tarfile.open(fileobj=writer, mode="w|gz", format=tarfile.PAX_FORMAT) as tar:
                manifest["files"][f"database/{dump.name}"] = _add_file(tar, dump, f"database/{dump.name}")
                for rel in data_files(also_exclude=[output, temp]):
                    arcname = f"data/{rel.as_posix()}"
                    manifest["files"][arcname] = _add_file(tar, data / rel, arcname)
                _add_bytes(tar, json.dumps(manifest, ensure_ascii=False, indent=1).encode(), MANIFEST)
            writer.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp, output)
        _fsync_dir(output.parent)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if temp.exists():
            temp.unlink()


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _extract(archive: Path, passphrase: str, target: Path) -> dict:
    """Decrypt, authenticate and unpack into `target`; check every file against the manifest."""
    with open(archive, "rb") as raw:
        reader = DecryptingReader(raw, passphrase)
        try:
            with tarfile.open(fileobj=reader, mode="r|gz") as tar:
                for member in tar:
                    if not (member.isfile() or member.isdir()):
                        raise BackupError(f"备份中含有不允许的条目类型: {member.name}")
                    tar.extract(member, target, filter="data")
            reader.drain()
        except (tarfile.TarError, EOFError, ValueError) as exc:
            raise BackupError(f"备份文件已损坏, 无法解包: {exc}") from None
        except OSError as exc:  # e.g. the disk is full: the archive may be fine
            raise BackupError(f"无法解包备份 (请检查数据目录所在磁盘的空间与权限): {exc}") from None
    try:
        manifest = json.loads((target / MANIFEST).read_text())
    except (OSError, ValueError):
        raise BackupError("备份中缺少有效的清单 (manifest.json)") from None
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise BackupError(f"不支持的备份内容版本 {manifest.get('format')!r}")
    listed = set(manifest["files"])
    present = {
        p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file() and p.name != MANIFEST
    } - {MANIFEST}
    if listed != present:
        raise BackupError(
            f"备份内容与清单不符: 多出 {sorted(present - listed)[:5]}, 缺少 {sorted(listed - present)[:5]}"
        )
    for name, entry in manifest["files"].items():
        path = target / name
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise BackupError(f"备份中的文件校验失败: {name}")
    return manifest


def _check_compatible(manifest: dict) -> None:
    theirs, ours = manifest["database"]["vendor"], database.vendor()
    if theirs != ours:
        raise BackupError(
            f"该备份来自 {theirs} 数据库, 当前配置的是 {ours}: 不能跨数据库类型恢复 "
            "(请在相同类型的数据库上恢复)"
        )
    keys = manifest["keys"]
    if not keys["included"]:
        if not _key_from_env():
            raise BackupError(
                "该备份不含主密钥 (备份时主密钥来自 XIAOBAO_FIELD_KEY): 请先设置备份时所用的 XIAOBAO_FIELD_KEY 再恢复"
            )
        ours_id = _master_key_id()
        if keys["master_key_id"] and ours_id != keys["master_key_id"]:
            raise BackupError(
                f"当前 XIAOBAO_FIELD_KEY 与备份时的主密钥不一致 (密钥指纹 {ours_id} ≠ {keys['master_key_id']}): "
                "请设置备份时所用的主密钥再恢复"
            )


def _top_entries(folder: Path) -> set[str]:
    if not folder.exists():
        return set()
    return {
        p.name
        for p in folder.iterdir()
        if not p.name.startswith(SCRATCH_PREFIXES)
        and p.name not in SKIP_TOP
        and not (folder / p.name).is_symlink()
    }


def restore_backup(archive: Path, passphrase: str) -> dict:
    """Replace database and data folder with the archive's, all or nothing; returns a summary."""
    archive = Path(archive).resolve()
    if not archive.is_file():
        raise BackupError(f"备份文件不存在: {archive}")
    data = _data_dir()
    data.mkdir(parents=True, exist_ok=True)
    lock = open(data / ".restore-lock", "w")  # noqa: SIM115 (held for the whole restore)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise BackupError("另一个恢复正在进行中, 请等待其结束") from None
    try:
        return _restore(archive, passphrase, data)
    finally:
        lock.close()


def _restore(archive: Path, passphrase: str, data: Path) -> dict:
    work = _scratch(data, ".restore-")
    unpacked, aside = work / "new", work / "old"
    unpacked.mkdir(mode=0o700)
    aside.mkdir()
    try:
        manifest = _extract(archive, passphrase, unpacked)
        _check_compatible(manifest)
        dump = unpacked / manifest["database"]["file"]
        database.check_dump(dump)
        restored = unpacked / "data"
        restored.mkdir(exist_ok=True)
        keep_key = _key_from_env() or not manifest["keys"]["included"]
        live_key = Path(settings.FIELD_KEY_FILE)
        if keep_key and live_key.is_file():  # the key in use is not the archive's business
            (restored / "keys").mkdir(exist_ok=True)
            shutil.copy2(live_key, restored / "keys" / live_key.name)
        # Never touch the live SQLite file (and its journals) by moving: it is replaced through SQLite.
        # Nor the folder holding the archive itself, should it sit inside the data folder.
        protected = {p.parts[0] for p in _excluded_files([archive])}
        moved_out: list[str] = []
        moved_in: list[str] = []
        try:
            for name in sorted(_top_entries(data) - protected):
                os.replace(data / name, aside / name)
                moved_out.append(name)
            for name in sorted(_top_entries(restored)):
                os.replace(restored / name, data / name)
                moved_in.append(name)
            database.restore(dump)
        except BaseException:
            for name in reversed(moved_in):
                os.replace(data / name, restored / name)
            for name in reversed(moved_out):
                os.replace(aside / name, data / name)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _summary(manifest)


def _summary(manifest: dict) -> dict:
    from django.apps import apps

    from xiaobao.privacy import keys

    keys.clear_caches()
    live = database.counts()
    expected = manifest["database"]["tables"]
    mismatched = {t: {"backup": n, "restored": live.get(t)} for t, n in expected.items() if live.get(t) != n}
    main = {}
    for label, model in MAIN_TABLES.items():
        try:
            main[label] = live.get(apps.get_model(model)._meta.db_table)
        except LookupError:
            continue
    files = [f for f in manifest["files"] if f.startswith("data/")]
    return {
        "restored": True,
        "backup_created_at": manifest["created_at"],
        "database": manifest["database"]["vendor"],
        "counts": main,
        "tables": len(expected),
        "tables_mismatched": mismatched,
        "files_restored": len(files),
        "bytes_restored": sum(manifest["files"][f]["size"] for f in files),
        "keys_included": manifest["keys"]["included"],
    }
