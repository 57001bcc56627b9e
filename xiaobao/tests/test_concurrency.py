"""Concurrency across processes: users working while an import runs, and reports generated while an
import runs.

Each side is its own process (`python -m xiaobao …` and a user script calling the services), on a
database of its own: a SQLite file when the suite runs on SQLite (WAL, busy_timeout, as xiaobao runs
it), a scratch PostgreSQL database when it runs on PostgreSQL. (Two handlers editing one case and two
workers sweeping the clocks are in xiaobao/cases/tests: test_services.py, test_api.py and
test_reminders.py.)

On SQLite one writer holds the database at a time: a user's write made during an import waits for the
import's commit (up to XIAOBAO_SQLITE_BUSY_SECONDS, 30 s; past that the page answers 503 "busy", with
nothing written: test_a_write_that_waits_out_the_lock_is_a_503_and_writes_nothing), then goes
through. PostgreSQL lets both write at once.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import openpyxl
import psycopg
import pytest
from django.db import connection

from xiaobao.tests.test_crash_safety import SETUP, _cases_file

TIMEOUT = 300
EXISTING = 300  # cases already there, which the users work on
IMPORTED = 3_000  # cases the concurrent import brings
WORKED = 40  # cases each user moves on (accept, start, a contact) while the import runs

USER = """
import json, sys, time
from xiaobao.accounts.models import User
from xiaobao.cases.models import Case
from xiaobao.cases.selectors import CaseFilter
from xiaobao.cases.services import case_transition, contact_add
officer = User.objects.get(username="officer")
first, count = int(sys.argv[1]), int(sys.argv[2])
done, waited, began = [], [], time.time()
for case_no in [f"KILL-{i:06d}" for i in range(first, first + count)]:
    started = time.monotonic()
    case = Case.objects.get(case_no=case_no)
    case = case_transition(actor=officer, case=case, action="accept", version=case.version)
    case = case_transition(actor=officer, case=case, action="start", version=case.version)
    contact_add(actor=officer, case=case, method="电话", outcome="已联系", note="告知处理进度")
    waited.append(time.monotonic() - started)
    done.append(case_no)
print(json.dumps({"done": done, "max_wait": max(waited), "began": began}))
"""


def _scratch_postgres() -> tuple[str, str] | None:
    """(url, admin url) of a new PostgreSQL database when the suite runs on PostgreSQL, else None."""
    if connection.vendor != "postgresql":
        return None
    params = connection.settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params.get("PASSWORD") else "")
    server = f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
    return server, f"xiaobao_conc_{os.getpid()}_{uuid.uuid4().hex[:6]}"


class Site:
    """A migrated xiaobao (data folder and database) that processes share."""

    def __init__(self, data: Path, url: str):
        self.data, self.url = data, url

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOBAO_")}
        env.update(XIAOBAO_DATA_DIR=str(self.data), XIAOBAO_DATABASE_URL=self.url)
        return env

    def spawn(self, *args: str, stdin: bool = False, **env: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, *args],
            env={**self.env(), **env},
            stdin=subprocess.PIPE if stdin else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> str:
        process = self.spawn(*args)
        return self.finish(process)

    @staticmethod
    def finish(process: subprocess.Popen) -> str:
        out, err = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, err[-3000:]
        return out

    def django(self, code: str, *args: str) -> subprocess.Popen:
        return self.spawn("-c", "import django; django.setup()\n" + code, *args)

    def sql(self, query: str) -> list[tuple]:
        """Read the database directly (a poll must be quicker than starting a process)."""
        if self.url.startswith("sqlite"):
            path = self.url.removeprefix("sqlite:///")
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
                return db.execute(query).fetchall()
        with psycopg.connect(self.url) as db:
            return db.execute(query).fetchall()

    def query(self, code: str) -> object:
        """The JSON a snippet prints, run in a process of the site."""
        return json.loads(self.finish(self.django(code)).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def site(tmp_path_factory, django_db_blocker):
    data = tmp_path_factory.mktemp("site")
    with django_db_blocker.unblock():
        postgres = _scratch_postgres()
    if postgres is None:
        url = f"sqlite:///{data / 'xiaobao.sqlite3'}"
    else:
        server, name = postgres
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{server}/{name}"
    built = Site(data, url)
    built.run("-m", "xiaobao", "migrate", "--verbosity", "0")
    built.finish(built.django(SETUP))
    built.run("-m", "xiaobao", "import", "cases", str(_cases_file(data.parent / "existing.csv", EXISTING)))
    yield built
    if postgres is not None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _more_cases(path: Path) -> Path:
    """IMPORTED new cases of 2024 Q1–Q3, numbered after the existing ones."""
    source = _cases_file(path.with_suffix(".all.csv"), EXISTING + IMPORTED)
    lines = source.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join([lines[0], *lines[1 + EXISTING :]]))
    return path


def _wait_for_import(site: Site, process: subprocess.Popen) -> None:
    """Until the import has started writing (its batch row is there), so the work overlaps it."""
    deadline = time.monotonic() + TIMEOUT
    while site.sql("SELECT count(*) FROM imports_importbatch WHERE status = 'running'") == [(0,)]:
        assert process.poll() is None, "the import ended before the users started"
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_users_work_on_their_cases_while_an_import_runs(site, tmp_path):
    source = _more_cases(tmp_path / "more.csv")
    importing = site.spawn("-m", "xiaobao", "import", "cases", str(source))
    _wait_for_import(site, importing)
    # The users' writes wait for the import's write lock (on SQLite, one writer at a time). What is
    # tested is that they land, not how long a starved CI machine makes them wait: a wait past the
    # limit is a 503, tested below with a one-second limit.
    users = [
        site.spawn(
            "-c",
            "import django; django.setup()\n" + USER,
            str(first),
            str(WORKED),
            XIAOBAO_DB_LOCK_WAIT_SECONDS="180",
        )
        for first in (0, WORKED)
    ]

    results = [json.loads(site.finish(user).strip().splitlines()[-1]) for user in users]
    summary = json.loads(site.finish(importing))

    assert (summary["status"], summary["created"], summary["rejected"]) == ("done", IMPORTED, 0)
    assert sum(len(r["done"]) for r in results) == 2 * WORKED
    counts = site.query(
        "import json\n"
        "from xiaobao.cases.models import Case, CaseEvent, Contact\n"
        "print(json.dumps({'cases': Case.objects.count(),"
        " 'in_progress': Case.objects.filter(status='处理中').count(),"
        " 'events': CaseEvent.objects.filter(to_status__in=['受理', '处理中']).count(),"
        " 'contacts': Contact.objects.count()}))"
    )
    assert counts == {
        "cases": EXISTING + IMPORTED,
        "in_progress": 2 * WORKED,
        "events": 2 * 2 * WORKED,
        "contacts": 2 * WORKED,
    }
    finished = site.query(
        "import json\n"
        "from xiaobao.imports.models import ImportBatch\n"
        "print(json.dumps(ImportBatch.objects.order_by('-pk').first().finished_at.timestamp()))"
    )
    overlap = min(r["began"] for r in results) < finished
    assert overlap is True  # the users were at work before the import had finished
    assert json.loads(site.run("-m", "xiaobao", "audit", "verify", "--format", "json"))["ok"] is True


def _cells(path: Path) -> list[list]:
    """Every cell of the workbook but the generation time (to the minute: two runs astride a minute
    differ there, and nowhere else)."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    return [
        [list(row) for row in sheet.iter_rows(values_only=True) if not (row and row[0] == "生成时间")]
        for sheet in workbook.worksheets
    ]


