"""Load test on loopback: gunicorn + PostgreSQL with 1,000,000 cases, 50 handlers (a benchmark).

    .venv/bin/python bench/cases_list.py --db postgres --cases 1000000 --load-only --snapshot   # once
    .venv/bin/python bench/load_test.py --snapshot                                           # 10 min

1. Points the settings at the bench database (XIAOBAO_DATABASE_URL = postgres://…/xiaobao_bench)
   and the bench data folder (XIAOBAO_DATA_DIR = bench/results/tmp/postgres, whose keys encrypted
   the customers), checks the database holds --min-cases cases.
2. Creates one handler account per locust user (lt_h01 … lt_h50, role 处理人, spread over the six
   中支 客服部 departments) and gives each its own --cases-per-user open cases of its department
   (status 登记/受理/处理中/暂停, handler_id set by SQL), so users never fight over a row and the
   login lockout (django-axes, per username + IP) never sees one name from 50 sessions. No
   throttle is changed: axes counts failures only and the HTML views have no rate limit.
3. Starts gunicorn on 127.0.0.1:--port (default 2 `gthread` workers × 4 threads, like `xiaobao
   demo`; it served ~60 % more than 4 `sync` workers in a 2-minute closed-loop comparison, see
   bench/results/load.md), waits until the login page answers, runs locust headless with
   bench/locustfile.py, stops gunicorn.
4. Writes bench/results/<--out>.md: machine, database, gunicorn and locust configuration, per step
   requests, req/s, median, p95, p99, max and failures for the whole run and for the steady state
   after the logins (percentiles exact, from every request's duration, not locust's rounded
   buckets), gunicorn's own time per request pattern, CPU used by gunicorn, PostgreSQL and locust,
   the HTTP status codes gunicorn logged, the rows the run wrote, and the commands. The run's
   files stay in bench/results/tmp/<--out>-*; --report-only rewrites the Markdown from them.

--snapshot serves the committed code (git archive HEAD into bench/results/tmp/code/), so edits
in progress in the working tree cannot change the server mid-run. --wait sets the think time
between steps ("2,8" = uniform 2–8 s, "0" = none: a closed loop that measures capacity).
"""

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
TMP = RESULTS / "tmp"
VENV = ROOT / ".venv" / "bin"
sys.path.insert(0, str(BENCH))
from cases_list import cpu_pressure, pct  # noqa: E402  (the same machine reading and percentile)

PASSWORD = "Bench@Load-2024"
WORKABLE = ["登记", "受理", "处理中", "暂停"]  # accept / start / pause / resume cycle through these
KF_UNITS = [f"8637{i:02d}KF" for i in range(1, 7)]
STEP_ORDER = [
    "0 login page",
    "0 login",
    "1 desk",
    "2 filter",
    "2 search",
    "3 case",
    "4 contact (POST)",
    "3b case (after POST)",
    "5 transition (POST)",
]


