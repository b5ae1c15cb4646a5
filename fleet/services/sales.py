"""Sales imports: one service behind import_sales, the admin upload and POST /api/fleet/sales/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.backends.utils import CursorWrapper

from fleet.models import Sale
from fleet.services.files import TableSource, json_rows_source, table_read
from fleet.services.reports import FileRejected, ImportReport
from fleet.services.staging import (
    Check,
    ImportSpec,
    Progress,
    decimal_between,
    fast_choice,
    fast_decimal,
    fast_integer,
    fast_text,
    fast_timestamp,
    import_table,
    integer_between,
    lit,
    max_length,
    one_of,
    required,
    timestamp_with_offset,
    v,
)

SALES_COLUMNS = ("transaction_id", "sold_at", "device", "product", "quantity", "amount", "payment_method", "customer", "slot")
SALES_REQUIRED = frozenset({"transaction_id", "sold_at", "device", "product", "quantity", "amount"})
MAX_API_BATCH = 10_000


def max_sale_amount() -> int:
    return int(getattr(settings, "CVD_MAX_SALE_AMOUNT", 1_000_000))


def max_sale_quantity() -> int:
    return int(getattr(settings, "CVD_MAX_SALE_QUANTITY", 10_000))


def sales_spec() -> ImportSpec:
    return ImportSpec(
        kind="sales",
        columns=SALES_COLUMNS,
        required_columns=SALES_REQUIRED,
        key="transaction_id",
        joins=(
            f"LEFT JOIN fleet_device d ON d.asset = {v('device')} "
            f"LEFT JOIN fleet_product p ON p.sku = {v('product')}"
        ),
        checks={
            "transaction_id": [required("transaction_id"), max_length("transaction_id", 100)],
            "sold_at": [required("sold_at"), *timestamp_with_offset("sold_at")],
            "device": [required("device"), Check("d.id IS NULL", f"'unknown device ' || quote_literal({v('device')})")],
            "product": [
                required("product"),
                Check("p.id IS NULL", f"'unknown product ' || quote_literal({v('product')})"),
            ],
            "quantity": [required("quantity"), *integer_between("quantity", 1, max_sale_quantity())],
            "amount": [required("amount"), *decimal_between("amount", 0, max_sale_amount(), 4)],
            "payment_method": [one_of("payment_method", [choice.value for choice in Sale.PaymentMethod])],
            "customer": [max_length("customer", 100)],
            "slot": [max_length("slot", 20)],
        },
        target_table="fleet_sale",
        target_key="external_id",
        fast_ok={
            "transaction_id": fast_text("transaction_id", 100, needed=True),
            "sold_at": fast_timestamp("sold_at", needed=True),
            "device": "d.id IS NOT NULL",
            "product": "p.id IS NOT NULL",
            "quantity": fast_integer("quantity", 1, max_sale_quantity()),
            "amount": fast_decimal("amount", 0, max_sale_amount(), 4, needed=True),
            "payment_method": fast_choice("payment_method", [choice.value for choice in Sale.PaymentMethod]),
            "customer": fast_text("customer", 100, needed=False),
            "slot": fast_text("slot", 20, needed=False),
        },
    )


def _insert_sales(source: str) -> Any:
    def insert(cursor: CursorWrapper, has_repeats: bool) -> tuple[int, datetime | None, datetime | None]:
        stage = sales_spec().stage
        # Customers first, so the sales can point at them; first_seen only ever moves earlier.
        cursor.execute(
            f"""
            INSERT INTO fleet_customer (external_ref, first_seen)
            SELECT {v('customer')}, min({v('sold_at')}::timestamptz) FROM {stage} s
            WHERE {v('customer')} IS NOT NULL GROUP BY 1
            ON CONFLICT (external_ref) DO UPDATE SET first_seen = EXCLUDED.first_seen
            WHERE fleet_customer.first_seen IS NULL OR EXCLUDED.first_seen < fleet_customer.first_seen
            """
        )
        distinct = f"DISTINCT ON ({v('transaction_id')})" if has_repeats else ""
        order = f"ORDER BY {v('transaction_id')}, s.row_no" if has_repeats else ""
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO fleet_sale (external_id, sold_at, device_id, product_id, slot_code, quantity, amount,
                                        transactions, payment_method, customer_id, source, dex_read_id, ingested_at)
                SELECT {distinct} {v('transaction_id')}, {v('sold_at')}::timestamptz, d.id, p.id,
                       coalesce({v('slot')}, ''), {v('quantity')}::integer, {v('amount')}::numeric, 1,
                       coalesce(lower({v('payment_method')}), ''), c.id, {lit(source)}, NULL, now()
                FROM {stage} s
                JOIN fleet_device d ON d.asset = {v('device')}
                JOIN fleet_product p ON p.sku = {v('product')}
                LEFT JOIN fleet_customer c ON c.external_ref = {v('customer')}
                WHERE NOT EXISTS (SELECT 1 FROM fleet_sale x WHERE x.external_id = {v('transaction_id')})
                {order}
                ON CONFLICT (external_id) DO NOTHING
                RETURNING sold_at
            )
            SELECT count(*), min(sold_at), max(sold_at) FROM inserted
            """
        )
        created, starts_at, ends_at = cursor.fetchone()
        return int(created), starts_at, ends_at

    return insert


def _import(
    *, source_table: TableSource, report: ImportReport, source: str, progress: Progress | None,
    structural_problems: Sequence[tuple[int, str, str]] = (),
) -> ImportReport:
    return import_table(
        spec=sales_spec(),
        source=source_table,
        report=report,
        insert=_insert_sales(source),
        sender=Sale,
        progress=progress,
        structural_problems=structural_problems,
    )


@transaction.atomic
def sales_import(*, data: bytes, file_name: str, progress: Progress | None = None) -> ImportReport:
    """Import a sales CSV/XLSX file (interfaces.md format); the report says what happened."""
    report = ImportReport(file=file_name)
    try:
        table = table_read(data=data, file_name=file_name)
    except FileRejected as exc:
        report.add_error(row=exc.row, column=exc.column, message=exc.message)
        return report
    return _import(source_table=table, report=report, source=Sale.Source.IMPORT, progress=progress)


@transaction.atomic
def sales_push(*, rows: Sequence[Any], label: str = "api") -> ImportReport:
    """Import a JSON batch (telemetry push: one transaction is a batch of one) with the file rules."""
    report = ImportReport(file=label)
    table, problems = json_rows_source(rows, SALES_COLUMNS)
    return _import(
        source_table=table, report=report, source=Sale.Source.TELEMETRY, progress=None, structural_problems=problems
    )
