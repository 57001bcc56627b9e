"""The restore drill: back up, destroy, restore, then the counts, the KPIs and the audit chain agree.

`xiaobao backup` and `xiaobao restore` replace a whole database, which pytest's transactional test
database cannot host; so, as in xiaobao/book/tests/test_crash.py, they run as their own processes
(`python -m xiaobao ...`) on a throw-away data folder with its own database: a SQLite file in the
folder, or, when the suite runs on PostgreSQL (XIAOBAO_DATABASE_URL=postgres://...), a throw-away
database `xiaobao_backup_test_<pid>` created here and dropped afterwards. The demo is built once per
module; the tests share it and each leaves it as it found it.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from xiaobao.backup.crypto import DecryptingReader

TIMEOUT = 300
PASSPHRASE = "drill-passphrase-2024"


def _postgres_url() -> str | None:
    url = os.environ.get("XIAOBAO_DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _pg_admin(url: str, *args: str) -> None:
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    conn = [
        "-h",
        parts.hostname or "localhost",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    subprocess.run([args[0], *conn, *args[1:]], env=env, check=True, capture_output=True, timeout=60)


class Site:
    """A throw-away installation: data folder, database URL, and how to run `xiaobao` against it."""

    def __init__(self, data: Path, database_url: str):
        self.data = data
        self.database_url = database_url

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOBAO_")}
        env.update(XIAOBAO_DATA_DIR=str(self.data), XIAOBAO_DATABASE_URL=self.database_url)
        env.update(extra)
        return env

    def run(self, *args: str, passphrase: str | None = PASSPHRASE, check: bool = True, **extra):
        env = self.env(**extra)
        if passphrase is not None:
            env["XIAOBAO_BACKUP_PASSPHRASE"] = passphrase
        result = subprocess.run(
            [sys.executable, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        if check:
            assert result.returncode == 0, result.stderr[-3000:]
        return result

    def xiaobao(self, *args: str, **kw):
        return self.run("-m", "xiaobao", *args, **kw)

    def probe(self, action: str) -> dict:
        return json.loads(self.run("-m", "xiaobao.backup.tests.probe", action).stdout)

    def files(self) -> dict[str, str]:
        """sha256 of every file of the data folder but the live SQLite database."""
        out = {}
        for path in sorted(self.data.rglob("*")):
            rel = path.relative_to(self.data)
            if rel.parts[0].startswith((".restore-", ".backup-")):  # scratch and the restore lock
                continue
            if path.is_file() and not path.name.startswith("xiaobao.sqlite3"):
                out[str(path.relative_to(self.data))] = hashlib.sha256(path.read_bytes()).hexdigest()
        return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("backup")
    data = root / "data"
    data.mkdir()
    pg = _postgres_url()
    if pg:
        name = f"xiaobao_backup_test_{os.getpid()}"
        _pg_admin(pg, "dropdb", "--if-exists", "--force", name)
        _pg_admin(pg, "createdb", name)
        parts = urlsplit(pg)
        url = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        url = f"sqlite:///{data / 'xiaobao.sqlite3'}"
    s = Site(data, url)
    try:
        s.xiaobao("migrate", "--verbosity", "0")
        s.probe("build")
        # Evidence-like uploads and an import error file, so the data folder has each kind of file.
        (data / "media" / "evidence" / "2024" / "12").mkdir(parents=True, exist_ok=True)
        (data / "media" / "evidence" / "2024" / "12" / "整改佐证.pdf").write_bytes(b"%PDF-1.4 evidence\n")
        (data / "imports" / "errors").mkdir(parents=True, exist_ok=True)
        (data / "imports" / "errors" / "cases-errors.csv").write_text("row,error\n3,身份证号无效\n")
        s.archive = root / "site.xbb"
        s.summary = json.loads(s.xiaobao("backup", "-o", str(s.archive)).stdout)
        s.before = s.probe("facts")
        yield s
    finally:
        if pg:
            _pg_admin(pg, "dropdb", "--if-exists", "--force", name)


def _vendor() -> str:
    return "postgresql" if _postgres_url() else "sqlite"


def test_the_archive_is_encrypted_and_says_what_it_holds(site):
    raw = site.archive.read_bytes()
    assert raw.startswith(b"XBBACKUP")
    assert b"cases_case" not in raw and b"PAR1" not in raw and b"evidence" not in raw
    assert site.summary["database"] == _vendor()
    assert site.summary["keys_included"] is True
    assert site.summary["rows"] > 1000
    with (
        open(site.archive, "rb") as fh,
        tarfile.open(fileobj=DecryptingReader(fh, PASSPHRASE), mode="r|gz") as tar,
    ):
        names = [m.name for m in tar]
    assert names[-1] == "manifest.json"
    assert any(n.startswith("database/xiaobao.") for n in names)
    assert "data/keys/field.key" in names
    assert "data/media/evidence/2024/12/整改佐证.pdf" in names
    assert "data/imports/errors/cases-errors.csv" in names
    assert any(n.startswith("data/store/policies/v000001/") for n in names)
    assert not any("xiaobao.sqlite3" in n for n in names if n.startswith("data/"))
    assert site.archive.stat().st_mode & 0o777 == 0o600
    assert not list(site.archive.parent.glob(".site.xbb.tmp-*"))


def test_restore_drill_refusals_change_nothing_then_everything_comes_back(site, tmp_path):
    before = site.before
    assert before["audit_problems"] == []
    assert before["counts"]["cases_case"] > 100
    assert before["kpi"]["complaints_count"]
    files_before = site.files()

    site.probe("destroy")
    destroyed = site.probe("counts")
    assert destroyed["counts"]["cases_case"] == 0
    assert not (site.data / "store").exists()
    destroyed_files = site.files()

    # Refused: the wrong passphrase, a flipped byte, a truncated file (others: test_crypto.py).
    wrong = site.xiaobao("restore", str(site.archive), passphrase="not-the-passphrase", check=False)
    assert wrong.returncode != 0
    assert "备份口令错误" in wrong.stderr and "未做任何更改" in wrong.stderr
    raw = bytearray(site.archive.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    tampered = tmp_path / "tampered.xbb"
    tampered.write_bytes(bytes(raw))
    result = site.xiaobao("restore", str(tampered), check=False)
    assert result.returncode != 0 and "篡改" in result.stderr and "未做任何更改" in result.stderr
    truncated = tmp_path / "truncated.xbb"
    truncated.write_bytes(site.archive.read_bytes()[:-5000])
    result = site.xiaobao("restore", str(truncated), check=False)
    assert result.returncode != 0 and "截断" in result.stderr

    assert site.probe("counts")["counts"] == destroyed["counts"]
    assert site.files() == destroyed_files
    assert not [p for p in site.data.iterdir() if p.name.startswith(".restore-") and p.is_dir()]

    restored = json.loads(site.xiaobao("restore", str(site.archive)).stdout)

    assert restored["restored"] is True and restored["database"] == _vendor()
    assert restored["tables_mismatched"] == {}
    assert restored["counts"]["cases"] == before["counts"]["cases_case"]
    assert restored["files_restored"] == len(files_before)
    after = site.probe("facts")
    assert after["counts"] == before["counts"]
    assert after["kpi"] == before["kpi"]
    assert after["audit_problems"] == []
    assert site.files() == files_before
    verify = site.xiaobao("audit", "verify")
    assert "哈希链校验通过" in verify.stdout


def test_without_a_passphrase_and_no_terminal_both_commands_exit_2(site, tmp_path):
    backup = site.xiaobao("backup", "-o", str(tmp_path / "x.xbb"), passphrase=None, check=False)
    assert backup.returncode == 2
    assert "未提供备份口令" in backup.stderr and "XIAOBAO_BACKUP_PASSPHRASE" in backup.stderr
    assert not list(tmp_path.iterdir())
    restore = site.xiaobao("restore", str(site.archive), passphrase=None, check=False)
    assert restore.returncode == 2 and "未提供备份口令" in restore.stderr
    short = site.xiaobao("backup", "-o", str(tmp_path / "x.xbb"), passphrase="short", check=False)
    assert short.returncode == 2 and "太短" in short.stderr


def test_with_the_master_key_from_the_environment_the_key_stays_out_and_must_match(site, tmp_path):
    key = (site.data / "keys" / "field.key").read_text().strip()
    archive = tmp_path / "prod.xbb"
    summary = json.loads(site.xiaobao("backup", "-o", str(archive), XIAOBAO_FIELD_KEY=key).stdout)
    assert summary["keys_included"] is False and "XIAOBAO_FIELD_KEY" in summary["keys_note"]
    with (
        open(archive, "rb") as fh,
        tarfile.open(fileobj=DecryptingReader(fh, PASSPHRASE), mode="r|gz") as tar,
    ):
        names = [m.name for m in tar]
    assert "data/keys/field.key" not in names

    files = site.files()
    other_key = "A" * 43
    refused = site.xiaobao("restore", str(archive), check=False, XIAOBAO_FIELD_KEY=other_key)
    assert refused.returncode != 0 and "主密钥不一致" in refused.stderr
    refused = site.xiaobao("restore", str(archive), check=False)
    assert refused.returncode != 0 and "请先设置备份时所用的 XIAOBAO_FIELD_KEY" in refused.stderr
    assert site.files() == files

    restored = json.loads(site.xiaobao("restore", str(archive), XIAOBAO_FIELD_KEY=key).stdout)
    assert restored["keys_included"] is False and restored["tables_mismatched"] == {}
    assert site.files() == files  # the key file in the data folder was kept, not lost
    site.xiaobao("audit", "verify")


def _kill_when(process: subprocess.Popen, ready) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not ready():
        assert process.poll() is None, "the command ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def _size_over(pattern: str, folder: Path, size: int):
    def ready() -> bool:
        for p in folder.glob(pattern):
            try:
                if p.stat().st_size > size:
                    return True
            except FileNotFoundError:
                pass
        return False

    return ready


def test_a_backup_or_restore_killed_midway_leaves_nothing_half_done_and_a_rerun_completes(site, tmp_path):
    big = site.data / "media" / "big.bin"
    big.write_bytes(os.urandom(16 << 20))  # incompressible: both commands take a moment over it
    target = tmp_path / "big.xbb"
    argv = [sys.executable, "-m", "xiaobao"]
    env = site.env(XIAOBAO_BACKUP_PASSPHRASE=PASSPHRASE)
    quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = subprocess.Popen([*argv, "backup", "-o", str(target)], env=env, **quiet)
    try:
        _kill_when(process, _size_over(".big.xbb.tmp-*", tmp_path, 1 << 20))
    finally:
        if process.poll() is None:
            process.kill()
    assert not target.exists()
    assert len(list(tmp_path.glob(".big.xbb.tmp-*"))) == 1  # the half archive, never under the final name
    assert [p for p in site.data.iterdir() if p.name.startswith(".backup-")]  # its scratch dump

    site.xiaobao("backup", "-o", str(target))  # the rerun: complete, and the killed one's scratch is gone
    assert not [p for p in site.data.iterdir() if p.name.startswith(".backup-")]
    big.unlink()
    files, counts = site.files(), site.probe("counts")["counts"]

    process = subprocess.Popen([*argv, "restore", str(target)], env=env, **quiet)
    try:
        _kill_when(process, _size_over(".restore-*/new/data/media/big.bin", site.data, 1 << 20))
    finally:
        if process.poll() is None:
            process.kill()
    assert site.files() == files  # the live data folder and database are as they were
    assert site.probe("counts")["counts"] == counts

    restored = json.loads(site.xiaobao("restore", str(target)).stdout)
    assert restored["tables_mismatched"] == {}
    assert big.stat().st_size == 16 << 20
    assert not [p for p in site.data.iterdir() if p.name.startswith(".restore-") and p.is_dir()]
    big.unlink()
    assert site.files() == files
