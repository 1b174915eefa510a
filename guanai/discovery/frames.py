"""Reading database tables into polars frames for DuckDB, set-wise: ``COPY … TO STDOUT`` on PostgreSQL, one
``fetchall`` on SQLite. Every column is read as text and cast here, so both engines give the same frame."""

from __future__ import annotations

import io

import polars as pl
from django.db import connection

TRUE = ["true", "t", "1"]


def query_frame(sql: str, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run ``sql`` (a SELECT of exactly ``columns``, no parameters) and cast each column to its type."""
    names = list(columns)
    strings = dict.fromkeys(names, pl.String)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            buf = io.BytesIO()
            with cur.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
                for chunk in copy:
                    buf.write(chunk)
            buf.seek(0)
            frame = (
                pl.read_csv(buf, has_header=False, new_columns=names, schema=strings)
                if buf.getbuffer().nbytes
                else pl.DataFrame(schema=strings)
            )
        else:
            cur.execute(sql)
            rows = cur.fetchall()
            frame = pl.DataFrame(
                [[None if v is None else str(v) for v in row] for row in rows], schema=strings, orient="row"
            )
    casts = []
    for name, dtype in columns.items():
        col = pl.col(name).replace("", None)
        if dtype == pl.Boolean:
            casts.append(pl.when(col.is_null()).then(None).otherwise(col.str.to_lowercase().is_in(TRUE)).alias(name))
        elif dtype == pl.Date:
            casts.append(col.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias(name))
        elif dtype == pl.String:
            casts.append(col.alias(name))
        else:
            casts.append(col.cast(dtype, strict=False).alias(name))
    return frame.with_columns(casts)
