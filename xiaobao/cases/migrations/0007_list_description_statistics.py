"""PostgreSQL: the same finer statistics (0006) for the plain description column, which a search
term too short for trigrams (2 characters) or without cased letters is matched against with a
plain LIKE (selectors.search_q).

With 100 sampled values, a 2-character term found in 1 % of descriptions usually matches none of
them, so the planner took it for 0.01 % of a department's cases and sorted every case of the
department to find the newest 50 matches (607 ms) instead of walking received_at until it had
them (95 ms). ANALYZE already samples 60,000 rows since 0006; this adds no reading.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE cases_case ALTER COLUMN description SET STATISTICS 200")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE cases_case ALTER COLUMN description SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_list_search_statistics")]
    operations = [migrations.RunPython(forwards, backwards)]
