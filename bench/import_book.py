"""Import throughput of the book formats at core-system scale, against a floor.

    .venv/bin/python bench/import_book.py                       # 10,000,000 policies + 10,000,000 premiums
    .venv/bin/python bench/import_book.py --policies 1000000    # a quicker run
    .venv/bin/python bench/import_book.py --keep                # keep the generated CSV files

1. Builds a throw-away data folder (bench/results/tmp/import-book/, SQLite) with the demo org, so
   the policies' units exist.
2. Generates N policies and their premiums (policy years 1 and 2 of the first half of the policies:
   N premium rows) as UTF-8 CSV with DuckDB: valid 身份证号 with check digits, phones, dates over
   ten years, Decimal amounts, a few lapsed and surrendered policies with their status dates.
3. The floor: DuckDB reading the same CSV into Parquet with no validation at all:
   COPY (SELECT * FROM read_csv(...)) TO 'x.parquet'.
4. `xiaobao book-import policies` then `premiums` (the vectorised pass), each in its own process,
   timed from outside, with its peak RSS (wait4's ru_maxrss).
5. `xiaobao import policies` (the framework's row-by-row engine) on the first --framework-rows rows,
   for comparison.
6. Writes bench/results/import-book.md and deletes the CSV files (unless --keep).
"""

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
WORK = RESULTS / "tmp" / "import-book"
PYTHON = sys.executable
TARGET_RATIO = 2.0
MEMORY_LIMIT_GB = 4.0

POLICIES_SQL = """
COPY (
WITH base AS (
    SELECT range AS i,
           (hash(range) >> 2)::BIGINT AS h,
           (hash(range * 7 + 1) >> 2)::BIGINT AS g,
           (hash(range * 13 + 5) >> 2)::BIGINT AS k
    FROM range({n})
),
people AS (
    SELECT *,
        ['370102', '370202', '370602', '370702', '371302', '370811'][(h % 6) + 1]
            || strftime(DATE '1950-01-01' + (g % 20000)::INTEGER, '%Y%m%d')
            || lpad((k % 1000)::VARCHAR, 3, '0') AS a17,
        ['370102', '370202', '370602', '370702', '371302', '370811'][(g % 6) + 1]
            || strftime(DATE '1960-01-01' + (k % 20000)::INTEGER, '%Y%m%d')
            || lpad((h % 1000)::VARCHAR, 3, '0') AS i17,
        DATE '2016-01-01' + (k % 3650)::INTEGER AS eff
    FROM base
)
SELECT
    '8637' || lpad(((h % 6) + 1)::VARCHAR, 2, '0') || lpad(i::VARCHAR, 9, '0') AS policy_no,
    '8637' || lpad(((h % 6) + 1)::VARCHAR, 2, '0') AS org_code,
    ['个险', '个险', '个险', '银保', '银保', '团险', '经代', '互联网', '电销'][(g % 9) + 1] AS channel,
    'P100' || ((k % 6) + 1) AS product_code,
    ['瀚海福享终身寿险(分红型)', '瀚海鑫享年金保险', '瀚海安康重大疾病保险', '瀚海金账户两全保险(万能型)',
     '瀚海护航医疗保险', '瀚海少儿成长年金保险'][(k % 6) + 1] AS product_name,
    ['分红', '年金', '健康', '万能', '健康', '年金'][(k % 6) + 1] AS product_type,
    'A8637' || lpad(((h % 6) + 1)::VARCHAR, 2, '0') || lpad((g % 2000)::VARCHAR, 4, '0') AS agent_code,
    substr('王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗', (h % 20)::INTEGER + 1, 1)
        || substr('伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰', (g % 20)::INTEGER + 1, 1)
        || CASE WHEN k % 3 = 0 THEN '' ELSE substr('华玉萍鹏辉建丹玲飞鑫波宁斌宇浩凯健俊帆帅', (k % 20)::INTEGER + 1, 1) END
        AS applicant_name,
    a17 || substr('10X98765432', (({a_sum}) % 11)::INTEGER + 1, 1) AS applicant_id_no,
    ['138', '139', '135', '186', '187', '150', '158', '177'][(g % 8) + 1] || lpad((h % 100000000)::VARCHAR, 8, '0')
        AS applicant_phone,
    CASE WHEN h % 5 < 3 THEN a17 || substr('10X98765432', (({a_sum}) % 11)::INTEGER + 1, 1)
         ELSE i17 || substr('10X98765432', (({i_sum}) % 11)::INTEGER + 1, 1) END AS insured_id_no,
    strftime(eff, '%Y-%m-%d') AS effective_date,
    ['年交', '年交', '年交', '年交', '年交', '年交', '趸交', '月交', '季交', '半年交'][(g % 10) + 1] AS payment_mode,
    [3, 5, 10, 10, 15, 20][(h % 6) + 1] AS payment_years,
    (1000 + (g % 9900) * 10)::DECIMAL(18, 2) AS annual_premium,
    (50000 + (k % 950) * 1000)::DECIMAL(18, 2) AS sum_assured,
    CASE WHEN g % 100 < 3 THEN '退保' WHEN g % 100 < 8 THEN '失效' ELSE '有效' END AS status,
    CASE WHEN g % 100 < 8 THEN strftime(eff + 400 + (h % 300)::INTEGER, '%Y-%m-%d') ELSE '' END AS status_date
FROM people
) TO '{path}' (HEADER, DELIMITER ',')
"""

