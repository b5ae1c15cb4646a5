"""Raw rows for export in the import file formats (interfaces.md): sales and bookings, read through a server-side cursor.

The database formats every cell (ISO 8601 timestamps with the chain's offset, exact decimal amounts,
formula-neutralised text), so the Python side only joins fields: a million rows stream without being
held in memory. The filters are the analytics filters with the same rule as the query layer: a venue
filter selects no sales, a device-level filter selects no bookings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from analytics.filters import RAW_BOOKINGS, RAW_SALES, Filters, Scope
from analytics.periods import Period
from analytics.reports import Column
from reporting.safe import neutralise_sql

FETCH_ROWS = 10_000


def _iso(column: str) -> str:
    """ISO 8601 with the offset, as Python's isoformat() writes it, in the session's time zone (the chain's:
    `rows()` sets it for the query; one to_char is a third of the cost of converting and formatting the offset)."""
    return (
        f"CASE WHEN date_trunc('second', {column}) = {column} "
        f"THEN to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM') "
        f"ELSE to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM') END"
    )


def _amount(column: str) -> str:
    """The exact stored amount: two places, more only when the value has them (6.005 stays 6.005)."""
    return f"CASE WHEN {column} = round({column}, 2) THEN round({column}, 2)::text ELSE trim_scale({column})::text END"


def _csv_field(expression: str) -> str:
    """A text field as Python's csv module (QUOTE_MINIMAL) writes it: quoted when it holds , " CR or LF."""
    return (
        f"CASE WHEN {expression} ~ '[,\"\\r\\n]' THEN '\"' || replace({expression}, '\"', '\"\"') || '\"' "
        f"ELSE {expression} END"
    )


# A field of a raw row: ("tenant", expr) is tenant-typed text (neutralised, CSV-quoted when needed),
# ("plain", expr) text the database formats itself (timestamps, amounts, enums), ("int", expr) an integer.
Field = tuple[str, str]