def configure_env(args) -> dict:
    os.environ["DJANGO_SETTINGS_MODULE"] = "xiaobao.settings"
    os.environ["XIAOBAO_MODE"] = "demo"
    os.environ["XIAOBAO_DEBUG"] = "false"
    os.environ["XIAOBAO_DATA_DIR"] = str(Path(args.data_dir).resolve())
    os.environ["XIAOBAO_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.pg_name}"
    for name in ("XIAOBAO_SECRET_KEY", "XIAOBAO_FIELD_KEY"):
        os.environ.pop(name, None)  # the bench's demo keys live in its data folder
    return {k: os.environ[k] for k in os.environ if k.startswith("XIAOBAO_") or k == "DJANGO_SETTINGS_MODULE"}


def code_root(args) -> tuple[Path, str]:
    if args.snapshot:
        import cases_list

        path = cases_list.snapshot()
        return path, cases_list.CODE_REV
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip()
    return ROOT, f"{rev} (working tree)"


# ----------------------------------------------------------------------------------------------
# Accounts and their cases
# ----------------------------------------------------------------------------------------------


def prepare_accounts(args) -> tuple[list[dict], dict]:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from xiaobao.accounts.models import Role, User
    from xiaobao.org.models import Unit

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_case")
        total = cur.fetchone()[0]
    if total < args.min_cases:
        sys.exit(
            f"{args.pg_name} holds {total:,} cases, fewer than --min-cases {args.min_cases:,}: run "
            f"bench/cases_list.py --db postgres --cases {args.min_cases} --load-only first"
        )
    units = {u.code: u for u in Unit.objects.filter(code__in=KF_UNITS)}
    password = make_password(PASSWORD)
    accounts = []
    with transaction.atomic():
        users = []
        for i in range(args.users):
            unit = units[KF_UNITS[i % len(KF_UNITS)]]
            user, _ = User.objects.update_or_create(
                username=f"lt_h{i + 1:02d}",
                defaults={
                    "display_name": f"压测处理人{i + 1:02d}",
                    "unit": unit,
                    "roles": [Role.HANDLER],
                    "is_active": True,
                    "password": password,
                },
            )
            users.append(user)
        ids = [u.pk for u in users]
        with connection.cursor() as cur:
            for user in users:
                cur.execute(
                    "SELECT id FROM cases_case WHERE handler_id = %s AND unit_id = %s AND status = ANY(%s) "
                    "ORDER BY id DESC LIMIT %s",
                    [user.pk, user.unit_id, WORKABLE, args.cases_per_user],
                )
                mine = [r[0] for r in cur.fetchall()]
                if len(mine) < args.cases_per_user:
                    cur.execute(
                        "SELECT id FROM cases_case WHERE unit_id = %s AND status = ANY(%s) "
                        "AND (handler_id IS NULL OR NOT handler_id = ANY(%s)) ORDER BY id DESC LIMIT %s",
                        [user.unit_id, WORKABLE, ids, args.cases_per_user - len(mine)],
                    )
                    extra = [r[0] for r in cur.fetchall()]
                    cur.execute("UPDATE cases_case SET handler_id = %s WHERE id = ANY(%s)", [user.pk, extra])
                    mine += extra
                if len(mine) < args.cases_per_user:
                    sys.exit(f"{user.unit.code}: not enough open cases for {user.username}")
                accounts.append(
                    {"username": user.username, "password": PASSWORD, "unit": user.unit.code, "cases": mine}
                )
    return accounts, {"cases": total, "user_ids": ids}


def written_rows(user_ids: list[int]) -> dict:
    """Rows the bench accounts have written so far: the run's writes are the difference."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_contact WHERE actor_id = ANY(%s)", [user_ids])
        contacts = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM cases_caseevent WHERE actor_id = ANY(%s) AND action = ANY(%s)",
            [user_ids, ["accept", "start", "pause", "resume"]],
        )
        transitions = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM cases_case WHERE handler_id = ANY(%s) AND NOT status = ANY(%s)",
            [user_ids, WORKABLE],
        )
        strayed = cur.fetchone()[0]
    return {"contacts": contacts, "transitions": transitions, "strayed": strayed}


def database_facts(args) -> list[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
        knobs = []
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_connections", "jit"):
            cur.execute(f"SHOW {name}")
            knobs.append(f"{name}={cur.fetchone()[0]}")
        cur.execute("SELECT pg_database_size(current_database())")
        size = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_case WHERE status = ANY(%s)", [WORKABLE + ["核查中"]])
        open_cases = cur.fetchone()[0]
    return [
        ("database", f"PostgreSQL {version} on 127.0.0.1:5432, `{args.pg_name}` ({', '.join(knobs)})"),
        ("database size", f"{size / 2**30:.2f} GiB"),
        ("open cases", f"{open_cases:,}"),
    ]


# ----------------------------------------------------------------------------------------------
# Machine
# ----------------------------------------------------------------------------------------------


def machine() -> list[tuple[str, str]]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    kb = int(
        next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1]
    )
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return [("machine", f"{cpu}, nproc {nproc}, {kb / 2**20:.1f} GiB RAM, {platform.platform()}")]


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """utime + stime of one process and its reaped children, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def children(pid: int) -> list[int]:
    try:
        out = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(x) for x in out]


