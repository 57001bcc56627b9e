"""Run by the backup tests as a subprocess against a throw-away data folder and database.

python -m xiaobao.backup.tests.probe build     the small demo branch (2024, today 2025-01-15)
python -m xiaobao.backup.tests.probe facts     JSON: row counts of every table, the 2024 KPIs
python -m xiaobao.backup.tests.probe destroy   delete every case, wipe the Parquet store
"""

import datetime as dt
import json
import os
import shutil
import sys

TODAY = dt.date(2025, 1, 15)


def build() -> dict:
    from xiaobao.audit.services import audit_record
    from xiaobao.demo.builders import build_demo

    counts = build_demo(2024, today=TODAY, scale=0.05)
    audit_record(action="import", actor_name="backup-test", details={"seed": 2024})
    return counts


def facts() -> dict:
    from xiaobao.audit.services import audit_verify
    from xiaobao.backup import database
    from xiaobao.kpi.engine import compute
    from xiaobao.kpi.periods import parse_period

    run = compute(period=parse_period("2024"), today=TODAY)
    return {
        "counts": database.counts(),
        "kpi": {key: entry.get("value") for key, entry in run.results.items()},
        "audit_problems": audit_verify(),
    }


def counts() -> dict:
    from xiaobao.backup import database

    return {"counts": database.counts()}


def destroy() -> dict:
    from django.db import connection

    from xiaobao.book.store import store_root

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("TRUNCATE cases_case CASCADE")
        else:
            cur.execute("PRAGMA foreign_keys = OFF")
            cur.execute("DELETE FROM cases_case")
    shutil.rmtree(store_root())
    return {"destroyed": True}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaobao.settings")
    import django

    django.setup()
    action = {"build": build, "facts": facts, "counts": counts, "destroy": destroy}[sys.argv[1]]
    print(json.dumps(action(), ensure_ascii=False, default=str, sort_keys=True))


if __name__ == "__main__":
    main()
