"""Bulk loading for the demo generator: PostgreSQL COPY of pandas frames, sequences and index rebuilds."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
from django.db import connection
from psycopg import sql


def _qualified(table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(connection.schema_name), sql.Identifier(table))


def copy_frame(table: str, frame: pd.DataFrame) -> int:
    """COPY a frame into `table` of the current chain schema; columns are the frame's, NaN/None become NULL.

    Timestamps must be naive UTC (the session runs in UTC); money columns are floats of exact cents
    and are written with two decimals, which is exact for cent amounts.
    """
    if frame.empty:
        return 0
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False, float_format="%.2f", date_format="%Y-%m-%d %H:%M:%S.%f")
    columns = sql.SQL(", ").join(sql.Identifier(column) for column in frame.columns)
    # An unquoted empty CSV field is NULL; text columns without missing values mean "" instead.
    texts = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c]) and not frame[c].isna().any()]
    force = sql.SQL(", FORCE_NOT_NULL ({})").format(sql.SQL(", ").join(sql.Identifier(c) for c in texts)) if texts else sql.SQL("")
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv{})").format(_qualified(table), columns, force)
    with connection.cursor() as django_cursor:
        raw = django_cursor.cursor
        raw.execute("SET LOCAL TIME ZONE 'UTC'")
        with raw.copy(statement) as copy:
            copy.write(buffer.getvalue())
    return len(frame)


def next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT COALESCE(MAX(id), 0) + 1 FROM {}").format(_qualified(table)).as_string(cursor.cursor))
        return int(cursor.fetchone()[0])


def sequence_sync(table: str) -> None:
    """After COPY with explicit ids, move the id sequence past them so later ORM inserts do not collide."""
    qualified = f"{connection.schema_name}.{table}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM "
            + sql.SQL("{}").format(_qualified(table)).as_string(cursor.cursor)
            + "), 1))",
            [qualified],
        )


@contextmanager
def indexes_deferred(table: str) -> Iterator[None]:
    """Drop the plain secondary indexes of `table` for a bulk load and build them again afterwards.

    Building an index once over ten million rows is several times faster than maintaining it row by
    row. Unique indexes and the primary key stay: they are the database's guard against duplicates.
    Run inside a transaction, so a failed load leaves the indexes as they were.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(ix.indexrelid)
            FROM pg_index ix
            JOIN pg_class t ON t.oid = ix.indrelid
            JOIN pg_class i ON i.oid = ix.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = %s AND t.relname = %s AND NOT ix.indisunique AND NOT ix.indisprimary
            """,
            [connection.schema_name, table],
        )
        definitions = cursor.fetchall()
        for name, _definition in definitions:
            cursor.execute(
                sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(connection.schema_name), sql.Identifier(name)).as_string(cursor.cursor)
            )
    yield
    with connection.cursor() as cursor:
        for _name, definition in definitions:
            cursor.execute(definition)
