"""Sales imports: one service behind import_sales, the admin upload and POST /api/fleet/sales/."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.backends.utils import CursorWrapper

from fleet.models import Sale
from fleet.services.customers import customers_upsert
from ingest.files import TableSource, json_rows_source, table_read
from ingest.import_report import FileRejected, ImportReport
from ingest.staging import (
    Check,
    FastInsert,
    ImportSpec,
    Insert,
    Progress,
    Staged,
    Written,
    decimal_between,
    fast_choice,
    fast_decimal,
    fast_integer,
    fast_text,
    fast_timestamp,
    fast_timestamp_shape,
    import_table,
    integer_between,
    lit,
    max_length,
    one_of,
    prove_keys_unique,
    required,
    timestamp_with_offset,
    v,
)

SALES_COLUMNS = ("transaction_id", "sold_at", "device", "product", "quantity", "amount", "payment_method", "customer", "slot")
SALES_REQUIRED = frozenset({"transaction_id", "sold_at", "device", "product", "quantity", "amount"})
SALES_KIND = "sales"  # the import job kind and the raw_data_changed kind
# What the admin's upload page says of each column (docs/file-formats.md "Sales file"), and a valid row.
SALES_MEANINGS = {
    "transaction_id": "external id, unique per chain; a repeat is a duplicate, not a new sale",
    "sold_at": "ISO 8601 with offset (2026-03-01T12:30:00+01:00)",
    "device": "device asset number",
    "product": "product SKU",
    "quantity": "integer ≥ 1",
    "amount": "decimal total charged, ≥ 0",
    "payment_method": "cash, card, mobile, other",
    "customer": "external customer reference",
    "slot": "planogram slot code",
}
SALES_EXAMPLE = "t-1001,2026-03-01T12:30:00+01:00,A-1,SKU-1,2,3.00,card,C-1,A1"


def max_sale_amount() -> int:
    return int(getattr(settings, "CVD_MAX_SALE_AMOUNT", 1_000_000))


def max_sale_quantity() -> int:
    return int(getattr(settings, "CVD_MAX_SALE_QUANTITY", 10_000))


def sales_spec() -> ImportSpec:
    return ImportSpec(
        kind=SALES_KIND,
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


def bulk_rebuild_min_rows() -> int:
    return int(getattr(settings, "CVD_BULK_REBUILD_MIN_ROWS", 200_000))


def _bulk_mode(cursor: CursorWrapper, rows: int) -> bool:
    """For a file at least as big as the sales table (an initial load, a backfill), lock the table.

    Maintaining eight B-trees row by row (the primary key among them) costs more than the rows
    themselves; building them afresh after the insert is a sort each. The price is an ACCESS EXCLUSIVE
    lock on the chain's sales table until the import commits (readers of this chain wait; other chains
    are other schemas). Everything happens in the import's transaction: a failure restores the indexes.
    """
    if rows < bulk_rebuild_min_rows():
        return False
    cursor.execute("SELECT count(*) FROM (SELECT 1 FROM fleet_sale LIMIT %s) x", [rows])
    if int(cursor.fetchone()[0]) >= rows:
        return False
    cursor.execute("LOCK TABLE fleet_sale IN ACCESS EXCLUSIVE MODE")
    return True


def _bulk_indexes_drop(cursor: CursorWrapper) -> list[str]:
    """Drop every index of the locked sales table; returns the statements that recreate them.

    A primary key or unique constraint that a foreign key points at stays (none does today).
    """
    cursor.execute(
        """
        SELECT 'constraint', c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
        WHERE c.conrelid = 'fleet_sale'::regclass AND c.contype IN ('p', 'u')
          AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
        UNION ALL
        SELECT 'index', i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = 'fleet_sale'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """
    )
    restore: list[str] = []
    for kind, name, definition in cursor.fetchall():
        if kind == "constraint":
            cursor.execute(f'ALTER TABLE fleet_sale DROP CONSTRAINT "{name}"')
            restore.append(f'ALTER TABLE fleet_sale ADD CONSTRAINT "{name}" {definition}')
        else:
            cursor.execute(f'DROP INDEX "{name}"')
            restore.append(definition)
    return restore


def _bulk_truncate_if_empty(cursor: CursorWrapper) -> bool:
    """In bulk mode, TRUNCATE the locked sales table when it is empty; returns whether it did.

    Nothing is deleted: under the ACCESS EXCLUSIVE lock of _bulk_mode no other transaction can have
    written a row, and the table is empty. The point is the new, empty relation file TRUNCATE gives the
    table: with wal_level = minimal (the embedded server's tuning, cvd.services) PostgreSQL writes a
    relation created or truncated in the running transaction without WAL and syncs it at commit, so a
    chain's first load skips the WAL of a million rows. On a rollback (a bad row, a failed import) the
    old, empty file comes back. It is skipped when a foreign key points at fleet_sale (TRUNCATE would
    refuse, or need CASCADE) or when the table has rows. The one visible effect, TRUNCATE's documented
    MVCC caveat, is empty anyway: a transaction whose snapshot predates the import sees no rows either way,
    except rows deleted after it began, which it would no longer see.
    """
    cursor.execute(
        "SELECT NOT EXISTS (SELECT 1 FROM fleet_sale)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = 'fleet_sale'::regclass)"
    )
    if not cursor.fetchone()[0]:
        return False
    cursor.execute("TRUNCATE fleet_sale")
    return True


def _bulk_indexes_restore(cursor: CursorWrapper, statements: list[str]) -> None:
    if not statements:
        return
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for statement in statements:
        cursor.execute(statement)


def _insert_sales(source: str) -> Insert:
    def insert(cursor: CursorWrapper, stage: str, has_repeats: bool) -> Written:
        # Customers first, so the sales can point at them.
        customers_upsert(cursor, stage, f"{v('sold_at')}::timestamptz")
        distinct = f"DISTINCT ON ({v('transaction_id')})" if has_repeats else ""
        order = f"ORDER BY {v('transaction_id')}, s.row_no" if has_repeats else ""
        cursor.execute(f"SELECT count(*) FROM {stage}")
        bulk = _bulk_mode(cursor, int(cursor.fetchone()[0]))
        rebuilt = _bulk_indexes_drop(cursor) if bulk else []
        if bulk:
            _bulk_truncate_if_empty(cursor)
        # In bulk mode the table is locked against other writers and the ids were checked against it,
        # so a conflict cannot happen; ON CONFLICT needs the unique index that is being rebuilt.
        on_conflict = "" if rebuilt else "ON CONFLICT (external_id) DO NOTHING"
        cursor.execute(
            f"""
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
                {on_conflict}
            """
        )
        created = cursor.rowcount
        _bulk_indexes_restore(cursor, rebuilt)
        if created == 0:
            return 0, None, None
        # The range analytics refreshes may be wider than what was written (duplicates count), never narrower.
        # RETURNING would spool every new row; in bulk mode the table's own sold_at index answers at once.
        if rebuilt:
            cursor.execute("SELECT min(sold_at), max(sold_at) FROM fleet_sale")
        else:
            cursor.execute(f"SELECT min({v('sold_at')}::timestamptz), max({v('sold_at')}::timestamptz) FROM {stage} s")
        starts_at, ends_at = cursor.fetchone()
        return created, starts_at, ends_at

    return insert


_PAYMENT_METHODS = tuple(choice.value for choice in Sale.PaymentMethod)


def _fast_insert_sales(source: str) -> FastInsert:
    """Validate and write a well-formed file in one INSERT (run_import falls back to the detailed path on any error).

    Every row of the file goes through the checks, duplicates of stored sales included: a row that fails
    one gets a NULL external_id, which never matches a stored id and so reaches the insert, where the
    NOT NULL constraint aborts the statement. Values the checks do not look at are guarded by the columns
    themselves (a cast that fails, a text longer than its varchar). The checks are the `fast_ok` ones of
    `sales_spec` (sufficient conditions for every detailed check), each typed value computed once:
    the subquery fenced by OFFSET 0 parses a timestamp a single time for the check and the row.
    """

    def fast(cursor: CursorWrapper, staged: Staged) -> Written:
        stage = staged.table
        bulk = _bulk_mode(cursor, staged.rows)
        cursor.execute("SELECT EXISTS (SELECT 1 FROM fleet_sale)")
        fresh = not cursor.fetchone()[0]
        if not fresh:
            # Stored ids are filtered out below, so the unique index on fleet_sale cannot see a repeat
            # of a stored id inside the file: prove the file's ids unique first (IntegrityError: fall back).
            prove_keys_unique(cursor, sales_spec(), stage)
        # Into an empty table every row is new and a repeated id trips the unique index (or its rebuild).

        def value(column: str) -> str:
            # Trimming a million values costs 0.15 s a column; a file without padded cells needs none
            # (nullif: a quoted empty cell is still "no value").
            return f"nullif(s.\"{column}\", '')" if staged.unpadded else v(column)

        customers_upsert(cursor, stage, f"{value('sold_at')}::timestamptz", ref_sql=value("customer"))
        rebuilt = _bulk_indexes_drop(cursor) if bulk else []
        if bulk and fresh:
            _bulk_truncate_if_empty(cursor)
        if bulk:
            # Under the ACCESS EXCLUSIVE lock nobody else draws from the sequence: reserve one id per
            # row number at once instead of a nextval() per row.
            cursor.execute("SELECT pg_get_serial_sequence('fleet_sale', 'id')")
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            first = int(cursor.fetchone()[0])
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + staged.last_row - 1])
            id_column, id_value = "id, ", f"{first - 1} + u.row_no, "
        else:
            id_column = id_value = ""
        existing = "" if fresh else "WHERE NOT EXISTS (SELECT 1 FROM fleet_sale x WHERE x.external_id = u.external_id)"
        on_conflict = "" if fresh or bulk else "ON CONFLICT (external_id) DO NOTHING"
        shaped = fast_timestamp_shape("sold_at")
        methods = ", ".join(lit(method) for method in _PAYMENT_METHODS)
        cursor.execute(
            f"""
            INSERT INTO fleet_sale ({id_column}external_id, sold_at, device_id, product_id, slot_code, quantity, amount,
                                    transactions, payment_method, customer_id, source, dex_read_id, ingested_at)
            SELECT {id_value}u.external_id, u.sold_at, u.device_id, u.product_id, u.slot, u.quantity, u.amount, 1,
                   u.payment_method, u.customer_id, {lit(source)}, NULL, now()
            FROM (
                SELECT t.row_no, t.sold_at, t.slot, t.quantity, t.amount, t.payment_method,
                       d.id AS device_id, p.id AS product_id, c.id AS customer_id,
                       CASE WHEN t.shaped AND t.sold_at >= '2000-01-01T00:00:00Z' AND t.sold_at <= now() + interval '1 day'
                                 AND t.quantity::text = t.quantity_text AND t.quantity BETWEEN 1 AND {max_sale_quantity()}
                                 AND t.amount::text = t.amount_text AND t.amount BETWEEN 0 AND {max_sale_amount()}
                                 AND scale(t.amount) <= 4
                                 AND t.payment_method IN ('', {methods})
                                 AND length(t.transaction_id) <= 100 AND length(t.slot) <= 20
                                 AND d.id IS NOT NULL AND p.id IS NOT NULL AND (t.customer IS NULL OR c.id IS NOT NULL)
                            THEN t.transaction_id END AS external_id
                FROM (
                    SELECT s.row_no, {value('transaction_id')} AS transaction_id,
                           {value('sold_at')}::timestamptz AS sold_at, {shaped} AS shaped,
                           -- Plain digits only: the value must print back as it was written (no sign,
                           -- space, exponent, underscore or leading zero; NaN and infinities fail the range).
                           s.quantity::integer AS quantity, s.quantity AS quantity_text,
                           s.amount::numeric AS amount, s.amount AS amount_text,
                           CASE WHEN s.payment_method IS NULL THEN ''
                                WHEN s.payment_method IN ({methods}) THEN s.payment_method
                                ELSE coalesce(lower({v('payment_method')}), '') END AS payment_method,
                           coalesce({value('slot')}, '') AS slot, {value('device')} AS device,
                           {value('product')} AS product, {value('customer')} AS customer
                    FROM {stage} s
                    OFFSET 0
                ) t
                LEFT JOIN fleet_device d ON d.asset = t.device
                LEFT JOIN fleet_product p ON p.sku = t.product
                LEFT JOIN fleet_customer c ON c.external_ref = t.customer
                {"OFFSET 0" if existing else ""}
            ) u
            {existing}
            {on_conflict}
            """
        )
        created = cursor.rowcount
        _bulk_indexes_restore(cursor, rebuilt)
        if created == 0:
            return 0, None, None
        # What was written, or wider (never narrower): in bulk mode the rebuilt sold_at index answers at
        # once; otherwise this transaction's rows are found through the ingested_at index.
        where = "" if bulk else "WHERE ingested_at = now()"
        cursor.execute(f"SELECT min(sold_at), max(sold_at) FROM fleet_sale {where}")
        starts_at, ends_at = cursor.fetchone()
        return created, starts_at, ends_at

    return fast


def _import(
    *, source_table: TableSource, report: ImportReport, source: str, progress: Progress | None,
    structural_problems: Sequence[tuple[int, str, str]] = (), dry_run: bool = False,
) -> ImportReport:
    return import_table(
        spec=sales_spec(),
        source=source_table,
        report=report,
        insert=_insert_sales(source),
        fast=_fast_insert_sales(source),
        sender=Sale,
        progress=progress,
        structural_problems=structural_problems,
        dry_run=dry_run,
    )


@transaction.atomic
def sales_import(*, data: bytes, file_name: str, progress: Progress | None = None, dry_run: bool = False) -> ImportReport:
    """Import a sales CSV/XLSX file (interfaces.md format); the report says what happened (or would, with dry_run)."""
    report = ImportReport(file=file_name, dry_run=dry_run)
    try:
        table = table_read(data=data, file_name=file_name)
    except FileRejected as exc:
        report.add_error(row=exc.row, column=exc.column, message=exc.message)
        return report
    return _import(source_table=table, report=report, source=Sale.Source.IMPORT, progress=progress, dry_run=dry_run)


@transaction.atomic
def sales_push(*, rows: Sequence[Any], label: str = "api") -> ImportReport:
    """Import a JSON batch (telemetry push: one transaction is a batch of one) with the file rules."""
    report = ImportReport(file=label)
    table, problems = json_rows_source(rows, SALES_COLUMNS)
    return _import(
        source_table=table, report=report, source=Sale.Source.TELEMETRY, progress=None, structural_problems=problems
    )
