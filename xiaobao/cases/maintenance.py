"""Planner statistics for the case tables (bench/results/cases-list.md, findings 3 and 4).

SQLite keeps no statistics until ANALYZE runs: without sqlite_stat1 it picks the `channel` index
(78 % of the rows) for `status = … AND channel = …`. PostgreSQL's autovacuum analyzes eventually,
but not right after a bulk import or a migration that adds an expression index (the trigram index
on UPPER(description) needs its own statistics before the planner trusts it).
"""

from django.db import connections

# SQLite: rows examined per index by ANALYZE. Approximate statistics are all the planner needs
# here, and the cost stays a fraction of a second at a million cases.
SQLITE_ANALYSIS_LIMIT = 1000


def analyze_cases(using: str = "default") -> None:
    """Refresh the statistics of the case tables. Cheap: SQLite samples with analysis_limit,
    PostgreSQL's ANALYZE samples 30,000 rows per table."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
            try:
                cursor.execute("ANALYZE")
            finally:
                cursor.execute("PRAGMA analysis_limit = 0")
        elif connection.vendor == "postgresql":
            cursor.execute("ANALYZE cases_case")


def analyze_after_migrate(sender, using: str = "default", plan=None, **kwargs) -> None:
    """post_migrate: statistics for what the migrations just built (skipped when nothing ran)."""
    if plan is not None and not plan:
        return
    connection = connections[using]
    if "cases_case" not in connection.introspection.table_names():
        return  # migrated backwards past 0001
    analyze_cases(using)