def postgres_cpu() -> float:
    """CPU seconds of every process named postgres (the server is shared: a before/after difference)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += proc_cpu(int(entry.name))
            except OSError:
                pass
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = f[3] + f[4]
    return sum(f) - idle, sum(f)


# ----------------------------------------------------------------------------------------------
# gunicorn and locust
# ----------------------------------------------------------------------------------------------


def gunicorn_cmd(args, code: Path, stem: str) -> list[str]:
    cmd = [
        str(VENV / "gunicorn"),
        "xiaobao.wsgi:application",
        "--chdir", str(code),
        "--bind", f"127.0.0.1:{args.port}",
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--threads", str(args.threads),
        "--timeout", "120",
        "--no-control-socket",
        "--access-logfile", str(TMP / f"{stem}-access.log"),
        "--access-logformat", '%(s)s %(m)s "%(U)s?%(q)s" %(D)s',
        "--error-logfile", str(TMP / f"{stem}-gunicorn.log"),
    ]  # fmt: skip
    return cmd


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 90) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}; see its log in {TMP}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as resp:
                if resp.status == 200:
                    return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit("gunicorn did not answer within 90 s")


def locust_cmd(args, stem: str) -> list[str]:
    return [
        str(VENV / "locust"),
        "-f", str(BENCH / "locustfile.py"),
        "--headless",
        "-u", str(args.users),
        "-r", str(args.spawn_rate),
        "-t", args.run_time,
        "--stop-timeout", "30",
        "--host", f"http://127.0.0.1:{args.port}",
        "--csv", str(TMP / stem),
        "--only-summary",
    ]  # fmt: skip


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


def step_rows(raw: list, since: float | None = None) -> tuple[list[dict], dict, float]:
    """Per step and in total: count, failures, req/s over the window, and exact percentiles.
    The window runs from the first loop request (after the logins), or from `since` (epoch seconds:
    only requests started then or later), to the last answer."""
    if since is not None:
        raw = [r for r in raw if r[1] >= since]
    loop = [r for r in raw if not r[0].startswith("0 ")]
    start = since if since is not None else min(r[1] for r in loop)
    end = max(r[1] + r[2] / 1000 for r in raw)
    window = end - start
    names = sorted({r[0] for r in raw}, key=lambda n: STEP_ORDER.index(n) if n in STEP_ORDER else 99)

    def row(name, items, seconds):
        times = [r[2] for r in items]
        return {
            "name": name,
            "n": len(items),
            "fail": sum(1 for r in items if not r[3]),
            "rps": len(items) / seconds if seconds else 0,
            "median": statistics.median(times),
            "p95": pct(times, 95),
            "p99": pct(times, 99),
            "max": max(times),
        }

    rows = []
    for name in names:
        items = [r for r in raw if r[0] == name]
        # Logins happen during ramp-up only: their rate over the whole window would mean nothing.
        rows.append(row(name, items, 0 if name.startswith("0 ") else window))
    total = row("all loop steps", loop, window)
    return rows, total, window


def server_times(path: Path) -> list[dict]:
    """gunicorn's own request time (%(D)s, µs) per request pattern: ids, dates, pages and filter
    values folded, so each filter variant of the workflow is one row."""
    import re
    from urllib.parse import unquote

    groups: dict[tuple, list[float]] = {}
    if not path.exists():
        return []
    for line in path.read_text(errors="replace").splitlines():
        try:
            _code, method, url, micro = line.split(" ")
        except ValueError:
            continue
        url = unquote(url.strip('"')).rstrip("?")
        url = re.sub(r"/cases/\d+/", "/cases/<pk>/", url)
        url = re.sub(r"/transition/\w+/", "/transition/<action>/", url)
        url = re.sub(r"\d{4}-\d\d-\d\d", "…", url)
        url = re.sub(r"\b(page|status|kind|unit)=[^&]+", r"\1=…", url)
        groups.setdefault((method, url), []).append(int(micro) / 1000)
    rows = [
        {"what": f"{m} {u}", "n": len(v), "median": statistics.median(v), "p95": pct(v, 95)}
        for (m, u), v in groups.items()
    ]
    return sorted(rows, key=lambda r: -r["median"])


def ms(v: float) -> str:
    return f"{v:,.0f}"


def status_counts(path: Path) -> dict:
    counts: dict[str, int] = {}
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            code = line.split(" ", 1)[0]
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))


def log_problems(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").splitlines()
    return [
        ln for ln in lines if any(w in ln for w in ("Traceback", "WORKER TIMEOUT", "[ERROR]", "[CRITICAL]"))
    ]


def step_table(rows: list[dict], total: dict) -> list[str]:
    lines = [
        "| step | requests | req/s | median ms | p95 ms | p99 ms | max ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows + [total]:
        rps = f"{r['rps']:.2f}" if r["rps"] else "—"
        bold = "**" if r is total else ""
        lines.append(
            f"| {bold}{r['name']}{bold} | {r['n']:,} | {rps} | {ms(r['median'])} | {ms(r['p95'])} | "
            f"{ms(r['p99'])} | {ms(r['max'])} | {r['fail']} |"
        )
    return lines


def write_report(args, stem, facts, raw, extra) -> Path:
    out = RESULTS / f"{stem}.md"
    rows, total, window = step_rows(raw)
    first = min(r[1] for r in raw)
    last_login = max((r[1] + r[2] / 1000 for r in raw if r[0].startswith("0 ")), default=first)
    steady_rows, steady_total, steady_window = step_rows(raw, since=last_login)
    wait = "none (closed loop: each user sends its next request as soon as the last answered)"
    if args.wait != "0":
        lo, _, hi = args.wait.partition(",")
        wait = f"uniform {lo}–{hi or lo} s between steps (a brisk human pace)"
    lines = [
        f"# Load test: {args.users} handlers against gunicorn + PostgreSQL, {facts['cases']:,} cases",
        "",
        f"- **date**: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, code at {facts['rev']}",
    ]
    lines += [f"- **{k}**: {v}" for k, v in facts["machine"] + facts["db"]]
    lines += [
        f"- **cases**: {facts['cases']:,} in `cases_case`",
        f"- **load average** (1/5/15 min): before {facts['load_before']}, after {facts['load_after']}; "
        f"CPU pressure (avg60) {facts['psi_before']} before, {facts['psi_after']} after",
        f"- **gunicorn**: {args.workers} × `{args.worker_class}` worker(s)"
        + (f", {args.threads} threads each" if args.worker_class == "gthread" else "")
        + f", timeout 120 s, Django DEBUG off, CONN_MAX_AGE 60 (the product's default); ready in "
        f"{facts['ready_s']:.1f} s",
        f"- **locust**: {facts['locust_version']}, one process, `FastHttpUser`, {args.users} users spawned "
        f"at {args.spawn_rate}/s, run time {args.run_time}; think time {wait}",
        f"- **accounts**: {args.users} handler accounts `lt_h01`…`lt_h{args.users:02d}` (role 处理人, spread "
        f"over the six 中支 客服部), each with its own {args.cases_per_user} open cases of its department "
        "(handler_id set by the runner). No throttle or lockout setting was changed: django-axes "
        "counts failed logins only (per username + IP) and the HTML views have no rate limit.",
        f"- **measured window**: {window:.0f} s, from the first loop request (the last users are still logging "
        "in) to the last answer",
        "",
        "## Per step, whole run (ramp-up and logins included)",
        "",
        *step_table(rows, total),
        "",
        f"## Per step, steady state (requests started after the last login answered, "
        f"{last_login - first:.0f} s into the run; {steady_window:.0f} s)",
        "",
        *step_table([r for r in steady_rows if not r["name"].startswith("0 ")], steady_total),
        "",
        "Percentiles are nearest-rank over every request's own duration (client side, loopback), "
        "not locust's rounded histogram. A failure is any answer other than the one the workflow "
        "expects: a GET must be 200 with its page's marker and no error on it (form error, "
        "`msg-error` message, 403/404/500 page); a POST must be 302 back to its case page (a 200/400 "
        "re-rendered form or a 409 version conflict is a failure); a case page must offer one of "
        "accept/start/pause/resume.",
        "",
        "## Steps",
        "",
        "1. **desk**: `GET /cases/` (the navigation's link; the user's scope, view 全部, tab counts).",
        "2. **filter**: `GET /cases/?…` as htmx sends it (`HX-Target: case-table`, the table only), one of: "
        "open status + last 90 days; 我的工单 + status; kind + last year sorted by deadline; 处理中 + "
        "4008热线 + last year; own department + last 30 days, pages 2–5; 已超期; 我的工单.",
        f"   **search** (in {float(os.environ.get('LOAD_SEARCH_SHARE', '0.3')) * 100:.0f} % of the loops): "
        "`q=` 骨髓移植 (rare, trigram), 退保损失 (~10 % of cases, trigram), 骨折 (2 characters, scan "
        "capped at 500).",
        "3. **case**: `GET /cases/<pk>/`, the user's own cases in turn.",
        "4. **contact**: `POST /cases/<pk>/contact/` (method, outcome; CSRF token from the page), "
        "then the redirect target `GET /cases/<pk>/` (**3b**) as a browser loads it.",
        "5. **transition**: `POST /cases/<pk>/transition/<action>/` with the page's version: 登记 → 受理 "
        "(accept), 受理 → 处理中 (start), 处理中 → 暂停 (pause, 待补充材料), 暂停 → 处理中 (resume), so "
        "every case stays open and always has a next step; then **3b** again.",
        "",
        "## Server side",
        "",
        "gunicorn's own time per request (from the access log, µs → ms; the client times above add "
        "the queue in front of the workers and loopback), by request pattern, slowest median first:",
        "",
        "| request | n | median ms | p95 ms |",
        "|---|---:|---:|---:|",
        *[f"| `{r['what']}` | {r['n']:,} | {ms(r['median'])} | {ms(r['p95'])} |" for r in extra["server"]],
        "",
        f"- **HTTP status codes logged by gunicorn**: {', '.join(f'{k}: {v:,}' for k, v in extra['statuses'].items())}",
        f"- **gunicorn error log**: {len(extra['problems'])} traceback/timeout/error lines"
        + (": " + "; ".join(extra["problems"][:5]) if extra["problems"] else ""),
        f"- **rows written by the run**: {extra['rows']['contacts']:,} contact records and "
        f"{extra['rows']['transitions']:,} transitions (database, before/after difference); the bench "
        f"accounts' cases outside the four workable statuses: {extra['rows']['strayed']}",
        f"- **CPU seconds during the run** (2 cores = {2 * window:.0f} core-seconds available): gunicorn "
        f"{extra['cpu']['gunicorn']:.0f}, PostgreSQL {extra['cpu']['postgres']:.0f}, locust "
        f"{extra['cpu']['locust']:.0f}; whole machine busy {extra['cpu']['machine_busy']:.0f} % "
        f"(other work on the shared machine included)",
        f"- **CPU per request** (gunicorn + PostgreSQL, all requests incl. logins): "
        f"{extra['cpu']['per_request_ms']:.0f} ms, so 2 dedicated cores would serve about "
        f"{2000 / max(1, extra['cpu']['per_request_ms']):.0f} req/s of this mix at saturation",
        "",
        "## Commands",
        "",
        "```sh",
        ".venv/bin/python bench/cases_list.py --db postgres --cases 1000000 --load-only --snapshot   # if the database is missing",
        "                                                       # (~2 min on a quiet machine)",
        " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/load_test.py", *facts["argv"]]),
        "```",
        "",
        "which ran:",
        "",
        "```sh",
        " ".join(f"{k}={shlex.quote(v)}" for k, v in facts["env"].items() if k.startswith("XIAOBAO_"))
        + " \\",
        "  " + " ".join(shlex.quote(a) for a in facts["gunicorn"]).replace(str(ROOT) + "/", ""),
        f"LOAD_USERS_FILE=bench/results/tmp/{stem}-users.json LOAD_WAIT={args.wait} \\",
        "  " + " ".join(shlex.quote(a) for a in facts["locust"]).replace(str(ROOT) + "/", ""),
        "```",
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--run-time", default="10m")
    parser.add_argument(
        "--wait", default="2,8", help='think time "min,max" seconds between steps, "0" for none'
    )
    parser.add_argument("--cases-per-user", type=int, default=40)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pg-name", default="xiaobao_bench")
    parser.add_argument("--data-dir", default=str(TMP / "postgres"))
    parser.add_argument("--min-cases", type=int, default=1_000_000)
    parser.add_argument("--out", default="load", help="results file stem in bench/results/")
    parser.add_argument("--snapshot", action="store_true", help="serve the committed code (git archive HEAD)")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the results file from the last run's files"
    )
    args = parser.parse_args()
    if args.report_only:
        return report_only(args.out)
    if args.worker_class == "sync":
        args.threads = 1

    env = configure_env(args)
    code, rev = code_root(args)
    sys.path.insert(0, str(code))
    import django

    django.setup()
    import xiaobao

    rev += f", served from {Path(xiaobao.__file__).parent.parent}"
    from django.db import connection

    TMP.mkdir(parents=True, exist_ok=True)
    stem = args.out
    accounts, meta = prepare_accounts(args)
    users_file = TMP / f"{stem}-users.json"
    users_file.write_text(json.dumps(accounts, ensure_ascii=False))
    facts = {
        "cases": meta["cases"],
        "rev": rev,
        "machine": machine(),
        "db": database_facts(args),
        "env": env,
        "argv": sys.argv[1:],
    }
    rows_before = written_rows(meta["user_ids"])
    connection.close()
    for name in (f"{stem}-access.log", f"{stem}-gunicorn.log"):
        (TMP / name).unlink(missing_ok=True)

    g_cmd, l_cmd = gunicorn_cmd(args, code, stem), locust_cmd(args, stem)
    facts["gunicorn"], facts["locust"] = g_cmd, l_cmd
    facts["locust_version"] = subprocess.run(
        [str(VENV / "locust"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    genv = {**os.environ, "PYTHONPATH": str(code)}
    print("$", " ".join(g_cmd), flush=True)
    server = subprocess.Popen(g_cmd, env=genv, cwd=str(code))
    try:
        facts["ready_s"] = wait_ready(args.port, server)
        time.sleep(2)
        facts["load_before"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        facts["psi_before"] = cpu_pressure()
        pg0, busy0 = postgres_cpu(), machine_cpu()
        g0 = proc_cpu(server.pid) + sum(proc_cpu(c) for c in children(server.pid))
        raw_file = TMP / f"{stem}-raw.json"
        raw_file.unlink(missing_ok=True)
        lenv = {
            **os.environ,
            "LOAD_USERS_FILE": str(users_file),
            "LOAD_WAIT": args.wait,
            "LOAD_RAW_FILE": str(raw_file),
        }
        print("$", " ".join(l_cmd), flush=True)
        import resource

        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(TMP / f"{stem}-locust.log", "w") as log:
            loc = subprocess.Popen(l_cmd, env=lenv, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
            peak_g = 0.0
            while loc.poll() is None:
                # Workers are never restarted here, but sample anyway: a dead worker's CPU would be lost.
                peak_g = max(peak_g, proc_cpu(server.pid) + sum(proc_cpu(c) for c in children(server.pid)))
                time.sleep(2)
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # locust is the only child reaped meanwhile
        locust_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        g1 = proc_cpu(server.pid) + sum(proc_cpu(c) for c in children(server.pid))
        pg1, busy1 = postgres_cpu(), machine_cpu()
        facts["load_after"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        facts["psi_after"] = cpu_pressure()
    finally:
        stop(server)
    print(f"locust exited with {loc.returncode}", flush=True)

    raw = json.loads(raw_file.read_text())
    django.db.connections.close_all()
    rows_after = written_rows(meta["user_ids"])
    extra = {
        "statuses": status_counts(TMP / f"{stem}-access.log"),
        "problems": log_problems(TMP / f"{stem}-gunicorn.log"),
        "rows": {
            "contacts": rows_after["contacts"] - rows_before["contacts"],
            "transitions": rows_after["transitions"] - rows_before["transitions"],
            "strayed": rows_after["strayed"],
        },
        "cpu": {
            "gunicorn": max(g1, peak_g) - g0,
            "postgres": pg1 - pg0,
            "locust": locust_cpu,
            "machine_busy": 100 * (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]),
            "per_request_ms": 1000 * (max(g1, peak_g) - g0 + pg1 - pg0) / max(1, len(raw)),
        },
    }
    (TMP / f"{stem}-run.json").write_text(
        json.dumps({"args": vars(args), "facts": facts, "extra": extra}, ensure_ascii=False, indent=1)
    )
    report(args, stem, facts, raw, extra)


def report(args, stem, facts, raw, extra) -> None:
    extra["server"] = server_times(TMP / f"{stem}-access.log")
    out = write_report(args, stem, facts, raw, extra)
    print(out.read_text())
    failures = sum(1 for r in raw if not r[3])
    if failures:
        print(
            f"FAILURES: {failures}; see {TMP / (stem + '-locust.log')} and {TMP / (stem + '_failures.csv')}"
        )


def report_only(stem: str) -> None:
    """Rewrite bench/results/<stem>.md from the files a run left in bench/results/tmp/."""
    saved = json.loads((TMP / f"{stem}-run.json").read_text())
    raw = json.loads((TMP / f"{stem}-raw.json").read_text())
    report(argparse.Namespace(**saved["args"]), stem, saved["facts"], raw, saved["extra"])


if __name__ == "__main__":
    main()
