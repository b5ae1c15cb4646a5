"""Bulk loading for the demo generator: PostgreSQL COPY (CSV and binary), sequences, deferred indexes."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from psycopg import sql

from chains.tenancy import current_schema

logger = logging.getLogger(__name__)

_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_BINARY_TRAILER = b"\xff\xff"


def _qualified(table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(current_schema()), sql.Identifier(table))


def _execute(statement: sql.Composable | str, params: Sequence[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(statement, params)


def copy_frame(table: str, frame: pd.DataFrame) -> int:
    """COPY a (small or medium) frame into `table` of the current chain schema as CSV; NaN/NA become NULL.

    Timestamps must be naive UTC (the session runs in UTC); money columns are floats of exact cents
    and are written with two decimals, which is exact for cent amounts.
    """
    if frame.empty:
        return 0
    started = time.monotonic()
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False, float_format="%.2f", date_format="%Y-%m-%d %H:%M:%S")
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
    logger.debug("COPY %s rows into %s in %.2f s", len(frame), table, time.monotonic() - started)
    return len(frame)


def copy_staged(table: str, numbers: Mapping[str, np.ndarray], select: str, params: Sequence[Any] = ()) -> int:
    """Load many rows fast: binary COPY of integer columns into a temporary table, then one INSERT … SELECT.

    Formatting ten million timestamps and amounts as text in Python costs minutes; as binary int64
    it costs nothing, and PostgreSQL turns them into timestamps, decimals and labels in C. `select`
    is the SELECT list over the staging columns, in the order of the target columns it names, e.g.
    ``"(id, sold_at) SELECT id, to_timestamp(t) FROM {stage}"``.
    """
    names = list(numbers)
    rows = len(numbers[names[0]]) if names else 0
    if rows == 0:
        return 0
    started = time.monotonic()
    record = np.dtype([("count", ">i2")] + [item for name in names for item in ((f"{name}_len", ">i4"), (name, ">i8"))])
    block = np.empty(rows, dtype=record)
    block["count"] = len(names)
    for name in names:
        block[f"{name}_len"] = 8
        block[name] = numbers[name]
    stage = f"_stage_{table}"
    _execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(stage)))
    _execute(
        sql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(
            sql.Identifier(stage), sql.SQL(", ").join(sql.SQL("{} bigint").format(sql.Identifier(n)) for n in names)
        )
    )
    with connection.cursor() as django_cursor:
        raw = django_cursor.cursor
        with raw.copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(sql.Identifier(stage))) as copy:
            copy.write(_BINARY_SIGNATURE + block.tobytes() + _BINARY_TRAILER)
        raw.execute("SET LOCAL TIME ZONE 'UTC'")
        raw.execute(
            sql.SQL("INSERT INTO {} ").format(_qualified(table)) + sql.SQL(select.replace("{stage}", '"' + stage + '"')),  # type: ignore[arg-type]
            list(params),
        )
        raw.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(stage)))
    logger.debug("COPY (staged) %s rows into %s in %.2f s", rows, table, time.monotonic() - started)
    return rows


def next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.cursor.execute(sql.SQL("SELECT COALESCE(MAX(id), 0) + 1 FROM {}").format(_qualified(table)))
        return int(cursor.cursor.fetchone()[0])


def sequence_sync(table: str) -> None:
    """After COPY with explicit ids, move the id sequence past them so later ORM inserts do not collide."""
    with connection.cursor() as cursor:
        cursor.cursor.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM {}), 1))").format(
                _qualified(table)
            ),
            [f'"{current_schema()}".{table}'],
        )


@contextmanager
def bulk_load(*tables: str) -> Iterator[None]:
    """Drop the secondary indexes, unique and foreign-key constraints of empty tables for a bulk load.

    Building an index (or checking a foreign key) once over millions of rows is many times faster
    than maintaining it row by row. Everything is created again afterwards, so the database still
    checks every row against every constraint before the transaction commits; run inside one, so a
    failed load leaves the tables as they were. The primary key and partial unique indexes stay.
    """
    saved: list[tuple[str, str, str | None]] = []  # (table, definition or constraint name, constraint def)
    with connection.cursor() as cursor:
        # Check the deferred foreign keys of earlier inserts now: ALTER TABLE refuses while checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            cursor.execute(
                """
                SELECT con.conname, pg_get_constraintdef(con.oid), con.contype
                FROM pg_constraint con
                JOIN pg_class t ON t.oid = con.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
                WHERE n.nspname = %s AND t.relname = %s AND con.contype IN ('u', 'f')
                ORDER BY con.contype DESC
                """,
                [current_schema(), table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                """
                SELECT i.relname, pg_get_indexdef(ix.indexrelid)
                FROM pg_index ix
                JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid
                JOIN pg_namespace n ON n.oid = t.relnamespace
                WHERE n.nspname = %s AND t.relname = %s AND NOT ix.indisunique AND NOT ix.indisprimary
                """,
                [current_schema(), table],
            )
            indexes = cursor.fetchall()
            for name, definition, _kind in constraints:
                cursor.cursor.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(_qualified(table), sql.Identifier(name)))
                saved.append((table, name, definition))
            for name, definition in indexes:
                cursor.cursor.execute(
                    sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(current_schema()), sql.Identifier(name))
                )
                saved.append((table, definition, None))
    yield
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _table, definition, constraint in saved:  # indexes first, then the constraints
            if constraint is None:
                cursor.execute(definition)
        for table, name, constraint in reversed(saved):
            if constraint is not None:
                cursor.cursor.execute(
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(_qualified(table), sql.Identifier(name))
                    + sql.SQL(constraint)  # type: ignore[arg-type]
                )
    logger.debug("rebuilt indexes and constraints of %s in %.2f s", ", ".join(tables), time.monotonic() - started)
