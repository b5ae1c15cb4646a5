"""A full rebuild on several connections at once: shadow tables filled in parallel, swapped in one transaction.

One connection aggregates 10M sales at about 3 s of CPU per pass, and the rebuild's work (the day
buckets, then weeks and months, the indexes) is several passes; one core would do all of it
while the others idle. So the rebuild runs on `workers` extra connections:

1. The job's own transaction takes the chain's advisory lock, reads the clock and exports its
   snapshot (`pg_export_snapshot`).
2. Shadow tables (`<table>__new`, same columns, defaults, identity and checks; no indexes yet) are
   created and committed, so every worker sees them.
3. The workers import that snapshot (REPEATABLE READ): all of them read exactly the raw rows the job
   sees, and share the local days out between them, a chunk at a time, with the same SQL as every
   other refresh (`sql.sales_days_sql`, fresh inserts). Then, each on its own share, weeks and months
   from the day buckets, the keys' indexes, and ANALYZE.
4. The job's transaction drops the old tables and renames the shadows in their place, constraint and
   index names included, moves the watermark, and commits: readers see the old buckets or the new
   ones, never a mix. Then the workers VACUUM the new tables (the visibility map, so reads are
   index-only at once): not before the commit, while the job's exported snapshot is still open, new
   rows are not yet visible to everyone and VACUUM would leave their pages unmarked. A failure or a kill before that commit leaves the old tables as they were; the
   next rebuild drops any shadow left behind.

Only for a job that owns its transaction (the command, the Celery task): workers cannot see rows a
caller has not committed, so inside an outer transaction (tests, a backfill in a larger unit of work)
the single-connection rebuild runs instead.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from django.db import connection

from analytics.periods import local_midnight
from analytics.rollups import baskets, customers, device_series, sql

logger = logging.getLogger(__name__)

SUFFIX = "__new"
CHUNK_DAYS = 14  # days per task: enough tasks to balance the workers, each a few hundred ms


def rebuild_workers() -> int:
    """Connections a full rebuild may use: CVD_ROLLUP_REBUILD_WORKERS, default one per core (at most 4)."""
    configured = os.environ.get("CVD_ROLLUP_REBUILD_WORKERS", "").strip()
    if configured:
        return max(1, int(configured))
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Task:
    """Statements one worker runs in order; it starts once the tasks named in `after` are done. A
    statement that returns a row (the bucket SQL returns its counts) adds the row's sum to the total."""

    name: str
    statements: tuple[tuple[str, dict[str, Any]], ...]
    after: frozenset[str] = frozenset()


def task(name: str, *statements: str | tuple[str, dict[str, Any]], after: Sequence[str] = ()) -> Task:
    return Task(name, tuple(s if isinstance(s, tuple) else (s, {}) for s in statements), frozenset(after))


class WorkerFailed(Exception):
    """A worker's statement failed; the rebuild is abandoned and the old buckets stay."""


def _connect(schema: str) -> psycopg.Connection[Any]:
    params = dict(connection.get_connection_params())
    conn = psycopg.connect(**params)
    conn.autocommit = True
    conn.execute(f'SET search_path = "{schema}", public')
    # The same per-statement memory as the single-connection refresh (hash tables of one day each).
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET hash_mem_multiplier = 4")
    conn.execute("SET maintenance_work_mem = '512MB'")
    # The workers are the parallelism: an index build that starts its own workers only competes with them.
    conn.execute("SET max_parallel_maintenance_workers = 0")
    return conn


_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")


