"""Indexes for name search on PostgreSQL (docs/registry.md "Search"). SQLite keeps its plans (it meets the
targets at 100,000 children without them); these are created only on PostgreSQL:

- ``child_name_trgm``: GIN trigram index (pg_trgm) for a name containing three or more characters;
- ``child_name_prefix``: ``name varchar_pattern_ops`` for a name starting with the characters typed;
- ``child_name_reverse``: ``reverse(name) text_pattern_ops`` for a name ending with them (a given name);
- ``child_name_length``: ``length(name)``, for two characters inside one of the few names of four or more
  characters (the index also gives the planner statistics on name lengths);
- a larger statistics target on name, name_pinyin and name_initials, so that the planner knows a rare
  prefix from a common one (otherwise it walks the roster order looking for a rare name).

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. Where it cannot be created
the trigram index is skipped with a warning and the search still works (by scanning)."""

import logging

from django.db import migrations

log = logging.getLogger("guanai.registry")

INDEXES = [
    "CREATE INDEX IF NOT EXISTS child_name_prefix ON registry_child (name varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS child_name_reverse ON registry_child (reverse(name) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS child_name_length ON registry_child (length(name))",
    "ALTER TABLE registry_child ALTER COLUMN name SET STATISTICS 1000, ALTER COLUMN name_pinyin SET STATISTICS 1000,"
    " ALTER COLUMN name_initials SET STATISTICS 1000",
]
TRGM = "CREATE INDEX IF NOT EXISTS child_name_trgm ON registry_child USING gin (name gin_trgm_ops)"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in INDEXES:
            cursor.execute(sql)
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
            if cursor.fetchone() is None:
                log.warning("pg_trgm is not available: name search by three or more characters will scan")
                return
            cursor.execute("SAVEPOINT guanai_trgm")
            try:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception:  # noqa: BLE001 - no privilege: go on without the trigram index
                cursor.execute("ROLLBACK TO SAVEPOINT guanai_trgm")
                log.warning("could not create extension pg_trgm: name search by three or more characters will scan")
                return
            cursor.execute("RELEASE SAVEPOINT guanai_trgm")
        cursor.execute(TRGM)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in ("child_name_prefix", "child_name_reverse", "child_name_length", "child_name_trgm"):
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        cursor.execute(
            "ALTER TABLE registry_child ALTER COLUMN name SET STATISTICS -1, ALTER COLUMN name_pinyin SET STATISTICS -1,"
            " ALTER COLUMN name_initials SET STATISTICS -1"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0002_groups_timeline_exit_proposal"),
    ]

    operations = [migrations.RunPython(forward, backward)]
