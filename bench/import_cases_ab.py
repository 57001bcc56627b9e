"""The Texas import, this checkout's code against an earlier revision's, in alternating runs.

    .venv/bin/python bench/import_cases_ab.py --against 5550b82 --db postgres --rounds 4

This machine's speed moves by 20-30 % between runs and between hours, so a change is measured
against the code before it, run for run: old, new, old, new, … Each run is its own process on a
fresh database (created, migrated, one head office), imports the whole file once
(`import_run`, the service the command calls) and reports wall and CPU seconds. The earlier
revision runs from a git worktree (removed afterwards), with that tree first on sys.path.

Writes bench/results/import-cases-ab-<db>.md (or --out STEM) and prints it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"

# One run, in a child process whose sys.path starts with the code tree under test.
CHILD = r"""
import json, os, sys, time
code, db = sys.argv[1], sys.argv[2]
sys.path.insert(0, code)
sys.path.insert(1, os.path.join(os.environ["XIAOBAO_BENCH_ROOT"], "bench"))
import import_cases as bench  # this checkout's helpers: environment, fresh database, file
data_dir = bench.configure_env(db)
bench.fresh_database(db, data_dir)
import django
django.setup()
import xiaobao
assert xiaobao.__file__.startswith(code), (xiaobao.__file__, code)
from django.core.management import call_command
call_command("migrate", verbosity=0)
from xiaobao.org.models import Unit, UnitLevel
from xiaobao.org.services import unit_save
unit_save(unit=Unit(code="HQ", name="总公司", level=UnitLevel.HEAD_OFFICE))
result = bench.timed_import(bench.FILE)
from django.db import connection
connection.close()
bench.drop_database(db, data_dir)
print(json.dumps(result))
"""


def run(code: Path, db: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(code), db],
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # not this checkout: its folder would shadow the tree under test
        env={**os.environ, "XIAOBAO_BENCH_ROOT": str(ROOT)},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def render(db: str, against: str, head: str, pairs: list[tuple[dict, dict]]) -> str:
    lines = [
        f"# Texas import, {db}: {head} against {against}, alternating runs",
        "",
        "Written by `bench/import_cases_ab.py`. Each run: a fresh database, the whole file (281,397 rows) "
        "imported once. Seconds are wall time from the call to its return; CPU is the importing process's "
        "own (the database server's is not in it).",
        "",
        f"| round | {against} s | CPU s | rows/s | {head} s | CPU s | rows/s | new − old s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, (old, new) in enumerate(pairs, 1):
        lines.append(
            f"| {i} | {old['seconds']} | {old['cpu_seconds']} | {old['rows_per_s']:,} | {new['seconds']} | "
            f"{new['cpu_seconds']} | {new['rows_per_s']:,} | {new['seconds'] - old['seconds']:+.2f} |"
        )

    def med(side: int, key: str) -> float:
        return round(statistics.median(pair[side][key] for pair in pairs), 2)

    lines += [
        f"| median | {med(0, 'seconds')} | {med(0, 'cpu_seconds')} | {med(0, 'rows_per_s'):,.0f} | "
        f"{med(1, 'seconds')} | {med(1, 'cpu_seconds')} | {med(1, 'rows_per_s'):,.0f} | "
        f"{statistics.median(n['seconds'] - o['seconds'] for o, n in pairs):+.2f} |",
        "",
        "Load average (1 min) after each round: " + ", ".join(f"{new['load']:.1f}" for _, new in pairs) + ".",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", required=True, help="the git revision to compare with")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--out", help="the results file's stem (default import-cases-ab-<db>)")
    args = parser.parse_args()
    git = ["git", "-C", str(ROOT)]
    against = subprocess.run(
        [*git, "rev-parse", "--short", args.against], check=True, capture_output=True, text=True
    )
    against = against.stdout.strip()
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True)
    head = head.stdout.strip()
    tree = RESULTS / "tmp" / f"ab-{against}"
    subprocess.run(
        [*git, "worktree", "add", "--detach", "-f", str(tree), against], check=True, capture_output=True
    )
    pairs = []
    try:
        for i in range(args.rounds):
            old, new = run(tree, args.db), run(ROOT, args.db)
            print(f"round {i + 1}: {against} {old['seconds']} s, {head} {new['seconds']} s", file=sys.stderr)
            pairs.append((old, new))
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False, capture_output=True)
    text = render(args.db, against, head, pairs)
    (RESULTS / f"{args.out or f'import-cases-ab-{args.db}'}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