PREMIUMS_SQL = """
COPY (
WITH base AS (
    SELECT range AS i, (hash(range) >> 2)::BIGINT AS h, (hash(range * 7 + 1) >> 2)::BIGINT AS g,
           (hash(range * 13 + 5) >> 2)::BIGINT AS k
    FROM range({n})
),
years AS (SELECT * FROM base, (VALUES (1), (2)) y(policy_year))
SELECT
    '8637' || lpad(((h % 6) + 1)::VARCHAR, 2, '0') || lpad(i::VARCHAR, 9, '0') AS policy_no,
    policy_year,
    strftime(DATE '2016-01-01' + (k % 3650)::INTEGER + (policy_year - 1) * 365, '%Y-%m-%d') AS due_date,
    strftime(DATE '2016-01-01' + (k % 3650)::INTEGER + (policy_year - 1) * 365 + (h % 20)::INTEGER, '%Y-%m-%d')
        AS received_date,
    (1000 + (g % 9900) * 10)::DECIMAL(18, 2) AS amount
FROM years
) TO '{path}' (HEADER, DELIMITER ',')
"""


def check_sum(column: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return " + ".join(f"(ascii(substr({column}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(weights))


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOBAO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="xiaobao.settings",
        XIAOBAO_MODE="demo",
        XIAOBAO_DATA_DIR=str(WORK / "data"),
        XIAOBAO_DATABASE_URL=f"sqlite:///{WORK / 'data' / 'xiaobao.sqlite3'}",
    )
    return env


def run(args: list[str], label: str) -> dict:
    """Run a command in its own process: wall seconds, peak RSS (GB) and its last stdout line."""
    load = os.getloadavg()[0]
    started = time.monotonic()
    process = subprocess.Popen(
        args, env=environment(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    out = process.stdout.read().decode()
    err = process.stderr.read().decode()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0,):
        print(out[-2000:], err[-4000:], file=sys.stderr)
        raise SystemExit(f"{label}: exit {process.returncode}")
    lines = [line for line in out.splitlines() if line.strip()]
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,  # with the children it waited for (the sealers)
        "rss_gb": usage.ru_maxrss / 1024 / 1024,
        "load": load,  # 1-minute load average when the command started
        "out": lines[-1] if lines else "",
    }


def prepare() -> None:
    shutil.rmtree(WORK / "data", ignore_errors=True)
    (WORK / "data").mkdir(parents=True)
    run([PYTHON, "-m", "xiaobao", "migrate", "--verbosity", "0"], "migrate")
    script = "from xiaobao.demo.builders import build_org; build_org()"
    run([PYTHON, "-m", "xiaobao", "shell", "-c", script], "units")


def generate(n: int) -> tuple[Path, Path, dict]:
    import duckdb

    policies, premiums = WORK / "policies.csv", WORK / "premiums.csv"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    started = time.monotonic()
    con.execute(POLICIES_SQL.format(n=n, path=policies, a_sum=check_sum("a17"), i_sum=check_sum("i17")))
    con.execute(PREMIUMS_SQL.format(n=n // 2, path=premiums))
    seconds = time.monotonic() - started
    return policies, premiums, {"seconds": seconds}


FLOOR_SCRIPT = """
import duckdb, sys, time
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
started = time.monotonic()
con.execute(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet)")
print(time.monotonic() - started)
"""


def floor(csv_path: Path) -> dict:
    target = WORK / (csv_path.stem + "-floor.parquet")
    result = run([PYTHON, "-c", FLOOR_SCRIPT, str(csv_path), str(target)], f"floor {csv_path.name}")
    target.unlink(missing_ok=True)
    return result


def head(csv_path: Path, rows: int) -> Path:
    target = WORK / f"{csv_path.stem}-{rows}.csv"
    with csv_path.open("rb") as src, target.open("wb") as dst:
        for i, line in enumerate(src):
            if i > rows:
                break
            dst.write(line)
    return target


def count_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b"")) - 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--policies", type=int, default=10_000_000)
    parser.add_argument("--framework-rows", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="reuse the CSV files of an earlier --keep run")
    parser.add_argument("--out", default="import-book")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    print("preparing the data folder …", flush=True)
    prepare()
    if args.reuse and (WORK / "policies.csv").exists():
        policies, premiums, generated = WORK / "policies.csv", WORK / "premiums.csv", {"seconds": 0}
    else:
        print(f"generating {args.policies:,} policies …", flush=True)
        policies, premiums, generated = generate(args.policies)
    sizes = {p.name: p.stat().st_size for p in (policies, premiums)}
    counts = {"policies": count_rows(policies), "premiums": count_rows(premiums)}
    rows = []
    for kind, path in (("policies", policies), ("premiums", premiums)):
        print(f"floor {kind} …", flush=True)
        base = floor(path)
        print(f"  {base['seconds']:.1f} s", flush=True)
        print(f"xiaobao book-import {kind} …", flush=True)
        imported = run([PYTHON, "-m", "xiaobao", "book-import", kind, str(path)], f"book-import {kind}")
        summary = json.loads(imported["out"])
        print(f"  {imported['seconds']:.1f} s, {imported['rss_gb']:.2f} GB: {summary['message']}", flush=True)
        rows.append((kind, counts[kind], sizes[path.name], base, imported, summary))
    print(f"xiaobao import policies (framework, {args.framework_rows:,} rows) …", flush=True)
    small = head(policies, args.framework_rows)
    small_floor = floor(small)
    shutil.rmtree(WORK / "data" / "store" / "policies", ignore_errors=True)
    framework = run([PYTHON, "-m", "xiaobao", "import", "policies", str(small)], "framework import")
    framework_summary = json.loads(framework["out"])
    print(f"  {framework['seconds']:.1f} s, {framework['rss_gb']:.2f} GB", flush=True)
    small.unlink()
    report(args, rows, generated, (args.framework_rows, small_floor, framework, framework_summary))
    if not args.keep:
        for path in (policies, premiums):
            path.unlink(missing_ok=True)
    shutil.rmtree(WORK / "data", ignore_errors=True)


def report(args, rows, generated, framework) -> None:
    import duckdb
    import pyarrow

    load = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = cpu
    lines = [
        "# Import throughput: policies and premiums at core-system scale",
        "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M} on {os.cpu_count()} × {model}, load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end (the machine is shared: the floor is "
        "measured right before each import so both see the same load). Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}, pyarrow {pyarrow.__version__}.",
        "",
        "Wall seconds depend on what else the shared machine runs; CPU seconds (user + system, the "
        "import's child processes included) much less, so both are given. "
        "Floor: DuckDB `COPY (SELECT * FROM read_csv(...)) TO 'x.parquet'`, no validation, no "
        "encryption, no merge. Import: `xiaobao book-import KIND FILE` in its own process, end to end "
        "(batch, hash, header, every check, sealing and tokens, merge with the current version, "
        f"commit, audit). Target: at most {TARGET_RATIO:g}× the floor; peak RSS under "
        f"{MEMORY_LIMIT_GB:g} GB.",
        "",
        "| file | rows | size | floor s | floor rows/s | import s | import rows/s | × floor | floor CPU s | import CPU s | CPU × | peak RSS | load at start (floor / import) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, count, size, base, imported, _summary in rows:
        lines.append(
            f"| {kind} | {count:,} | {size / 1e9:.2f} GB | {base['seconds']:.1f} | {count / base['seconds']:,.0f} | "
            f"{imported['seconds']:.1f} | {count / imported['seconds']:,.0f} | "
            f"{imported['seconds'] / base['seconds']:.2f} | {base['cpu']:.1f} | {imported['cpu']:.1f} | "
            f"{imported['cpu'] / base['cpu']:.2f} | {imported['rss_gb']:.2f} GB | "
            f"{base['load']:.1f} / {imported['load']:.1f} |"
        )
    n, small_floor, framework_run, framework_summary = framework
    lines += [
        "",
        f"The framework's row-by-row engine (`xiaobao import policies`) on the first {n:,} rows of the "
        "same file, for comparison:",
        "",
        "| file | rows | floor s | import s | import rows/s | × floor | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| policies | {n:,} | {small_floor['seconds']:.1f} | {framework_run['seconds']:.1f} | "
        f"{n / framework_run['seconds']:,.0f} | {framework_run['seconds'] / small_floor['seconds']:.1f} | "
        f"{framework_run['rss_gb']:.2f} GB |",
        "",
        "Summaries:",
        "",
    ]
    for kind, *_rest, summary in rows:
        lines.append(f"- {kind}: {summary['message']} ({summary.get('seconds')} s inside the import)")
    lines.append(f"- framework policies: {framework_summary['message']}")
    lines.append("")
    lines.append(f"Generating the CSV files took {generated['seconds']:.0f} s (not part of any figure).")
    out = RESULTS / f"{args.out}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
