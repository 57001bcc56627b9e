"""PostgreSQL: finer planner statistics for UPPER(description), the expression of the trigram
index that full-text search uses (bench/results/cases-list.md, 2026-11-28 evening).

With the default statistics target (100) the planner estimates a phrase's share of descriptions
from about 100 sampled values; one sampled description that happens to hold a rare phrase
(0.1 % of cases) makes it look like 1 %, and the desk then walks the received_at index newest
first, testing 57,000 descriptions for its 50 rows (275 ms), instead of reading the 1,000
matches from the trigram index and sorting them (12 ms). A target of 200 samples twice as many
rows, so a rare phrase looks rare and a common one (10 %) still walks received_at. ANALYZE of
cases_case (after each migrate and case import, xiaobao.cases.maintenance) reads 60,000 rows
instead of 30,000.

SQLite has no such statistics (its full-text search probes FTS5 first, see selectors.search_q).
"""

from django.db import migrations

INDEX = "cases_case_description_upper_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX IF EXISTS {INDEX} ALTER COLUMN 1 SET STATISTICS 200")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX IF EXISTS {INDEX} ALTER COLUMN 1 SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_import_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
