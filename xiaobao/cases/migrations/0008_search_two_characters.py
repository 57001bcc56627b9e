"""SQLite: index each description with an end mark, so a 2-character term is found through the
trigram index instead of a scan of every description.

A trigram index holds every 3-character run of a text. A 2-character term (骨折, 退保: the usual
length of a Chinese word) is in a text exactly when some trigram begins with it, or when the text
ends with it. The end mark (a newline, appended to what is indexed, never to the stored text) makes
the second case a trigram too ("骨折\\n"), so the trigrams that begin with the term, read from the
index's vocabulary in one range (fts5vocab), find every description that holds it
(selectors.search_q). The triggers and the import index `description || char(10)`; this migration
re-indexes the existing descriptions (about a minute per million).
"""

from django.db import migrations

MARKED = "description || char(10)"


def _index_with(schema_editor, indexed: str) -> None:
    """Triggers that index `indexed`, and every description indexed so."""
    for name in ("ai", "ad", "au"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS cases_case_fts_{name}")
    old, new = indexed.replace("description", "old.description"), indexed.replace("description", "new.description")
    schema_editor.execute(
        "CREATE TRIGGER cases_case_fts_ai AFTER INSERT ON cases_case BEGIN "
        f"INSERT INTO cases_case_fts(rowid, description) VALUES (new.id, {new}); END"
    )
    schema_editor.execute(
        "CREATE TRIGGER cases_case_fts_ad AFTER DELETE ON cases_case BEGIN "
        f"INSERT INTO cases_case_fts(cases_case_fts, rowid, description) VALUES ('delete', old.id, {old}); END"
    )
    schema_editor.execute(
        "CREATE TRIGGER cases_case_fts_au AFTER UPDATE OF description ON cases_case BEGIN "
        f"INSERT INTO cases_case_fts(cases_case_fts, rowid, description) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO cases_case_fts(rowid, description) VALUES (new.id, {new}); END"
    )
    schema_editor.execute("INSERT INTO cases_case_fts(cases_case_fts) VALUES ('delete-all')")
    schema_editor.execute(f"INSERT INTO cases_case_fts(rowid, description) SELECT id, {indexed} FROM cases_case")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _index_with(schema_editor, MARKED)
        schema_editor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS cases_case_fts_terms USING fts5vocab(cases_case_fts, 'row')"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS cases_case_fts_terms")
        _index_with(schema_editor, "description")


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_list_description_statistics")]
    operations = [migrations.RunPython(forwards, backwards)]
