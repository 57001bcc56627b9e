"""kill -9 during a case import, during report generation and during a worker sweep.

Each job runs as its own process (`python -m xiaobao …`) on a throw-away data folder with its own
SQLite database, as a deployment runs it; the test kills it with SIGKILL at moments spread over its
run, then checks that nothing partial is left and that running the job again gives the same result as
a run that was never interrupted. (The Parquet store's own kill test is xiaobao/book/tests/test_crash.py.)
"""

import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docx import Document

from xiaobao.imports.tests.files import write_csv

TIMEOUT = 300
CASES = 4_000
REPORT = "2024-年度总结.docx"

HEADER = [
    "工单号",
    "受理时间",
    "工单类型",
    "来源渠道",
    "客户姓名",
    "来电号码",
    "责任机构",
    "投诉事由",
    "诉求内容",
]
KINDS = ["投诉", "投诉", "投诉", "咨询", "求助"]
CHANNELS = ["4008热线", "柜面", "微信", "官网/APP", "信函"]
CATEGORIES = ["销售纠纷", "理赔纠纷", "退保纠纷", "服务质量"]

SETUP = """
from xiaobao.accounts.models import Role
from xiaobao.conftest import make_unit, make_user
from xiaobao.org.models import UnitLevel
hq = make_unit("HQ", "总公司", UnitLevel.HEAD_OFFICE)
br = make_unit("BR", "测试分公司", UnitLevel.BRANCH, hq)
c1 = make_unit("C1", "甲中心支公司", UnitLevel.CENTRAL_SUB_BRANCH, br)
make_user("officer", c1, [Role.OFFICER])
from xiaobao.privacy.services import personal_token
personal_token("phone", "13800000000")  # the keys exist before the copies are taken: same tokens in each
"""

# Runs a command of xiaobao at a given moment (the clock ticks on from there), as cron would.
AT = """
import sys, datetime as dt, zoneinfo, time_machine
when = dt.datetime.fromisoformat(sys.argv[1]).replace(tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
time_machine.travel(when, tick=True).start()
from xiaobao.cli import main
sys.argv = ["xiaobao", *sys.argv[2:]]
main()
"""


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOBAO_")}
    env.update(XIAOBAO_DATA_DIR=str(data), XIAOBAO_DATABASE_URL=f"sqlite:///{data / 'xiaobao.sqlite3'}")
    return env


def _run(data: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args], env=_env(data), capture_output=True, text=True, timeout=TIMEOUT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _xiaobao(data: Path, *args: str) -> subprocess.CompletedProcess:
    return _run(data, "-m", "xiaobao", *args)


def _at(data: Path, when: str, *args: str) -> subprocess.CompletedProcess:
    return _run(data, "-c", AT, when, *args)


def _django(data: Path, code: str) -> subprocess.CompletedProcess:
    return _run(data, "-c", "import django; django.setup()\n" + code)