def run_tasks(schema: str, tasks: Sequence[Task], *, workers: int, snapshot: str | None = None) -> int:
    """Run `tasks` on `workers` connections: each worker takes the first task (in the given order) whose
    `after` tasks are done. With `snapshot`, every connection reads in that exported snapshot, in one
    transaction it commits at the end. Returns the summed counts; raises WorkerFailed on any error."""
    if snapshot is not None and not _SNAPSHOT_ID.match(snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    pending = list(tasks)
    done: set[str] = set()
    totals: list[int] = []
    errors: list[BaseException] = []
    ready = threading.Condition()

    def next_task() -> Task | None:
        with ready:
            while pending and not errors:
                for index, candidate in enumerate(pending):
                    if candidate.after <= done:
                        return pending.pop(index)
                ready.wait()
            return None

    def work() -> None:
        counted = 0
        try:
            with _connect(schema) as conn:
                if snapshot is not None:
                    conn.autocommit = False
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # type: ignore[arg-type]
                while (current := next_task()) is not None:
                    began = time.perf_counter()
                    for statement, params in current.statements:
                        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
                        if cursor.description is not None:
                            counted += sum(int(value) for value in cursor.fetchone() or ())
                    logger.debug("rebuild task %s: %.3f s", current.name, time.perf_counter() - began)
                    with ready:
                        done.add(current.name)
                        ready.notify_all()
                if errors:
                    conn.rollback()
                elif snapshot is not None:
                    conn.commit()
        except BaseException as error:  # handed to the caller below
            with ready:
                errors.append(error)
                ready.notify_all()
            return
        with ready:
            totals.append(counted)

    threads = [threading.Thread(target=work, name=f"rollup-rebuild-{i}") for i in range(max(1, min(workers, len(tasks))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise WorkerFailed(f"a rebuild worker failed: {errors[0]}") from errors[0]
    return sum(totals)


@dataclass(frozen=True)
class Index:
    table: str
    name: str
    kind: str  # "p" primary key, "u" unique constraint, "" a plain index
    definition: str  # CREATE [UNIQUE] INDEX …


def _indexes(tables: Sequence[str]) -> list[Index]:
    """Every index of `tables`, and which key constraint it backs."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, coalesce(c.contype::text, ''), pg_get_indexdef(x.indexrelid)
            FROM pg_index x
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
            WHERE x.indrelid = ANY(%s::regclass[])
            ORDER BY t.relname, i.relname
            """,
            [list(tables)],
        )
        indexes = [Index(*map(str, row)) for row in cursor.fetchall()]
    for index in indexes:
        if index.kind not in ("p", "u", ""):
            raise ValueError(f"the rebuild cannot recreate the {index.kind!r} constraint {index.name}")
    return indexes


_INDEX_DEF = re.compile(r"^(CREATE (?:UNIQUE )?INDEX )(\S+)( ON )(?:ONLY )?(\S+)( .*)$", re.DOTALL)


def _build_index_sql(index: Index) -> str:
    """The index, built on the shadow table under a temporary name. Plain CREATE INDEX, not ADD CONSTRAINT:
    it takes a SHARE lock, so the indexes of one table build side by side; swap_in makes the constraints."""
    match = _INDEX_DEF.match(index.definition)
    if match is None:
        raise ValueError(f"cannot read the index definition {index.definition!r}")
    return f'{match.group(1)}"{index.name}{SUFFIX}"{match.group(3)}"{index.table}{SUFFIX}"{match.group(5)}'


def drop_shadows(cursor: Any, tables: Sequence[str]) -> None:
    for table in tables:
        cursor.execute(f'DROP TABLE IF EXISTS "{table}{SUFFIX}"')


def create_shadows(cursor: Any, tables: Sequence[str]) -> None:
    for table in tables:
        cursor.execute(
            f'CREATE TABLE "{table}{SUFFIX}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS)'
        )


def swap_in(cursor: Any, tables: Sequence[str], indexes: Sequence[Index]) -> None:
    """Inside the job's transaction: the shadows take the tables' places and names, constraints included."""
    for table in tables:
        cursor.execute(f'DROP TABLE "{table}"')
        cursor.execute(f'ALTER TABLE "{table}{SUFFIX}" RENAME TO "{table}"')
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        if sequence:
            cursor.execute(f'ALTER SEQUENCE {sequence} RENAME TO "{table}_id_seq"')
    for index in indexes:
        if index.kind:
            constraint = "PRIMARY KEY" if index.kind == "p" else "UNIQUE"
            cursor.execute(
                f'ALTER TABLE "{index.table}" ADD CONSTRAINT "{index.name}" {constraint} USING INDEX "{index.name}{SUFFIX}"'
            )
        else:
            cursor.execute(f'ALTER INDEX "{index.name}{SUFFIX}" RENAME TO "{index.name}"')


def day_tasks(tz: ZoneInfo, first: date, last: date, *, now: datetime) -> list[Task]:
    """The day (and hour) buckets of first..last, CHUNK_DAYS local days a task, into the shadows."""
    tasks: list[Task] = []
    start = first
    while start <= last:
        end = min(start + timedelta(days=CHUNK_DAYS - 1), last)
        lo = local_midnight(start, tz)
        day_hi_at = local_midnight(end + timedelta(days=1), tz)
        hi = min(day_hi_at, now)
        params = {"tz": str(tz), "lo": lo, "hi": hi, "day_hi_at": day_hi_at, "ingested": now, "first_day": start,
                  "last_day": end}
        tasks.append(task(
            f"days {start}", (sql.sales_days_sql(tz, lo, hi, fresh=True, suffix=SUFFIX), params),
            (sql.bookings_days_sql(fresh=True, suffix=SUFFIX), params),
        ))
        start = end + timedelta(days=1)
    return tasks


def finish_tasks(tz: ZoneInfo, indexes: Sequence[Index], *, workers: int) -> list[Task]:
    """After the day buckets, per family: weeks and months from them, then its indexes side by side, then
    ANALYZE. The slot and device families, by far the biggest, share their weeks and months out by device. Workers
    take the first ready task in this order: the biggest family's first, and the wide unique (covering)
    index before the primary key, so the longest chain of work starts first."""
    params = {"tz": str(tz)}
    families = (sql.SALES_SLOT, sql.SALES_DEVICE, sql.SALES_PRODUCT, sql.SALES_SLOT_CODE, sql.BOOKINGS, sql.SALES_CHAIN)
    coarse: list[Task] = []
    builds: list[Task] = []
    analyzes: list[Task] = []
    for family in families:
        shares = workers if family in (sql.SALES_SLOT, sql.SALES_DEVICE) else 1
        parts = [
            task(f"{family.table} coarse {k}", (sql.coarse_fresh_sql(family, suffix=SUFFIX, part=(k, shares)), params))
            for k in range(shares)
        ]
        own = sorted((index for index in indexes if index.table == family.table), key=lambda index: index.kind == "p")
        built = [
            task(f"{family.table} {index.name}", _build_index_sql(index), after=[part.name for part in parts])
            for index in own
        ]
        coarse += parts
        builds += built
        # A quick sample (3,000 rows, not 30,000) for plans right after the swap: bucket keys are evenly spread,
        # and autovacuum analyzes the new table in full soon after its 10^6 inserts.
        analyzes.append(task(
            f"{family.table} analyze", "SET default_statistics_target = 10", f'ANALYZE "{family.table}{SUFFIX}"',
            "RESET default_statistics_target", after=[b.name for b in built],
        ))
    return [*coarse, *builds, *analyzes]


def vacuum(schema: str, *, workers: int) -> None:
    """VACUUM the (swapped-in) rollup tables side by side; after the commit (see the module's docstring)."""
    biggest = (sql.SALES_SLOT.table, sql.SALES_DEVICE.table)
    held = (device_series.TABLE, customers.TABLE, baskets.TABLE, baskets.SERIES)
    tables = sorted((*(family.table for family in sql.FAMILIES), *held), key=lambda table: table not in biggest)
    run_tasks(schema, [task(f"vacuum {table}", f'VACUUM "{table}"') for table in tables], workers=workers)


def rebuild_into_shadows(
    *, schema: str, tz: ZoneInfo, first: date, last: date, now: datetime, snapshot: str, workers: int,
    stage: Callable[[str], None],
) -> tuple[int, list[Index]]:
    """Fill and index the shadow tables; returns (bucket rows written, the indexes swap_in turns into the
    tables' own). `stage(name)` is called after each phase (timings)."""
    tables = [family.table for family in sql.FAMILIES]
    indexes = _indexes(tables)
    with _connect(schema) as conn:
        drop_shadows(conn, tables)
        create_shadows(conn, tables)
    stage("prepare")
    written = run_tasks(schema, day_tasks(tz, first, last, now=now), workers=workers, snapshot=snapshot)
    stage("days")
    written += run_tasks(schema, finish_tasks(tz, indexes, workers=workers), workers=workers)
    stage("weeks_months_indexes")
    return written, indexes


def discard_shadows(schema: str) -> None:
    """Drop the shadow tables (after a failed rebuild); never raises."""
    try:
        with _connect(schema) as conn:
            drop_shadows(conn, [family.table for family in sql.FAMILIES])
    except Exception:  # best effort; the next rebuild drops them too
        logger.warning("could not drop the rollup shadow tables of %s", schema, exc_info=True)
