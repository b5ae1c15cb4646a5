"""The chain's data signature: whether anything a report reads has changed, in one cheap read.

Every table of the domain apps (TRACKED_PREFIXES: fleet, bookings, routes) carries a statement trigger that
records the write in analytics_datachange (one row per statement, whatever it wrote: ORM, COPY, raw SQL,
TRUNCATE; per statement, not per transaction, so a transaction that reads between its writes sees each).
`data_signature()` reads (the table's oid, its row count, its newest id):

- a commit of a transaction that wrote adds a row: the count grows, and the newest id too unless an older
  transaction commits after a newer one, in which case the count alone still moves;
- `compact_changes()` (the hourly rollup job, past COMPACT_ABOVE rows) deletes every row but a new one it adds
  (no txid), whose id is newer than any committed one, so the newest id moves and no compaction can undo a
  commit's change of the count;
- a schema dropped and created again has a new oid, so its signature never repeats an old one.

Rollup buckets are not tracked: a job moves them without changing any answer (buckets + live delta are the
raw rows by construction). A reader takes the signature before it computes, so an answer computed while a
transaction commits is stored under the older signature, which later readers no longer see.
"""

from __future__ import annotations

from django.db import connection

TRACKED_PREFIXES = ("fleet_", "bookings_", "routes_")
TRIGGER = "analytics_note_change"
COMPACT_ABOVE = 1000  # rows; counting them for a signature stays well under a millisecond

FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO %I.analytics_datachange (txid, at) VALUES ($1, now())',
        TG_TABLE_SCHEMA
    ) USING pg_current_xact_id()::text::bigint;
    RETURN NULL;
END
$$
"""


def tracked_tables() -> list[str]:
    """The current schema's tables of the domain apps."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " AND (" + " OR ".join("table_name LIKE %s" for _ in TRACKED_PREFIXES) + ") ORDER BY 1",
            [f"{prefix}%" for prefix in TRACKED_PREFIXES],
        )
        return [row[0] for row in cursor.fetchall()]


def ensure_change_triggers() -> list[str]:
    """Create (or replace) the trigger on every tracked table of the current schema; returns the tables. Run by
    analytics' migration and after every migrate (a table a later migration adds is tracked from then on)."""
    tables = tracked_tables()
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION_SQL)
        for table in tables:
            cursor.execute(
                f'CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}"'
                f" FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
            )
    return tables


def data_signature() -> str:
    """`oid:count:newest id` of the change log: equal signatures, equal data in every tracked table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'analytics_datachange'::regclass::oid, count(*), COALESCE(max(id), 0) FROM analytics_datachange"
        )
        oid, count, newest = cursor.fetchone()
    return f"{oid}:{count}:{newest}"


def compact_changes(*, above: int = COMPACT_ABOVE) -> bool:
    """Keep the log small (the signature counts all of it): past `above` rows, one new row in place of all the
    older ones. It moves the signature (every cached answer is then a miss), so it waits until that many writes
    have made those answers misses anyway. True when it compacted."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) > %s FROM analytics_datachange", [above])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(
            "WITH fresh AS (INSERT INTO analytics_datachange (txid, at) VALUES (NULL, now()) RETURNING id)"
            " DELETE FROM analytics_datachange WHERE id < (SELECT id FROM fresh)"
        )
    return True
