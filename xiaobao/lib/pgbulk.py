"""PostgreSQL bulk loads: a table's secondary indexes set aside while many rows go in, then built
again, all inside the loading transaction.

PostgreSQL's own advice for loading much data into a table ("Populating a Database: Remove
Indexes"): building an index over the rows at the end is much cheaper than updating it row by row.
Measured on the Texas file (281,397 cases): inserting with every index of cases_case took the
server 16.7 s; with its primary key and unique index only, 2.4 s; building the others
afterwards, 7.4 s (the pg_trgm GIN index 5.4 of it).

What is kept: the primary key and every unique index (they enforce the data's rules, and the
loader looks rows up by them while it loads), any index a constraint uses, and the partial
indexes (a row outside the predicate costs them nothing, and PostgreSQL deparses some predicates
into a different though equivalent text: `(ARRAY['登记'::character varying, …])::text[]` comes
back as `ARRAY[('登记'::character varying)::text, …]`). What the others are is read from the
catalog (`pg_get_indexdef`) and run again verbatim, so the schema after the load is exactly the
one before.

The price: DROP INDEX takes the table's ACCESS EXCLUSIVE lock until the transaction ends, so other
sessions cannot read the table meanwhile. Callers use this only for a load that is large against
the table (an initial load). The locks are asked for with a short `lock_timeout`: when a reader
holds the table, nothing is dropped and the load goes on with the indexes (`drop()` says False),
rather than queueing every later reader behind the waiting DDL.

Everything is transactional: a load that fails rolls back to the indexes it started with.
"""

from collections.abc import Sequence

from django.db import OperationalError, connections, transaction

LOCK_TIMEOUT = "2s"


class IndexHold:
    def __init__(self, tables: Sequence[str], *, using: str = "default") -> None:
        self.tables = list(tables)
        self.using = using
        self.definitions: list[str] = []  # CREATE INDEX … of the indexes set aside, in catalog order
        self.names: list[str] = []

    def drop(self) -> bool:
        """Set aside the tables' secondary indexes; False (nothing changed) if a table's lock was
        not granted within LOCK_TIMEOUT."""
        connection = connections[self.using]
        assert connection.vendor == "postgresql" and connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary "
                "AND i.indpred IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY i.indexrelid",
                [self.tables],
            )
            found = cursor.fetchall()
            if not found:
                return True
            cursor.execute("SELECT current_setting('lock_timeout')")
            (before,) = cursor.fetchone()
            savepoint = transaction.savepoint(using=self.using)
            try:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
                for name, _definition in found:
                    cursor.execute(f"DROP INDEX {name}")  # regclass text: quoted where needed
            except OperationalError:
                transaction.savepoint_rollback(savepoint, using=self.using)  # lock_timeout too
                return False
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])
            transaction.savepoint_commit(savepoint, using=self.using)
        self.names = [name for name, _ in found]
        self.definitions = [definition for _, definition in found]
        return True

    def rebuild(self) -> None:
        """Build the indexes set aside by drop() again, as they were."""
        if not self.definitions:
            return
        with connections[self.using].cursor() as cursor:
            # CREATE INDEX refuses a table with pending trigger events: foreign-key checks that the
            # transaction deferred (Django declares every foreign key DEFERRABLE INITIALLY DEFERRED).
            # They run now instead of at COMMIT, with the same outcome, and are deferred again after.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for definition in self.definitions:
                cursor.execute(definition)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        self.definitions, self.names = [], []