def _query(data: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(f"file:{data / 'xiaobao.sqlite3'}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, params).fetchall()


def _cases_file(path: Path, count: int) -> Path:
    rows = [HEADER]
    for i in range(count):
        day = 1 + i % 28
        rows.append(
            [
                f"KILL-{i:06d}",
                f"2024-{1 + i % 9:02d}-{day:02d} {8 + i % 9:02d}:15",
                KINDS[i % len(KINDS)],
                CHANNELS[i % len(CHANNELS)],
                f"客户{i:05d}",
                f"138{i:08d}",
                "C1",
                CATEGORIES[i % len(CATEGORIES)],
                f"第 {i} 号诉求: 要求说明保单退保损失",
            ]
        )
    return write_csv(path, rows)


def _cases_digest(data: Path) -> tuple[int, str]:
    rows = _query(
        data,
        "SELECT case_no, status, kind, channel, received_at, due_date, name_token, name_masked, description "
        "FROM cases_case JOIN customers_customer ON customers_customer.id = cases_case.customer_id "
        "ORDER BY case_no",
    )
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def _kill_when(process: subprocess.Popen, ready, *, after: float) -> None:
    """SIGKILL `process` `after` seconds after ready() first holds (the job is under way)."""
    deadline = time.monotonic() + TIMEOUT
    while not ready():
        assert process.poll() is None, "the job ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(after)
    assert process.poll() is None, "the job ended before it could be killed: kill it sooner"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def _try_kill(process: subprocess.Popen, *, after: float) -> bool:
    """SIGKILL `process` after `after` seconds unless it has finished by then; whether it was killed."""
    try:
        process.wait(timeout=after)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)  # a process that ended meanwhile is a zombie: no error
        process.wait()
    assert process.returncode in (0, -signal.SIGKILL), process.returncode
    return process.returncode == -signal.SIGKILL


def _spawn(data: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args], env=_env(data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A migrated database with units and an officer of C1, copied by each test."""
    data = tmp_path_factory.mktemp("template")
    _xiaobao(data, "migrate", "--verbosity", "0")
    _django(data, SETUP)
    return data


@pytest.fixture(scope="module")
def with_cases(migrated, tmp_path_factory):
    """The same with CASES complaints and work orders of 2024, imported by an uninterrupted run."""
    data = tmp_path_factory.mktemp("with-cases")
    shutil.copytree(migrated, data, dirs_exist_ok=True)
    _xiaobao(data, "import", "cases", str(_cases_file(data.parent / "cases.csv", CASES)))
    return data


def test_a_killed_case_import_writes_nothing_and_a_rerun_equals_an_uninterrupted_import(
    migrated, with_cases, tmp_path
):
    data = tmp_path / "data"
    shutil.copytree(migrated, data)
    source = _cases_file(tmp_path / "cases.csv", CASES)

    process = _spawn(data, "-m", "xiaobao", "import", "cases", str(source))
    running = "SELECT count(*) FROM imports_importbatch WHERE status = 'running'"
    _kill_when(process, lambda: _query(data, running) == [(1,)], after=1.5)

    assert _query(data, "SELECT count(*) FROM cases_case") == [(0,)]
    assert _query(data, "SELECT count(*) FROM customers_customer") == [(0,)]
    assert _query(data, "SELECT count(*) FROM cases_caseevent") == [(0,)]
    assert _query(data, running) == [(1,)]  # until somebody looks: the next import does

    summary = json.loads(_xiaobao(data, "import", "cases", str(source)).stdout)

    assert (summary["status"], summary["created"], summary["rejected"]) == ("done", CASES, 0)
    batches = _query(data, "SELECT status, message FROM imports_importbatch ORDER BY id")
    assert batches[0] == ("failed", "导入进程在完成前中断, 本批次未写入任何数据; 可重新导入同一文件")
    assert [status for status, _ in batches[1:]] == ["done"]
    assert _cases_digest(data) == _cases_digest(with_cases)
    assert _query(data, "SELECT count(*) FROM cases_caseevent") == _query(
        with_cases, "SELECT count(*) FROM cases_caseevent"
    )
    assert json.loads(_xiaobao(data, "audit", "verify", "--format", "json").stdout)["ok"] is True


def _report_text(path: Path) -> list[str]:
    """The report's paragraphs and table cells, with the snapshot number (new on every run) blanked."""
    document = Document(path)
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return [re.sub(r"#\d+", "#N", text) for text in [p.text for p in document.paragraphs] + cells]


def test_a_report_killed_at_any_moment_leaves_no_partial_file_and_a_rerun_is_the_same(with_cases, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(with_cases, data)
    out = tmp_path / "out"
    out.mkdir()
    target = out / REPORT
    args = ["-m", "xiaobao", "report", "yearend", "--year", "2024", "-o", str(target)]
    _xiaobao(data, *args[2:])
    clean = _report_text(target)
    assert any("全年受理投诉2400件" in text for text in clean)  # 3 of the 5 kinds in turn are complaints
    target.write_bytes(b"the previous report")

    started = time.monotonic()
    _xiaobao(data, *args[2:])
    took = time.monotonic() - started
    target.write_bytes(b"the previous report")
    kills = 0
    for fraction in (0.2, 0.35, 0.5, 0.65, 0.8, 0.95):
        process = _spawn(data, *args)
        kills += _try_kill(process, after=took * fraction)
        # Either the previous file or a whole new one: never half of one under the report's name.
        assert target.read_bytes() == b"the previous report" or _report_text(target) == clean
        target.write_bytes(b"the previous report")
    assert kills >= 3  # most runs were killed on the way (a run may also finish before its moment)

    _xiaobao(data, *args[2:])

    assert _report_text(target) == clean
    assert [p.name for p in out.iterdir()] == [REPORT]  # the killed runs' scratch files are gone


def test_a_worker_killed_mid_sweep_sends_every_reminder_exactly_once_after_reruns(with_cases, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(with_cases, data)
    args = ["worker", "--once", "--batch", "1000"]
    moment, step = 0, 15  # minutes; each rerun 15 minutes later, past the 10-minute claim timeout

    def when() -> str:
        return (
            f"2024-12-02 09:{moment:02d}"
            if moment < 60
            else f"2024-12-02 {9 + moment // 60}:{moment % 60:02d}"
        )

    # The kills land at moments spread over a whole sweep as this machine runs it (a fixed delay
    # lands after the end on a fast machine): timed on a copy, which is then thrown away.
    probe = tmp_path / "probe"
    shutil.copytree(with_cases, probe)
    started = time.monotonic()
    _at(probe, when(), *args)
    took = time.monotonic() - started
    fractions = (0.3, 0.45, 0.6, 0.75, 0.9)
    kills = attempts = 0
    while attempts < 6 or (kills < 3 and attempts < 15):
        process = _spawn(data, "-c", AT, when(), *args)
        delay = took * fractions[attempts % len(fractions)]
        kills += _try_kill(process, after=delay)  # one that finished first is as good a run
        attempts += 1
        moment += step
        dupes = _query(
            data,
            "SELECT case_id FROM (SELECT case_id, message, count(*) AS n "
            "FROM cases_notification GROUP BY case_id, message) WHERE n > 1",
        )
        assert dupes == []
    assert kills >= 3

    while True:
        summary = json.loads(_at(data, when(), *args).stdout.strip().splitlines()[-1])
        moment += step
        if summary["sent"] == 0 and summary["queued"] == 0:
            break

    reminders = _query(data, "SELECT status, count(*) FROM cases_reminder GROUP BY status")
    assert dict(reminders).keys() == {"sent"}, reminders
    sent = dict(reminders)["sent"]
    assert sent >= CASES // 2  # the complaints are long overdue on 2 December
    assert _query(data, "SELECT count(*) FROM cases_notification") == [(sent,)]
    assert _query(
        data, "SELECT count(*) FROM (SELECT DISTINCT case_id, message FROM cases_notification)"
    ) == [(sent,)]
