"""Default root-cause taxonomy and the full-text search index over descriptions.

SQLite: an FTS5 table with the trigram tokenizer (Chinese has no spaces to split words on),
kept in sync by triggers. PostgreSQL: pg_trgm with a GIN index, used by ILIKE.
"""

from django.db import migrations

ROOT_CAUSES = [
    ("sales", "销售行为"),
    ("product", "产品设计"),
    ("process", "服务流程"),
    ("claims", "理赔"),
    ("servicing", "保全"),
    ("system", "系统"),
    ("partner", "第三方合作"),
    ("other", "其他"),
]


def seed(apps, schema_editor):
    RootCause = apps.get_model("cases", "RootCause")
    for order, (code, name) in enumerate(ROOT_CAUSES):
        RootCause.objects.get_or_create(code=code, defaults={"name": name, "order": order})


def search_forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE cases_case_fts USING fts5(description, content='cases_case', "
            "content_rowid='id', tokenize='trigram')"
        )
        schema_editor.execute(
            "CREATE TRIGGER cases_case_fts_ai AFTER INSERT ON cases_case BEGIN "
            "INSERT INTO cases_case_fts(rowid, description) VALUES (new.id, new.description); END"
        )
        schema_editor.execute(
            "CREATE TRIGGER cases_case_fts_ad AFTER DELETE ON cases_case BEGIN "
            "INSERT INTO cases_case_fts(cases_case_fts, rowid, description) VALUES ('delete', old.id, old.description); END"
        )
        schema_editor.execute(
            "CREATE TRIGGER cases_case_fts_au AFTER UPDATE OF description ON cases_case BEGIN "
            "INSERT INTO cases_case_fts(cases_case_fts, rowid, description) VALUES ('delete', old.id, old.description); "
            "INSERT INTO cases_case_fts(rowid, description) VALUES (new.id, new.description); END"
        )
    elif vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX cases_case_description_trgm ON cases_case USING gin (description gin_trgm_ops)"
        )


def search_backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS cases_case_fts_{name}")
        schema_editor.execute("DROP TABLE IF EXISTS cases_case_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS cases_case_description_trgm")


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(search_forwards, search_backwards),
    ]
