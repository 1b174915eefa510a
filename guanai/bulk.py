"""Bulk writes for hot paths (imports, group refresh, generators): plain value tuples straight to the
database — ``COPY`` on PostgreSQL, prepared ``executemany`` on SQLite — skipping Django's per-object
preparation, which costs far more than the insert itself at these volumes. Values must be database-ready:
aware datetimes, dates, JSON as text."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models.expressions import RawSQL

BATCH = 5000


def table_name(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column_names(model: type[models.Model], names: list[str]) -> list[str]:
    fields = [model._meta.get_field(n) for n in names]  # attnames (village_id) resolve too
    return [connection.ops.quote_name(str(getattr(f, "column", f.name))) for f in fields]


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys so that rows referencing each other can be inserted in bulk without
    reading keys back. PostgreSQL: from the identity sequence (safe under concurrency). SQLite: above the
    highest key ever used — the import's transaction holds SQLite's write lock (IMMEDIATE), so no other
    writer can take the same keys."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
            return sorted(r[0] for r in cur.fetchall())
        cur.execute(f"SELECT MAX(id) FROM {table_name(model)}")  # noqa: S608 - table name from model metadata
        top = cur.fetchone()[0] or 0
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cur.fetchone()
        top = max(top, seq[0] if seq else 0)
    return list(range(top + 1, top + count + 1))


def bulk_insert(
    model: type[models.Model], names: list[str], rows: Sequence[Sequence[Any]], *, skip_existing: bool = False
) -> None:
    """Insert plain value tuples: ``COPY`` on PostgreSQL, one prepared multi-row ``executemany`` on SQLite.
    Values must already be database-ready (dates, datetimes, JSON text); Django's per-field preparation,
    which costs far more than the insert itself at this volume, is skipped on purpose. ``skip_existing``: a
    row that would violate a unique constraint is skipped (``ON CONFLICT DO NOTHING``; on PostgreSQL through a
    temporary table, since ``COPY`` cannot skip)."""
    if not rows:
        return
    table = table_name(model)
    cols = ", ".join(column_names(model, names))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            target = table
            if skip_existing:
                target = connection.ops.quote_name(f"_bulk_{model._meta.db_table}")
                empty = f"SELECT {cols} FROM {table} WITH NO DATA"  # noqa: S608 - names from model metadata
                cur.execute(f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS {empty}")
            with cur.cursor.copy(f"COPY {target} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if skip_existing:
                cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {target} ON CONFLICT DO NOTHING")  # noqa: S608
                cur.execute(f"DROP TABLE {target}")
            return
        verb = "INSERT OR IGNORE" if skip_existing else "INSERT"
        sql = f"{verb} INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(names))})"
        for start in range(0, len(rows), BATCH):
            cur.executemany(sql, rows[start : start + BATCH])


def bulk_set(model: type[models.Model], names: list[str], rows: Sequence[Sequence[Any]]) -> None:
    """``UPDATE … SET names… WHERE id = last value`` for each tuple, as one prepared statement."""
    if not rows:
        return
    sets = ", ".join(f"{c} = %s" for c in column_names(model, names))
    sql = f"UPDATE {table_name(model)} SET {sets} WHERE id = %s"  # noqa: S608 - names from model metadata
    with connection.cursor() as cur:
        for start in range(0, len(rows), BATCH):
            cur.executemany(sql, rows[start : start + BATCH])


class _Array(RawSQL):
    """``field__in=id_array(values)`` / ``text_array(values)``: a long list of keys bound as ONE parameter — a
    JSON array read by ``json_each`` on SQLite, an array ``unnest``-ed on PostgreSQL. Django prepares every
    element of a plain list (several microseconds each, the dominant cost of reading facts for 100,000
    children) and SQLite caps the number of bound variables; this does neither."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        values, pg_type = self.params
        if connection.vendor == "postgresql":
            return f"(SELECT unnest(%s::{pg_type}[]))", [values]
        return "(SELECT value FROM json_each(%s))", [json.dumps(values, ensure_ascii=False)]


def id_array(values: Iterable[int]) -> RawSQL:
    """The integer keys ``values`` for an ``__in`` filter, as one bound parameter (see ``_Array``)."""
    return _Array("", [[int(v) for v in values], "bigint"], output_field=models.BigIntegerField())


def text_array(values: Iterable[str]) -> RawSQL:
    """The strings ``values`` for an ``__in`` filter, as one bound parameter (see ``_Array``)."""
    return _Array("", [[str(v) for v in values], "text"], output_field=models.TextField())
