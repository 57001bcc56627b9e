"""kill -9 in the middle of an import: the store keeps its previous version, and a rerun completes.

The import runs as its own process (`python -m xiaobao import policies BIG.csv`, and the same with
`book-import`, whose big file is sealed by child processes that must go when their import does) on a
throw-away data folder with its own SQLite database, migrated once per module.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from xiaobao.book.tests.helpers import POLICY_HEADER, policy_row
from xiaobao.imports.tests.files import write_csv

BIG = 25_000
TIMEOUT = 300


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOBAO_")}
    env.update(XIAOBAO_DATA_DIR=str(data), XIAOBAO_DATABASE_URL=f"sqlite:///{data / 'xiaobao.sqlite3'}")
    return env


def _xiaobao(data: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "xiaobao", *args],
        env=_env(data),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A migrated database with the unit C1, shared by the tests of this module (copied for each)."""
    data = tmp_path_factory.mktemp("template")
    _xiaobao(data, "migrate", "--verbosity", "0")
    units = write_csv(
        data / "units.csv",
        [
            ["code", "name", "level", "parent_code"],
            ["HQ", "总公司", "总公司", ""],
            ["BR", "测试分公司", "分公司", "HQ"],
            ["C1", "甲中心支公司", "中心支公司", "BR"],
        ],
    )
    assert '"created": 3' in _xiaobao(data, "import", "units", str(units)).stdout
    return data


def _current(data: Path) -> str:
    return (data / "store" / "policies" / "CURRENT").read_text().strip()


def _rows(data: Path, version: str) -> list[dict]:
    return pq.read_table(data / "store" / "policies" / version).to_pylist()


@pytest.mark.parametrize("command", ["import", "book-import"])
def test_a_killed_import_leaves_the_previous_version_and_can_be_rerun(migrated, tmp_path, command):
    data = tmp_path / "data"
    shutil.copytree(migrated, data)
    small = write_csv(tmp_path / "small.csv", [POLICY_HEADER] + [policy_row(i) for i in range(1, 101)])
    first = _xiaobao(data, command, "policies", str(small))
    assert _current(data) == "v000001", first.stdout
    # The big file changes the first 100 policies and adds the rest.
    rows = [policy_row(i, annual_premium="15000") for i in range(1, BIG + 1)]
    big = write_csv(tmp_path / "big.csv", [POLICY_HEADER, *rows])
    folder = data / "store" / "policies"

    process = subprocess.Popen(
        [sys.executable, "-m", "xiaobao", command, "policies", str(big)],
        env=_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + TIMEOUT
    while not any(p.name.startswith(".tmp-") for p in folder.iterdir()):
        assert process.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    assert process.returncode == -signal.SIGKILL
    assert _current(data) == "v000001"
    before = _rows(data, "v000001")
    assert len(before) == 100 and {str(r["annual_premium"]) for r in before} == {"12000.00"}
    assert any(p.name.startswith(".tmp-") for p in folder.iterdir())  # what the killed import left

    result = _xiaobao(data, command, "policies", str(big))

    assert '"status": "done"' in result.stdout
    assert _current(data) == "v000002"
    after = _rows(data, "v000002")
    assert len(after) == BIG
    assert {str(r["annual_premium"]) for r in after} == {"15000.00"}
    assert not any(p.name.startswith(".tmp-") for p in folder.iterdir())
