"""The set-based import engine: the importers of sales, bookings and funnel events register with it.

A file is COPYed into a temporary staging table of text columns (row number first), validated by
one scan that joins the staging rows to the reference tables, and written with one
INSERT … SELECT. Nothing is stored unless every row is valid: the caller runs inside one
transaction and rolls it back when the report has errors.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper

from ingest.files import TableSource
from ingest.import_report import ImportReport
from ingest.signals import raw_data_changed

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
Written = tuple[int, Any, Any]  # (rows created, earliest and latest time written)
# insert(cursor, stage, has_repeats): write the validated rows.
Insert = Callable[[CursorWrapper, str, bool], Written]



@dataclass(frozen=True)
class Staged:
    """A filled staging table: its name, data rows, last row number, and whether no value is padded."""

    table: str
    rows: int
    last_row: int
    unpadded: bool  # no value begins or ends with a space: raw values equal the trimmed ones (files.csv_unpadded)


# fast(cursor, staged): validate and write in one pass, or raise (see run_import).
FastInsert = Callable[[CursorWrapper, Staged], Written]
_COPY_CHUNK = 4 * 1024 * 1024
_ISO_WITH_OFFSET = r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)\s*$"
_ISO_WITHOUT_OFFSET = r"^\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$"
_INTEGER = r"^\s*[-+]?[0-9]{1,15}\s*$"
_DECIMAL = r"^\s*[-+]?([0-9]{1,30}(\.[0-9]*)?|\.[0-9]+)\s*$"


def v(column: str) -> str:
    """The SQL of a staged value: trimmed, and NULL when empty."""
    return f"nullif(btrim(s.\"{column}\"), '')"


@dataclass(frozen=True)
class Check:
    """One reason a value is bad: a SQL condition over the staged row `s` and its message (a SQL text expression)."""

    condition: str
    message: str


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def required(column: str) -> Check:
    return Check(f"{v(column)} IS NULL", lit("required"))


def max_length(column: str, length: int) -> Check:
    return Check(f"length({v(column)}) > {length}", lit(f"longer than {length} characters"))


def integer_between(column: str, low: int, high: int) -> list[Check]:
    value = v(column)
    return [
        Check(f"{value} !~ '{_INTEGER}'", f"'not a whole number: ' || quote_literal({value})"),
        Check(f"{value}::bigint < {low}", lit(f"must be at least {low}") if low != 0 else lit("must not be negative")),
        Check(f"{value}::bigint > {high}", lit(f"absurdly large (more than {high})")),
    ]


def decimal_between(column: str, low: int, high: int, places: int) -> list[Check]:
    value = v(column)
    return [
        Check(f"{value} !~ '{_DECIMAL}'", f"'not a decimal number: ' || quote_literal({value})"),
        Check(f"{value}::numeric < {low}", lit("must not be negative") if low == 0 else lit(f"must be at least {low}")),
        Check(f"{value}::numeric > {high}", lit(f"absurdly large (more than {high})")),
        Check(f"scale({value}::numeric) > {places}", lit(f"more than {places} decimal places")),
    ]


def timestamp_with_offset(column: str) -> list[Check]:
    value = v(column)
    return [
        Check(
            f"{value} ~ '{_ISO_WITHOUT_OFFSET}'",
            lit("no UTC offset: write ISO 8601 with an offset, e.g. 2026-03-01T12:30:00+01:00"),
        ),
        Check(
            f"{value} !~ '{_ISO_WITH_OFFSET}'",
            f"'not an ISO 8601 timestamp with offset: ' || quote_literal({value})",
        ),
        Check(f"NOT pg_input_is_valid({value}, 'timestamptz')", f"'not a valid date/time: ' || quote_literal({value})"),
        Check(f"{value}::timestamptz < '2000-01-01T00:00:00Z'", lit("before the year 2000")),
        Check(f"{value}::timestamptz > now() + interval '1 day'", lit("in the future")),
    ]


def one_of(column: str, choices: Sequence[str]) -> Check:
    listed = ", ".join(lit(choice) for choice in choices)
    return Check(
        f"lower({v(column)}) NOT IN ({listed})",
        f"'not one of {', '.join(choices)}: ' || quote_literal({v(column)})",
    )


# Cheap sufficient conditions for a valid value (no regular expressions: those cost microseconds a row).
# A row that passes every one of them skips the detailed checks, which only explain what is wrong.


# Guards that only prevent a cast error; the optimistic first attempt drops them (a well-formed file
# never trips them) and a cast error sends the file to the guarded query instead.
_GUARD_OPEN = "/*guard*/"
_GUARD_CLOSE = "/*end*/"
_GUARD = re.compile(re.escape(_GUARD_OPEN) + r".*?" + re.escape(_GUARD_CLOSE))


def unguarded(sql: str) -> str:
    return _GUARD.sub("true", sql)


def raw(column: str) -> str:
    return f's."{column}"'


def fast_text(column: str, length: int, *, needed: bool) -> str:
    value = raw(column)
    present = f"length(btrim({value})) BETWEEN 1 AND {length}"
    return present if needed else f"({value} IS NULL OR length({value}) <= {length})"


def fast_timestamp_shape(column: str) -> str:
    """ISO 8601 date and time with an offset, by shape (LIKE, no regular expression)."""
    value = raw(column)
    return (
        f"({value} LIKE '____-__-__T__:__%' OR {value} LIKE '____-__-__ __:__%') AND "
        f"({value} LIKE '%+__:__' OR {value} LIKE '%-__:__' OR {value} LIKE '%Z' OR {value} LIKE '%+____' "
        f"OR {value} LIKE '%-____')"
    )


def fast_timestamp(column: str, *, needed: bool) -> str:
    value = raw(column)
    shaped = fast_timestamp_shape(column)
    # A range test casts once; BETWEEN or two comparisons would parse the timestamp twice.
    check = (
        f"CASE WHEN {shaped} AND {_GUARD_OPEN}pg_input_is_valid({value}, 'timestamptz'){_GUARD_CLOSE} THEN "
        f"tstzrange('2000-01-01T00:00:00Z', now() + interval '1 day', '[]') @> {value}::timestamptz ELSE false END"
    )
    return check if needed else f"({value} IS NULL OR {check})"


def fast_integer(column: str, low: int, high: int) -> str:
    value = raw(column)
    return (
        f"CASE WHEN translate({value}, '0123456789', '') = '' AND length({value}) BETWEEN 1 AND 9 "
        f"THEN {value}::integer BETWEEN {low} AND {high} ELSE false END"
    )


def fast_decimal(column: str, low: int, high: int, places: int, *, needed: bool) -> str:
    value = raw(column)
    # Digits and at most one point, at most `places` after it: then the one cast cannot fail.
    check = (
        f"CASE WHEN translate({value}, '0123456789.', '') = '' AND length({value}) BETWEEN 1 AND 30 "
        f"AND length({value}) - length(replace({value}, '.', '')) <= 1 AND {value} <> '.' "
        f"AND (position('.' in {value}) = 0 OR length({value}) - position('.' in {value}) <= {places}) "
        f"THEN numrange({low}, {high}, '[]') @> {value}::numeric ELSE false END"
    )
    return check if needed else f"({value} IS NULL OR {check})"


def fast_choice(column: str, choices: Sequence[str]) -> str:
    listed = ", ".join(lit(choice) for choice in choices)
    return f"({raw(column)} IS NULL OR btrim({raw(column)}) = '' OR lower(btrim({raw(column)})) IN ({listed}))"


@dataclass(frozen=True)
class ImportSpec:
    """What one kind of file looks like and how its valid rows become model rows."""

    kind: str  # "sales", "bookings", "funnel": also the raw_data_changed kind
    columns: tuple[str, ...]  # in the documented order
    required_columns: frozenset[str]
    key: str  # the external-id column
    joins: str  # LEFT JOINs of reference tables onto `s` used by the checks
    checks: dict[str, list[Check]]  # per column, first failing check wins
    target_table: str
    target_key: str  # the unique external-id column of the target table
    extra_errors_sql: tuple[str, ...] = field(default=())  # SELECT row_no, column, message FROM … s …
    # Per column, a cheap condition that implies every check of the column passes (see fast_* above).
    fast_ok: dict[str, str] = field(default_factory=dict)

    def new_stage_name(self) -> str:
        # A table of its own per import: concurrent imports into one chain never meet.
        return f"_import_stage_{self.kind}_{uuid.uuid4().hex[:12]}"


def header_check(spec: ImportSpec, source: TableSource, report: ImportReport) -> None:
    header = source.header
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = "semicolons" if ";" in header[0] else "tabs"
        report.add_error(row=0, column="", message=f"the header is separated by {separator}: save the file as comma-separated CSV")
        return
    seen: set[str] = set()
    for name in header:
        if name == "":
            report.add_error(row=0, column="", message="a header cell is empty")
        elif name not in spec.columns:
            report.add_error(row=0, column=name, message=f"unknown column (expected {', '.join(spec.columns)})")
        elif name in seen:
            report.add_error(row=0, column=name, message="column appears twice in the header")
        seen.add(name)
    for name in spec.columns:
        if name in spec.required_columns and name not in seen:
            report.add_error(row=0, column=name, message="required column missing from the header")


def stage_load(
    cursor: CursorWrapper, spec: ImportSpec, stage: str, source: TableSource, report: ImportReport
) -> tuple[int, int]:
    """Create and fill the staging table; returns the number of data rows and the last row number.

    Ragged rows become errors. Row numbers are the file's record numbers (blank lines keep theirs).

    UNLOGGED, not TEMP: PostgreSQL scans temporary tables in one process only, and the validating
    scan and the repeat check run twice as fast with parallel workers. The caller's savepoint or an
    explicit DROP removes it; it never outlives the import's transaction.
    """
    columns = ", ".join(f'"{name}" text' for name in spec.columns)
    # CACHE: nextval() per COPYed row without a sequence-page lock and WAL record each (0.5 s less per
    # million rows). Only this import's backend draws from the table's own sequence, so the cached
    # blocks follow each other and row_no is still 1, 2, 3, … in file order.
    cursor.execute(
        f"CREATE UNLOGGED TABLE {stage} (row_no bigint GENERATED BY DEFAULT AS IDENTITY (CACHE 1000), {columns})"
    )
    file_columns = ", ".join(f'"{name}"' for name in source.header)
    if source.csv_body is not None:
        try:
            copy_sql = f"COPY {stage} ({file_columns}) FROM STDIN WITH (FORMAT csv)"
            body = source.csv_body
            with transaction.atomic(), cursor.cursor.copy(copy_sql) as copy:
                for start in range(0, len(body), _COPY_CHUNK):
                    copy.write(body[start : start + _COPY_CHUNK])
            cursor.execute(f"SELECT count(*), coalesce(max(row_no), 0) FROM {stage}")
            counted, last = cursor.fetchone()
            return int(counted), int(last)
        except (DatabaseError, psycopg.Error) as exc:
            # Ragged rows, stray quotes, mixed line ends: the row-by-row path names the rows.
            logger.info("raw COPY refused the file, reading it row by row: %s", str(exc).splitlines()[0])
            cursor.execute(f"TRUNCATE {stage} RESTART IDENTITY")
    width = len(source.header)
    rows = last_row = 0
    with cursor.cursor.copy(f"COPY {stage} (row_no, {file_columns}) FROM STDIN") as copy:
        for number, values in source.iter_rows():
            rows += 1
            last_row = number
            if len(values) != width:
                # Trailing empty cells are a spreadsheet habit, not a shape error.
                if len(values) > width and not any(values[width:]):
                    values = values[:width]
                else:
                    report.add_error(
                        row=number, column="", message=f"has {len(values)} fields, the header has {width}"
                    )
                    continue
            copy.write_row([number, *values])
    return rows, last_row


def stage_errors_sql(spec: ImportSpec, stage: str) -> str:
    values = []
    for order, name in enumerate(spec.columns):
        checks = spec.checks.get(name, [])
        if not checks:
            continue
        whens = " ".join(f"WHEN {check.condition} THEN {check.message}" for check in checks)
        values.append(f"({order}, '{name}', CASE {whens} END)")
    # Only rows failing a cheap condition get the detailed (regular-expression) checks.
    fast = " AND ".join(f"({spec.fast_ok[name]})" for name in spec.columns if name in spec.fast_ok) or "false"
    parts = [
        f"SELECT s.row_no, e.ord, e.col, e.msg FROM (SELECT s.* FROM {stage} s {spec.joins} "
        f"WHERE NOT coalesce({fast}, false)) s {spec.joins} "
        f"CROSS JOIN LATERAL (VALUES {', '.join(values)}) AS e(ord, col, msg) WHERE e.msg IS NOT NULL"
    ]
    parts += [f"SELECT x.row_no, 100, x.col, x.msg FROM ({sql}) AS x(row_no, col, msg)" for sql in spec.extra_errors_sql]
    return " UNION ALL ".join(parts) + " ORDER BY 1, 2"


def stage_errors(cursor: CursorWrapper, spec: ImportSpec, stage: str, report: ImportReport) -> None:
    """One scan over the staging rows; every failing column of every row becomes an error."""
    sql = stage_errors_sql(spec, stage)
    try:
        with transaction.atomic():
            cursor.execute(unguarded(sql))
    except DatabaseError:
        cursor.execute(sql)
    for row_no, _order, column, message in cursor.fetchall():
        report.add_error(row=int(row_no), column=column, message=message)


def prove_keys_unique(cursor: CursorWrapper, spec: ImportSpec, stage: str) -> None:
    """Raise IntegrityError unless every external id of the file is there once.

    The common case, every id once, proven by a unique index: a parallel sort on bytewise order,
    faster than any grouping.
    """
    bare_key = f"nullif(btrim(\"{spec.key}\"), '')"
    cursor.execute(f'CREATE UNIQUE INDEX ON {stage} (({bare_key}) COLLATE "C")')


def stage_repeats(cursor: CursorWrapper, spec: ImportSpec, stage: str, report: ImportReport) -> int:
    """Rows whose external id appeared earlier in the file: identical → duplicates (returned), else errors."""
    key = v(spec.key)
    content = " || chr(31) || ".join(f"coalesce({v(name)}, '')" for name in spec.columns)
    try:
        with transaction.atomic():
            prove_keys_unique(cursor, spec, stage)
        return 0
    except IntegrityError:
        pass
    # Grouping a million 4-byte hashes is much cheaper than grouping the strings; only the few keys
    # whose hash repeats (true repeats and collisions) are then grouped by their text. A plain SELECT
    # (not CREATE TABLE AS) so that PostgreSQL may use parallel workers.
    cursor.execute(
        f"SELECT {key} FROM {stage} s WHERE hashtext({key}) IN ("
        f"  SELECT hashtext({key}) FROM {stage} s WHERE {key} IS NOT NULL GROUP BY 1 HAVING count(*) > 1"
        f") GROUP BY 1 HAVING count(*) > 1"
    )
    repeated_keys = [row[0] for row in cursor.fetchall()]
    if not repeated_keys:
        return 0  # the common case: every id once, no window over a million rows
    cursor.execute(
        f"""
        WITH repeated AS (SELECT unnest(%s::text[]) AS k), ranked AS (
            SELECT s.row_no, {key} AS k, md5({content}) AS h,
                   first_value(s.row_no) OVER w AS first_row, first_value(md5({content})) OVER w AS first_h
            FROM {stage} s JOIN repeated r ON r.k = {key}
            WINDOW w AS (PARTITION BY {key} ORDER BY s.row_no)
        )
        SELECT row_no, k, first_row, h = first_h FROM ranked WHERE row_no > first_row ORDER BY row_no
        """,
        [repeated_keys],
    )
    same = 0
    for row_no, k, first_row, identical in cursor.fetchall():
        if identical:
            same += 1
        else:
            report.add_error(
                row=int(row_no),
                column=spec.key,
                message=f"{spec.key} {k!r} repeated with different content (first at row {first_row})",
            )
    return same


def stage_would_create(cursor: CursorWrapper, spec: ImportSpec, stage: str, report: ImportReport) -> tuple[int, int]:
    """(created, duplicates) an import of the staged rows would report, rows with an error left out.

    The insert writes each external id once (its first row) unless it is stored already; every other
    valid row is a duplicate. Ragged rows never reached the staging table and are errors already. Past
    MAX_REPORTED_ERRORS listed errors the unlisted bad rows count as valid (a file that bad is rejected anyway).
    """
    key = v(spec.key)
    bad_rows = sorted({int(error["row"]) for error in report.errors if int(error.get("row") or 0) > 0})
    cursor.execute(
        f"""
        SELECT count(*), count(DISTINCT {key}) FILTER (
                   WHERE NOT EXISTS (SELECT 1 FROM {spec.target_table} x WHERE x.{spec.target_key} = {key}))
        FROM {stage} s
        WHERE {key} IS NOT NULL AND s.row_no <> ALL(%s::bigint[])
        """,
        [bad_rows],
    )
    valid, created = cursor.fetchone()
    return int(created), int(valid) - int(created)


def import_table(
    *,
    spec: ImportSpec,
    source: TableSource,
    report: ImportReport,
    insert: Insert,
    sender: type,
    progress: Progress | None = None,
    structural_problems: Sequence[tuple[int, str, str]] = (),
    fast: FastInsert | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """run_import all or nothing (a savepoint), then tell analytics which time range changed.

    A dry run validates and counts without writing, and leaves nothing behind (not even the staging table).
    """
    sid = transaction.savepoint()
    written = run_import(
        spec=spec, source=source, report=report, insert=insert, progress=progress,
        structural_problems=structural_problems, fast=fast, dry_run=dry_run,
    )
    if dry_run:
        report.dry_run = True
        transaction.savepoint_rollback(sid)
        return report
    if report.rejected:
        # All or nothing: not one row (nor a customer) of a rejected file stays.
        transaction.savepoint_rollback(sid)
        return report
    transaction.savepoint_commit(sid)
    if written is not None:
        starts_at, ends_at = written
        raw_data_changed.send(sender=sender, kind=spec.kind, starts_at=starts_at, ends_at=ends_at + timedelta(microseconds=1))
    return report


def run_import(
    *,
    spec: ImportSpec,
    source: TableSource,
    report: ImportReport,
    insert: Insert,
    progress: Progress | None = None,
    structural_problems: Sequence[tuple[int, str, str]] = (),
    fast: FastInsert | None = None,
    dry_run: bool = False,
) -> tuple[Any, Any] | None:
    """Validate and write one file inside the caller's transaction; returns the (start, end) written or None.

    With `dry_run` nothing is written: the file is validated in detail and `report.created` /
    `report.duplicates` say what an import would do (for a rejected file: what its valid rows would give).

    `insert(cursor, stage, has_repeats)` writes the valid rows and returns (created, min time, max time).

    `fast(cursor, staged)`, when given, is tried first in a savepoint: one statement
    that writes every row and fails (any DatabaseError) unless every row passes cheap sufficient checks
    (see `fast_*`). A well-formed file is then validated and written in one pass; any other file is
    rolled back to the savepoint and takes the detailed path below, which names every bad row.
    """
    def step(name: str, fraction: float) -> None:
        if progress is not None:
            progress(name, fraction)

    header_check(spec, source, report)
    for row, column, message in structural_problems:
        report.add_error(row=row, column=column, message=message)
    if report.rejected:
        return None
    with connection.cursor() as cursor:
        # Hash joins and the repeat check over a million rows want memory, for this transaction only.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        step("loading", 0.1)
        # Ragged rows are reported and left out; the others are still validated, so one pass names every bad row.
        stage = spec.new_stage_name()
        report.rows, last_row = stage_load(cursor, spec, stage, source, report)
        if report.rows == 0 and not report.rejected:
            report.add_error(row=0, column="", message="the file has a header but no data rows")
            return None
        if fast is not None and not report.rejected and not dry_run:
            step("writing", 0.4)
            try:
                with transaction.atomic():
                    staged = Staged(table=stage, rows=report.rows, last_row=last_row, unpadded=source.unpadded)
                    created, starts_at, ends_at = fast(cursor, staged)
            except DatabaseError as exc:
                logger.info("the one-pass import refused the file, validating it in detail: %s", str(exc).splitlines()[0])
            else:
                cursor.execute(f"DROP TABLE {stage}")
                report.created = created
                report.duplicates = report.rows - created
                step("done", 1.0)
                return (starts_at, ends_at) if created else None
        cursor.execute(f"ANALYZE {stage}")
        step("validating", 0.4)
        stage_errors(cursor, spec, stage, report)
        repeats = stage_repeats(cursor, spec, stage, report)
        if dry_run:
            report.created, report.duplicates = stage_would_create(cursor, spec, stage, report)
            step("done", 1.0)
            return None
        if report.rejected:
            return None
        step("writing", 0.7)
        created, starts_at, ends_at = insert(cursor, stage, repeats > 0)
        cursor.execute(f"DROP TABLE {stage}")
        report.created = created
        report.duplicates = report.rows - created
        step("done", 1.0)
        if created == 0:
            return None
        return starts_at, ends_at
