"""PostgreSQL: the same finer statistics (0006) for the plain description column, which a search
term too short for trigrams (2 characters) or without cased letters is matched against with a
plain LIKE (selectors.search_q).

The planner estimates a LIKE '%…%' share from the column's histogram bounds. With 101 bounds a
2-character term found in 1 % of descriptions matches none of them about a third of the time
(0.99^101), and the planner then takes it for 0.01 % of a department's cases and sorts every case
of the department for the newest 50 matches (607 ms) instead of walking received_at until it has
them (95 ms, measured after an ANALYZE whose bounds held the term). With 201 bounds that happens
about one ANALYZE in eight (0.99^201); the 2026-11-28 evening run drew such a sample (0 of 201
bounds held 骨折), so it is not a fix for short terms, only a better chance. ANALYZE already
samples 60,000 rows since 0006; this adds no reading.
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
