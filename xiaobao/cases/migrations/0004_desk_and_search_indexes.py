"""Indexes for the desk's counts and the full-text search at a million cases
(bench/results/cases-list.md, "Recommendations and measured effect").

PostgreSQL:
- `case_open_desk`: a partial covering index over the open cases, so desk_counts() and the
  mine/unit/urgent/overdue tabs read a small index instead of the table.
- The trigram index is rebuilt on UPPER(description): Django's icontains compares
  UPPER("description"::text) LIKE UPPER(…), which the plain index on description never serves.
- org_unit (a few dozen rows) never reaches autovacuum's default analyze threshold (50 rows +
  10 %), so the planner had no statistics for it and misestimated every scope join.

SQLite: a partial index is not used (Django binds `status IN (?, …)`), so `case_unit_status` is
widened to cover the desk's counts instead. The model state keeps (unit, status): the extra
columns are a physical detail of one database, like the full-text table of 0002.

ANALYZE itself runs after every migrate (xiaobao.cases.apps) and after each case import.
"""

from django.db import migrations

OPEN = "('登记', '受理', '处理中', '暂停', '核查中')"  # OPEN_STATUSES when this was written
DESK_COLUMNS = "unit_id, status, handler_id, urgent, due_date, response_due_date, responded_at"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX case_open_desk ON cases_case ({DESK_COLUMNS}, id) WHERE status IN {OPEN}"
        )
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS cases_case_description_trgm")
        schema_editor.execute(
            "CREATE INDEX cases_case_description_upper_trgm ON cases_case "
            "USING gin (UPPER(description) gin_trgm_ops)"
        )
        schema_editor.execute("ALTER TABLE org_unit SET (autovacuum_analyze_threshold = 5)")
        schema_editor.execute("ANALYZE org_unit")
    elif vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS case_unit_status")
        schema_editor.execute(f"CREATE INDEX case_unit_status ON cases_case ({DESK_COLUMNS})")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_open_desk")
        schema_editor.execute("DROP INDEX IF EXISTS cases_case_description_upper_trgm")
        schema_editor.execute(
            "CREATE INDEX cases_case_description_trgm ON cases_case USING gin (description gin_trgm_ops)"
        )
        schema_editor.execute("ALTER TABLE org_unit RESET (autovacuum_analyze_threshold)")
    elif vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS case_unit_status")
        schema_editor.execute("CREATE INDEX case_unit_status ON cases_case (unit_id, status)")


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_review_clock"), ("org", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