@dataclass(frozen=True)
class RawReport:
    name: str
    title: str
    columns: tuple[Column, ...]
    fields: tuple[Field, ...]
    source: str  # FROM … (the base table and the joins its own columns need)
    instant: str  # the timestamp the range applies to
    order: str

    def scope(self, filters: Filters) -> Scope:
        """The filters over `source` (the one scope builder's joins, ` AND …` conditions and parameters)."""
        raise NotImplementedError

    def sql(self, filters: Filters, *, csv_lines: bool = False) -> tuple[str, dict[str, Any]]:
        """The rows' query: one column per field, or (`csv_lines`) each row as one finished CSV line.

        Timestamps are formatted in the session's time zone: run it as `rows()` does, with the chain's set.
        """
        scope = self.scope(filters)
        if csv_lines:
            quoted, plain, tenant = [], [], []
            for kind, expression in self.fields:
                if kind == "tenant":
                    field = neutralise_sql(f"coalesce({expression}, '')")
                    quoted.append(_csv_field(field))
                    plain.append(field)
                    tenant.append(f"coalesce({expression}, '')")
                else:
                    field = f"coalesce({expression}::text, '')" if kind == "int" else f"coalesce({expression}, '')"
                    quoted.append(field)
                    plain.append(field)
            # One test per row on the tenant text joined: almost no row needs quoting, and a regular
            # expression per field was half the query's cost.
            comma = " || ',' || "
            select = (
                f"CASE WHEN ({' || '.join(tenant)}) ~ '[,\"\\r\\n]' "
                f"THEN {comma.join(quoted)} ELSE {comma.join(plain)} END || E'\\r\\n'"
            )
        else:
            select = ", ".join(
                neutralise_sql(f"coalesce({expression}, '')") if kind == "tenant" else expression
                for kind, expression in self.fields
            )
        sql = (
            f"SELECT {select} FROM {self.source} {scope.joins} "
            f"WHERE {self.instant} >= %(starts_at)s AND {self.instant} < %(ends_at)s{scope.where} ORDER BY {self.order}"
        )
        return sql, dict(scope.params)

    def _bound(self, filters: Filters, period: Period, tz: str, csv_lines: bool) -> tuple[str, dict[str, Any]]:
        sql, params = self.sql(filters, csv_lines=csv_lines)
        starts_at, ends_at = period.bounds(_zone(tz))
        params.update(starts_at=starts_at, ends_at=ends_at, tz=tz)
        return sql, params

    def rows(
        self, *, period: Period, filters: Filters, tz: str, in_transaction: bool = True, csv_lines: bool = False
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Batches of rows (tuples of text and integers, in column order; or 1-tuples of CSV lines), oldest first.

        In a transaction the server-side cursor streams straight from the query. Outside one (a job that
        commits its progress meanwhile) it is a WITH HOLD cursor: PostgreSQL keeps the result on its side
        and the rows still arrive a batch at a time.
        """
        sql, params = self._bound(filters, period, tz, csv_lines)
        if in_transaction:
            with transaction.atomic():
                yield from self._fetch(sql, params, tz, local=True)
        else:
            yield from self._fetch(sql, params, tz, local=False)

    @staticmethod
    def _fetch(sql: str, params: dict[str, Any], tz: str, *, local: bool) -> Iterator[list[tuple[Any, ...]]]:
        scope = "LOCAL " if local else ""
        with connection.cursor() as cursor:
            cursor.execute("SHOW TIME ZONE")
            before = cursor.fetchone()[0]
            cursor.execute(f"SET {scope}TIME ZONE %s", [tz])  # the timestamps' offsets are the chain's
        try:
            with connection.chunked_cursor() as cursor:
                cursor.execute(sql, params)
                while batch := cursor.fetchmany(FETCH_ROWS):
                    yield batch
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"SET {scope}TIME ZONE %s", [before])

    def count(self, *, period: Period, filters: Filters, tz: str) -> int:
        scope = self.scope(filters)
        starts_at, ends_at = period.bounds(_zone(tz))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {self.source} {scope.joins} "
                f"WHERE {self.instant} >= %(starts_at)s AND {self.instant} < %(ends_at)s{scope.where}",
                {**scope.params, "starts_at": starts_at, "ends_at": ends_at},
            )
            return int(cursor.fetchone()[0])


def _zone(tz: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(tz)


class SalesRows(RawReport):
    def scope(self, filters: Filters) -> Scope:
        # The locations are joined only when a filter needs them (a tenth of an export's time when left out).
        scope = filters.scope(RAW_SALES, joined=("d", "p"))  # a venue filter selects no sales
        assert scope is not None
        return scope


class BookingRows(RawReport):
    def scope(self, filters: Filters) -> Scope:
        scope = filters.scope(RAW_BOOKINGS, joined=("r",))  # a machine or product filter selects no bookings
        assert scope is not None
        return scope


def _text(key: str) -> Column:
    return Column(key, key, "text")


RAW_REPORTS: dict[str, RawReport] = {
    "sales": SalesRows(
        name="sales", title="Sales (raw rows)",
        fields=(
            ("tenant", "s.external_id"), ("plain", _iso("s.sold_at")), ("tenant", "d.asset"), ("tenant", "p.sku"),
            ("int", "s.quantity"), ("plain", _amount("s.amount")), ("plain", "s.payment_method"),
            ("tenant", "c.external_ref"), ("tenant", "s.slot_code"),
        ),
        source="""fleet_sale s
            JOIN fleet_device d ON d.id = s.device_id
            JOIN fleet_product p ON p.id = s.product_id
            LEFT JOIN fleet_customer c ON c.id = s.customer_id""",
        instant="s.sold_at", order="s.sold_at, s.id",
        columns=(
            _text("transaction_id"), _text("sold_at"), _text("device"), _text("product"),
            Column("quantity", "quantity", "integer"), Column("amount", "amount", "money"),
            _text("payment_method"), _text("customer"), _text("slot"),
        ),
    ),
    "bookings": BookingRows(
        name="bookings", title="Bookings (raw rows)",
        fields=(
            ("tenant", "b.external_id"), ("tenant", "r.code"), ("plain", _iso("b.starts_at")),
            ("plain", _iso("b.ends_at")), ("plain", "b.status"), ("plain", _amount("b.amount")),
            ("tenant", "c.external_ref"), ("plain", f"CASE WHEN b.booked_at IS NULL THEN '' ELSE {_iso('b.booked_at')} END"),
        ),
        source="""bookings_booking b
            JOIN bookings_resource r ON r.id = b.resource_id
            LEFT JOIN fleet_customer c ON c.id = b.customer_id""",
        instant="b.starts_at", order="b.starts_at, b.id",
        columns=(
            _text("booking_id"), _text("resource"), _text("starts_at"), _text("ends_at"), _text("status"),
            Column("amount", "amount", "money"), _text("customer"), _text("created_at"),
        ),
    ),
}
