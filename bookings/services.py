"""Venue imports: bookings and funnel events from CSV/XLSX or a JSON batch, with the sales import's guarantees."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.backends.utils import CursorWrapper

from bookings.models import Booking, FunnelEvent
from fleet.services.customers import customers_upsert
from fleet.services.sales import max_sale_amount
from ingest.files import json_rows_source, table_read
from ingest.import_report import FileRejected, ImportReport
from ingest.staging import (
    Check,
    ImportSpec,
    Progress,
    decimal_between,
    fast_decimal,
    fast_text,
    fast_timestamp,
    import_table,
    lit,
    max_length,
    one_of,
    raw,
    required,
    timestamp_with_offset,
    v,
)

BOOKING_COLUMNS = ("booking_id", "resource", "starts_at", "ends_at", "status", "amount", "customer", "created_at")
FUNNEL_COLUMNS = ("event_id", "session_id", "step", "occurred_at", "customer", "booking_id")
BOOKINGS_KIND, FUNNEL_KIND = "bookings", "funnel"  # the import job kinds and the raw_data_changed kinds
# What the admin's upload page says of each column (docs/file-formats.md "Venue files"), and a valid row.
BOOKING_MEANINGS = {
    "booking_id": "external id, unique per chain; a repeat is a duplicate, never a second booking",
    "resource": "resource code",
    "starts_at": "ISO 8601 with offset",
    "ends_at": "ISO 8601 with offset, after starts_at",
    "status": "confirmed, paid, completed, cancelled, no_show",
    "amount": "decimal amount paid, ≥ 0",
    "customer": "external customer reference",
    "created_at": "when it was booked, ISO 8601 with offset",
}
BOOKING_EXAMPLE = "b-1001,PAD1,2026-03-01T18:00:00+01:00,2026-03-01T19:00:00+01:00,paid,400.00,C-1,2026-02-20T09:12:00+01:00"
FUNNEL_MEANINGS = {
    "event_id": "external id, unique per chain; a repeat is a duplicate",
    "session_id": "the visitor's session",
    "step": "visit, wizard_start, submit, paid",
    "occurred_at": "ISO 8601 with offset",
    "customer": "external customer reference",
    "booking_id": "an imported booking's booking_id",
}
FUNNEL_EXAMPLE = "e-1001,s-77,paid,2026-02-20T09:12:00+01:00,C-1,b-1001"


def _valid_ts(column: str) -> str:
    """SQL that is true when the column holds a valid timestamp with offset (so that a cast cannot fail)."""
    return fast_timestamp(column, needed=True)


def booking_spec() -> ImportSpec:
    ends_before_start = (
        f"CASE WHEN {_valid_ts('starts_at')} AND {_valid_ts('ends_at')} "
        f"THEN {v('ends_at')}::timestamptz <= {v('starts_at')}::timestamptz ELSE false END"
    )
    return ImportSpec(
        kind=BOOKINGS_KIND,
        columns=BOOKING_COLUMNS,
        required_columns=frozenset({"booking_id", "resource", "starts_at", "ends_at", "status"}),
        key="booking_id",
        joins=f"LEFT JOIN bookings_resource r ON r.code = {v('resource')}",
        checks={
            "booking_id": [required("booking_id"), max_length("booking_id", 100)],
            "resource": [
                required("resource"),
                Check("r.id IS NULL", f"'unknown resource ' || quote_literal({v('resource')})"),
            ],
            "starts_at": [required("starts_at"), *timestamp_with_offset("starts_at")],
            "ends_at": [
                required("ends_at"),
                *timestamp_with_offset("ends_at"),
                Check(ends_before_start, lit("must be after starts_at")),
            ],
            "status": [required("status"), one_of("status", [choice.value for choice in Booking.Status])],
            "amount": decimal_between("amount", 0, max_sale_amount(), 4),
            "customer": [max_length("customer", 100)],
            # created_at may lie in the past only; "in the future" is as wrong here as for a sale.
            "created_at": timestamp_with_offset("created_at"),
        },
        target_table="bookings_booking",
        target_key="external_id",
        fast_ok={
            "booking_id": fast_text("booking_id", 100, needed=True),
            "resource": "r.id IS NOT NULL",
            "starts_at": fast_timestamp("starts_at", needed=True),
            "ends_at": f"CASE WHEN {_valid_ts('starts_at')} AND {_valid_ts('ends_at')} "
            f"THEN {raw('ends_at')}::timestamptz > {raw('starts_at')}::timestamptz ELSE false END",
            "status": f"lower(btrim({raw('status')})) IN ({', '.join(lit(c.value) for c in Booking.Status)})",
            "amount": fast_decimal("amount", 0, max_sale_amount(), 4, needed=False),
            "customer": fast_text("customer", 100, needed=False),
            "created_at": fast_timestamp("created_at", needed=False),
        },
    )


def funnel_spec() -> ImportSpec:
    return ImportSpec(
        kind=FUNNEL_KIND,
        columns=FUNNEL_COLUMNS,
        required_columns=frozenset({"event_id", "session_id", "step", "occurred_at"}),
        key="event_id",
        joins=f"LEFT JOIN bookings_booking b ON b.external_id = {v('booking_id')}",
        checks={
            "event_id": [required("event_id"), max_length("event_id", 100)],
            "session_id": [required("session_id"), max_length("session_id", 100)],
            "step": [required("step"), one_of("step", [choice.value for choice in FunnelEvent.Step])],
            "occurred_at": [required("occurred_at"), *timestamp_with_offset("occurred_at")],
            "customer": [max_length("customer", 100)],
            "booking_id": [
                Check(
                    f"CASE WHEN {v('booking_id')} IS NULL THEN false ELSE b.id IS NULL END",
                    f"'unknown booking ' || quote_literal({v('booking_id')}) || ' (import bookings first)'",
                )
            ],
        },
        target_table="bookings_funnelevent",
        target_key="external_id",
        fast_ok={
            "event_id": fast_text("event_id", 100, needed=True),
            "session_id": fast_text("session_id", 100, needed=True),
            "step": f"lower(btrim({raw('step')})) IN ({', '.join(lit(c.value) for c in FunnelEvent.Step)})",
            "occurred_at": fast_timestamp("occurred_at", needed=True),
            "customer": fast_text("customer", 100, needed=False),
            "booking_id": f"({raw('booking_id')} IS NULL OR btrim({raw('booking_id')}) = '' OR b.id IS NOT NULL)",
        },
    )


def _insert_bookings(cursor: CursorWrapper, stage: str, has_repeats: bool) -> tuple[int, Any, Any]:
    booked = f"{v('created_at')}::timestamptz"
    starts = f"{v('starts_at')}::timestamptz"
    customers_upsert(cursor, stage, f"least(coalesce({booked}, {starts}), {starts})")
    distinct = f"DISTINCT ON ({v('booking_id')})" if has_repeats else ""
    order = f"ORDER BY {v('booking_id')}, s.row_no" if has_repeats else ""
    cursor.execute(
        f"""
        WITH inserted AS (
            INSERT INTO bookings_booking (external_id, resource_id, customer_id, starts_at, ends_at, status, amount,
                                          booked_at, ingested_at)
            SELECT {distinct} {v('booking_id')}, r.id, c.id, {starts}, {v('ends_at')}::timestamptz,
                   lower({v('status')}), coalesce({v('amount')}::numeric, 0), {booked}, now()
            FROM {stage} s
            JOIN bookings_resource r ON r.code = {v('resource')}
            LEFT JOIN fleet_customer c ON c.external_ref = {v('customer')}
            WHERE NOT EXISTS (SELECT 1 FROM bookings_booking x WHERE x.external_id = {v('booking_id')})
            {order}
            ON CONFLICT (external_id) DO NOTHING
            RETURNING starts_at, ends_at
        )
        SELECT count(*), min(starts_at), max(ends_at) FROM inserted
        """
    )
    created, starts_at, ends_at = cursor.fetchone()
    return int(created), starts_at, ends_at


def _insert_funnel_events(cursor: CursorWrapper, stage: str, has_repeats: bool) -> tuple[int, Any, Any]:
    occurred = f"{v('occurred_at')}::timestamptz"
    customers_upsert(cursor, stage, occurred)
    distinct = f"DISTINCT ON ({v('event_id')})" if has_repeats else ""
    order = f"ORDER BY {v('event_id')}, s.row_no" if has_repeats else ""
    cursor.execute(
        f"""
        WITH inserted AS (
            INSERT INTO bookings_funnelevent (external_id, session_id, step, occurred_at, customer_id, booking_id,
                                              ingested_at)
            SELECT {distinct} {v('event_id')}, {v('session_id')}, lower({v('step')}), {occurred}, c.id, b.id, now()
            FROM {stage} s
            LEFT JOIN fleet_customer c ON c.external_ref = {v('customer')}
            LEFT JOIN bookings_booking b ON b.external_id = {v('booking_id')}
            WHERE NOT EXISTS (SELECT 1 FROM bookings_funnelevent x WHERE x.external_id = {v('event_id')})
            {order}
            ON CONFLICT (external_id) DO NOTHING
            RETURNING occurred_at
        )
        SELECT count(*), min(occurred_at), max(occurred_at) FROM inserted
        """
    )
    created, starts_at, ends_at = cursor.fetchone()
    return int(created), starts_at, ends_at


def _file_import(
    *, spec: ImportSpec, insert: Any, sender: type, data: bytes, file_name: str, progress: Progress | None, dry_run: bool
) -> ImportReport:
    report = ImportReport(file=file_name, dry_run=dry_run)
    try:
        table = table_read(data=data, file_name=file_name)
    except FileRejected as exc:
        report.add_error(row=exc.row, column=exc.column, message=exc.message)
        return report
    return import_table(spec=spec, source=table, report=report, insert=insert, sender=sender, progress=progress, dry_run=dry_run)


@transaction.atomic
def booking_import(*, data: bytes, file_name: str, progress: Progress | None = None, dry_run: bool = False) -> ImportReport:
    """Import a bookings CSV/XLSX (interfaces.md "Venue files"): all or nothing, idempotent on booking_id."""
    return _file_import(
        spec=booking_spec(), insert=_insert_bookings, sender=Booking, data=data, file_name=file_name, progress=progress,
        dry_run=dry_run,
    )


@transaction.atomic
def funnel_event_import(*, data: bytes, file_name: str, progress: Progress | None = None, dry_run: bool = False) -> ImportReport:
    """Import a funnel-events CSV/XLSX: all or nothing, idempotent on event_id; booking_id must exist."""
    return _file_import(
        spec=funnel_spec(), insert=_insert_funnel_events, sender=FunnelEvent, data=data, file_name=file_name, progress=progress,
        dry_run=dry_run,
    )


def _push(spec: ImportSpec, insert: Any, sender: type, rows: Sequence[Any], columns: Sequence[str], label: str) -> ImportReport:
    report = ImportReport(file=label)
    table, problems = json_rows_source(rows, columns)
    return import_table(spec=spec, source=table, report=report, insert=insert, sender=sender, structural_problems=problems)


@transaction.atomic
def booking_push(*, rows: Sequence[Any], label: str = "api") -> ImportReport:
    """A JSON batch of bookings with the file rules."""
    return _push(booking_spec(), _insert_bookings, Booking, rows, BOOKING_COLUMNS, label)


@transaction.atomic
def funnel_event_push(*, rows: Sequence[Any], label: str = "api") -> ImportReport:
    """A JSON batch of funnel events with the file rules."""
    return _push(funnel_spec(), _insert_funnel_events, FunnelEvent, rows, FUNNEL_COLUMNS, label)