def test_reports_from_a_snapshot_stay_the_same_while_an_import_runs(site, tmp_path):
    first = tmp_path / "first.xlsx"
    report = ["-m", "xiaobao", "report", "complaints", "--quarter", "2024Q3"]
    line = site.run(*report, "-o", str(first))
    snapshot = line.split("指标快照 #")[1].split(",")[0].split(")")[0]
    frozen = _cells(first)

    source = _more_cases(tmp_path / "later.csv").rename(tmp_path / "later-q3.csv")
    # The same cases again under new numbers: the import adds IMPORTED cases whatever ran before.
    source.write_bytes(source.read_bytes().replace(b"KILL-", b"LATE-"))
    importing = site.spawn("-m", "xiaobao", "import", "cases", str(source))
    _wait_for_import(site, importing)
    during = []
    while importing.poll() is None and len(during) < 3:
        path = tmp_path / f"during-{len(during)}.xlsx"
        site.run(*report, "--snapshot", snapshot, "-o", str(path))
        during.append(_cells(path))
    summary = json.loads(site.finish(importing))
    assert (summary["status"], summary["created"]) == ("done", IMPORTED)
    after = tmp_path / "after.xlsx"
    site.run(*report, "--snapshot", snapshot, "-o", str(after))
    fresh = tmp_path / "fresh.xlsx"
    site.run(*report, "-o", str(fresh))

    assert during, "no report ran while the import did"
    assert all(cells == frozen for cells in during)
    assert _cells(after) == frozen
    totals = {row[0]: row[1] for row in _cells(fresh)[0] if row and row[0] == "投诉件数"}
    before = {row[0]: row[1] for row in frozen[0] if row and row[0] == "投诉件数"}
    assert totals["投诉件数"] > before["投诉件数"]  # a new snapshot sees the imported complaints


@pytest.fixture(autouse=True)
def _tidy(tmp_path):
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


BUSY = """
import json, sys
from django.test import Client
from xiaobao.accounts.models import User
from xiaobao.cases.models import Case
case = Case.objects.get(case_no=sys.argv[1])
client = Client(SERVER_NAME="localhost")
client.force_login(User.objects.get(username="officer"))
print("ready", flush=True)
sys.stdin.readline()  # the test takes the lock now
page = client.post(f"/cases/{case.pk}/transition/accept/", {"version": case.version, "reason": "受理"})
print(json.dumps({"status": page.status_code, "retry": page.get("Retry-After"),
                  "text": page.content.decode()}))
"""


def test_a_write_that_waits_out_the_lock_is_a_503_and_writes_nothing(site):
    """Another writer holds the lock past the wait limit: the page says busy, in Chinese, and the case
    is as it was (its transaction rolled back whole)."""
    case_no = f"KILL-{EXISTING - 1:06d}"
    before = site.sql(f"SELECT status, version FROM cases_case WHERE case_no = '{case_no}'")
    process = site.spawn(
        "-c", "import django; django.setup()\n" + BUSY, case_no, XIAOBAO_DB_LOCK_WAIT_SECONDS="1", stdin=True
    )
    assert process.stdout.readline().strip() == "ready", process.stderr.read()[-3000:]
    if site.url.startswith("sqlite"):
        holder = sqlite3.connect(site.url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = psycopg.connect(site.url)
        holder.execute("LOCK TABLE cases_case IN EXCLUSIVE MODE")  # readers go on, writers wait
    try:
        process.stdin.write("go\n")
        process.stdin.flush()
        answer = json.loads(site.finish(process).strip().splitlines()[-1])
    finally:
        holder.rollback()
        holder.close()

    assert answer["status"] == 503 and answer["retry"] == "10"
    assert "系统正忙 (可能正在导入数据), 本次操作未保存任何内容, 请稍后重试" in answer["text"]
    assert site.sql(f"SELECT status, version FROM cases_case WHERE case_no = '{case_no}'") == before
