"""Planner statistics for the case tables (bench/results/cases-list.md, findings 3 and 4).

SQLite keeps no statistics until ANALYZE runs: without sqlite_stat1 it picks the `channel` index
(78 % of the rows) for `status = … AND channel = …`. PostgreSQL's autovacuum analyzes eventually,
but not right after a bulk import or a migration that adds an expression index (the trigram index
on UPPER(description) needs its own statistics before the planner trusts it).
"""

from django.db import connections


def analyze_cases(using: str = "default") -> None:
    """Refresh the statistics of cases_case and org_unit, the tables the desk's plans depend on.

    PostgreSQL's ANALYZE samples 30,000 rows of cases_case (about a second at a million cases).
    SQLite's reads every index in full (5.8 s at a million cases on a busy 2-core machine).
    PRAGMA analysis_limit would make it cheaper but caps the rows-per-key estimates at the limit:
    a unit's 40,000 cases then look like 1,000, and the desk sorts a whole scope (5.7 s) instead
    of walking received_at."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE cases_case")
            cursor.execute("ANALYZE org_unit")
        elif connection.vendor == "postgresql":
            # org_unit too: a few dozen rows that autovacuum reaches late or, where it is off,
            # never (the org scope of every desk query joins it).
            cursor.execute("ANALYZE cases_case, org_unit")


def analyze_after_migrate(sender, using: str = "default", plan=None, **kwargs) -> None:
    """post_migrate: fresh statistics after a migrate (a deployment). PostgreSQL every time (a
    second at a million cases); SQLite (about 6 s there) when a migration ran or the case table
    has no statistics yet."""
    connection = connections[using]
    if "cases_case" not in connection.introspection.table_names():
        return  # migrated backwards past 0001
    if connection.vendor == "sqlite" and plan is not None and not plan and _sqlite_has_stats(connection):
        return
    analyze_cases(using)


def _sqlite_has_stats(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return False
        cursor.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'cases_case' LIMIT 1")
        return cursor.fetchone() is not None
