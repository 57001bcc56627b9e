"""The swap of a restore, in process: a failure at the last step (the database) puts every data-folder
entry back where it was, and the scratch folder goes. The archive itself is stubbed (see
test_restore.py for the real thing, end to end)."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from xiaobao.backup import archive, database
from xiaobao.backup.crypto import BackupError


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".restore-")
    }


@pytest.fixture
def live():
    data = Path(settings.DATA_DIR)
    for rel, text in {
        "store/policies/CURRENT": "v000002",
        "store/policies/v000002/part-0.parquet": "live parquet",
        "media/evidence/a.pdf": "live evidence",
        "keys/field.key": "live key",
        "only-live/x.txt": "not in the backup",
        "static/app.css": "collected static, left alone",
    }.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(text)
    return data


def _fake_extract(archive_path, passphrase, target: Path) -> dict:
    for rel, text in {
        "database/xiaobao.sqlite3": "dump",
        "data/store/policies/CURRENT": "v000001",
        "data/store/policies/v000001/part-0.parquet": "backup parquet",
        "data/media/evidence/a.pdf": "backup evidence",
        "data/keys/field.key": "backup key",
    }.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_text(text)
    manifest = {
        "format": 1,
        "created_at": "2025-01-15T00:00:00+00:00",
        "database": {"vendor": "sqlite", "file": "database/xiaobao.sqlite3", "tables": {}},
        "keys": {"included": True, "master_key_id": None},
        "files": {},
    }
    (target / "manifest.json").write_text(json.dumps(manifest))
    return manifest


@pytest.fixture
def stubbed(monkeypatch, tmp_path):
    monkeypatch.setattr(archive, "_extract", _fake_extract)
    monkeypatch.setattr(database, "check_dump", lambda path: None)
    monkeypatch.setattr(database, "sqlite_path", lambda: Path(settings.DATA_DIR) / "xiaobao.sqlite3")
    monkeypatch.setattr(database, "vendor", lambda: "sqlite")
    monkeypatch.setattr(archive, "_summary", lambda manifest: {"restored": True})
    backup = tmp_path / "b.xbb"
    backup.write_bytes(b"stub")
    return backup


def test_a_failing_database_restore_puts_the_data_folder_back(live, stubbed, monkeypatch):
    before = _tree(live)

    def fail(path):
        assert (live / "store/policies/CURRENT").read_text() == "v000001"  # the files were swapped
        raise BackupError("pg_restore 失败, 数据库未改变")

    monkeypatch.setattr(database, "restore", fail)
    with pytest.raises(BackupError):
        archive.restore_backup(stubbed, "pass-phrase")

    assert _tree(live) == before
    assert not [p for p in live.iterdir() if p.name.startswith(".restore-") and p.is_dir()]


def test_a_successful_swap_replaces_every_entry_and_leaves_static(live, stubbed, monkeypatch):
    restored = []
    monkeypatch.setattr(database, "restore", restored.append)

    assert archive.restore_backup(stubbed, "pass-phrase") == {"restored": True}

    assert [p.name for p in restored] == ["xiaobao.sqlite3"]
    assert _tree(live) == {
        "keys/field.key": b"backup key",
        "media/evidence/a.pdf": b"backup evidence",
        "static/app.css": b"collected static, left alone",
        "store/policies/CURRENT": b"v000001",
        "store/policies/v000001/part-0.parquet": b"backup parquet",
    }
    assert not [p for p in live.iterdir() if p.name.startswith(".restore-") and p.is_dir()]
