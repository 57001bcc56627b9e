"""Time the demo branch's year-end report (issue 7: under 10 s on this machine).

    .venv/bin/python bench/report_yearend.py            # build the demo at full scale, then measure
    .venv/bin/python bench/report_yearend.py --reuse    # measure again on the demo already built

The demo goes to bench/results/tmp/report-demo/ (its own data folder: SQLite and the policy store).
Measures, for `xiaobao report yearend --year 2024 --unit 8637`:
- in process: report_write() (KPI snapshot freeze + registry figures + education and case
  statistics + Word), N repetitions, wall and CPU, median and max;
- end to end: the console command in a fresh process (Django start-up included), 3 runs.
Writes bench/results/reports.md.
"""

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "results" / "tmp" / "report-demo"
OUT = ROOT / "bench" / "results" / "reports.md"
XIAOBAO = str(ROOT / ".venv" / "bin" / "xiaobao")


def sh(*args, **kw):
    env = {**os.environ, "XIAOBAO_DATA_DIR": str(DATA)}
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env, **kw)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    built = ""
    if not args.reuse or not (DATA / "xiaobao.sqlite3").exists():
        shutil.rmtree(DATA, ignore_errors=True)
        DATA.mkdir(parents=True)
        started = time.perf_counter()
        sh(XIAOBAO, "migrate", "-v0")
        sh(XIAOBAO, "demo-data", "--seed", "2024")
        built = f"Demo built in {time.perf_counter() - started:.0f} s (scale 1)."

    os.environ["XIAOBAO_DATA_DIR"] = str(DATA)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaobao.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from xiaobao.org.models import Unit
    from xiaobao.reports.services import report_write

    unit = Unit.objects.get(code="8637")
    target = DATA / "yearend-2024.docx"
    walls, cpus = [], []
    for _ in range(args.reps + 1):  # the first run warms the caches and imports
        w0, c0 = time.perf_counter(), time.process_time()
        report_write(kind="yearend", period="2024", unit=unit, target=target, fmt="docx")
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    first_wall, walls, cpus = walls[0], walls[1:], cpus[1:]

    def child_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def timed(*command) -> tuple[list[float], list[float]]:
        walls, cpus = [], []
        for _ in range(3):
            w0, c0 = time.perf_counter(), child_cpu()
            sh(XIAOBAO, *command)
            walls.append(time.perf_counter() - w0)
            cpus.append(child_cpu() - c0)
        return walls, cpus

    cli, cli_cpu = timed("report", "yearend", "--year", "2024", "--unit", "8637", "-o", str(target))
    start, start_cpu = timed("check")  # Django start-up alone, for comparison

    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        "# Year-end report of the demo branch (issue 7: target < 10 s)",
        "",
        f"`xiaobao report yearend --year 2024 --unit 8637 -o FILE.docx` on the full-scale demo (seed 2024). {built}",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {load}"
        " (shared with other work). SQLite, DuckDB KPI backend.",
        "",
        "| what | runs | wall median s | wall max s | CPU median s |",
        "|---|---:|---:|---:|---:|",
        f"| in process, first run (imports, cold caches) | 1 | {first_wall:.2f} | {first_wall:.2f} | |",
        f"| in process: snapshot freeze + figures + Word | {len(walls)} | {statistics.median(walls):.2f} | "
        f"{max(walls):.2f} | {statistics.median(cpus):.2f} |",
        f"| console command, fresh process (Django start-up included) | {len(cli)} | {statistics.median(cli):.2f} | "
        f"{max(cli):.2f} | {statistics.median(cli_cpu):.2f} |",
        f"| for comparison: `xiaobao check` (Django start-up alone) | {len(start)} | {statistics.median(start):.2f} | "
        f"{max(start):.2f} | {statistics.median(start_cpu):.2f} |",
        "",
        "Each run freezes a new KPI snapshot of 2024 for the branch (the appendix cites it) and draws the monthly"
        " chart with matplotlib. A fresh process also pays Django's start-up and the imports of DuckDB/Ibis and"
        " matplotlib; wall times grow with the load of the shared machine, CPU times much less.",
        "",
        "Reproduce: `.venv/bin/python bench/report_yearend.py` (add `--reuse` to keep the built demo).",
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
