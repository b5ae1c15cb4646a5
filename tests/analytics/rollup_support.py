"""Helpers for the rollup tests: a small catalog, sales written with explicit ingestion times, and
the independent expectation (a plain Python sum over the rows the test generated)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from fleet.models import Category, Customer, Device, DeviceType, Location, Product, Sale

_ids = itertools.count(1)


@dataclass
class Catalog:
    locations: list[Location]
    devices: list[Device]
    products: list[Product]
    customers: list[Customer]


@dataclass(frozen=True)
class SaleRow:
    sold_at: datetime
    device: int  # index into Catalog.devices
    product: int
    quantity: int
    amount: Decimal
    transactions: int = 1
    ingested_at: datetime | None = None
    customer: int | None = None  # index into Catalog.customers; None: anonymous
    slot: str = ""  # the slot code the sale names; blank: none


def make_catalog(*, devices: int = 3, products: int = 3, customers: int = 3) -> Catalog:
    tag = next(_ids)
    locations = [
        Location.objects.create(code=f"L{tag}-{i}", name=f"Loc {i}", region=f"R{i % 2}", city=f"C{i}") for i in range(2)
    ]
    device_type = DeviceType.objects.create(name=f"T{tag}")
    category = Category.objects.create(name=f"Cat{tag}")
    other = Category.objects.create(name=f"Cat{tag}b")
    return Catalog(
        locations=locations,
        devices=[
            Device.objects.create(asset=f"A{tag}-{i}", location=locations[i % 2], device_type=device_type)
            for i in range(devices)
        ],
        products=[
            Product.objects.create(sku=f"S{tag}-{i}", name=f"P{i}", price=Decimal("2.00"), category=category if i % 2 else other)
            for i in range(products)
        ],
        customers=[Customer.objects.create(external_ref=f"C{tag}-{i}") for i in range(customers)],
    )


def add_sales(catalog: Catalog, rows: Iterable[SaleRow]) -> list[Sale]:
    sales = [
        Sale(
            external_id=f"x{next(_ids)}",
            sold_at=row.sold_at,
            device=catalog.devices[row.device],
            product=catalog.products[row.product],
            quantity=row.quantity,
            amount=row.amount,
            transactions=row.transactions,
            source=Sale.Source.TELEMETRY,
            ingested_at=row.ingested_at or timezone.now(),
            customer=None if row.customer is None else catalog.customers[row.customer],
            slot_code=row.slot,
        )
        for row in rows
    ]
    return Sale.objects.bulk_create(sales)


def clear_chain() -> None:
    """Empty the active schema's sales and rollups (hypothesis examples share one test transaction)."""
    with connection.cursor() as cursor:
        for table in (
            "fleet_sale", "analytics_saleschainrollup", "analytics_salesdevicerollup", "analytics_salesproductrollup",
            "analytics_salesslotrollup", "analytics_salesslotcoderollup", "analytics_bookingrollup", "analytics_rollupwatermark", "analytics_dirtyrange", "analytics_rolluprun",
            "analytics_customerhistoryrollup", "analytics_basketdayrollup", "analytics_basketdayseries",
            "analytics_salesdeviceseries",
        ):
            cursor.execute(f"DELETE FROM {table}")  # not TRUNCATE: deferred FK checks are pending


def expected(
    rows: Iterable[SaleRow], tz: ZoneInfo, start: date, end: date, key: Callable[[SaleRow, datetime], Hashable]
) -> dict[Hashable, tuple[Decimal, int, int]]:
    """Σ amount, quantity, transactions of the rows whose local date is in [start, end], by key(row, local time)."""
    sums: dict[Hashable, list] = defaultdict(lambda: [Decimal(0), 0, 0])
    for row in rows:
        local = row.sold_at.astimezone(tz)
        if start <= local.date() <= end:
            bucket = sums[key(row, local)]
            bucket[0] += row.amount
            bucket[1] += row.quantity
            bucket[2] += row.transactions
    return {k: (v[0], v[1], v[2]) for k, v in sums.items()}


def expected_histories(rows: Iterable[SaleRow], tz: ZoneInfo, until: date) -> dict[int, tuple[date, date, int, Decimal]]:
    """Per customer index: local dates of the first and last sale, Σ transactions and Σ amount, up to `until`."""
    out: dict[int, tuple[date, date, int, Decimal]] = {}
    for row in rows:
        day = row.sold_at.astimezone(tz).date()
        if row.customer is None or day > until:
            continue
        first, last, transactions, amount = out.get(row.customer, (day, day, 0, Decimal(0)))
        out[row.customer] = (min(first, day), max(last, day), transactions + row.transactions, amount + row.amount)
    return out


def expected_third_rows(rows: Iterable[SaleRow], tz: ZoneInfo, catalog: Catalog, before: date) -> dict[tuple, tuple]:
    """The customer histories' rows for every whole third of a month that ends by `before`, by hand: per third
    (its first day: the 1st, 11th or 21st) and customer id, the first and last sale, Σ transactions and Σ amount
    in 1/10,000, over every sale whose local date is before the third's end."""
    bought = [(row.sold_at.astimezone(tz).date(), row) for row in rows if row.customer is not None]
    if not bought:
        return {}
    starts = []
    day = min(day for day, _ in bought).replace(day=1)
    while day < before:
        starts.extend(day.replace(day=d) for d in (1, 11, 21))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    ends = dict(zip(starts, [*starts[1:], day], strict=True))
    out: dict[tuple, tuple] = {}
    for start, end in ends.items():
        if end > before:
            continue
        for day, row in bought:
            if day >= end:
                continue
            key = (start, catalog.customers[row.customer].id)
            first, last, transactions, amount = out.get(key, (row.sold_at, row.sold_at, 0, 0))
            out[key] = (min(first, row.sold_at), max(last, row.sold_at), transactions + row.transactions,
                        amount + int(row.amount * 10_000))
    return out


def expected_basket_days(rows: Iterable[SaleRow], tz: ZoneInfo, catalog: Catalog, before: date) -> dict[tuple, int]:
    """The basket days' rows for the local days before `before`, counted by hand: per day (0, 0) the baskets
    (customers who bought), (a, 0) the baskets with product a, (a, b) with a < b the baskets with both."""
    baskets: dict[tuple[date, int], set[int]] = defaultdict(set)
    for row in rows:
        day = row.sold_at.astimezone(tz).date()
        if row.customer is not None and day < before:
            baskets[(day, row.customer)].add(catalog.products[row.product].id)
    out: dict[tuple, int] = defaultdict(int)
    for (day, _), products in baskets.items():
        if len(products) > 30:
            continue
        out[(day, 0, 0)] += 1
        for a in products:
            out[(day, a, 0)] += 1
            for b in products:
                if a < b:
                    out[(day, a, b)] += 1
    return dict(out)


def expected_device_series(rows: Iterable[SaleRow], tz: ZoneInfo, catalog: Catalog) -> dict[tuple, dict[int, int]]:
    """The device month series by hand: per (first day of the local month, device id), the revenue in 1/10,000 of
    each day of the month the device sold on."""
    out: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        day = row.sold_at.astimezone(tz).date()
        out[(day.replace(day=1), catalog.devices[row.device].id)][day.day] += int(row.amount * 10_000)
    return {key: dict(days) for key, days in out.items()}


def held_device_series() -> dict[tuple, dict[int, int]]:
    """The device month series table, unpacked: per (month, device id), {day of the month: revenue in 1/10,000}."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT month, device_id, days, revenue_e4 FROM analytics_salesdeviceseries")
        held = {}
        for month, device_id, bits, packed in cursor.fetchall():
            days = [d for d in range(1, 32) if bits >> (d - 1) & 1]
            revenue = [int.from_bytes(bytes(packed)[i:i + 8], "big", signed=True) for i in range(0, len(packed), 8)]
            assert len(days) == len(revenue), (month, device_id)
            held[(month, device_id)] = dict(zip(days, revenue, strict=True))
    return held


def held_basket_series() -> dict[tuple, int]:
    """The packed basket days, unpacked: {(day, product_a, product_b): baskets}; each day's rows come by product_a,
    then product_b, and a day holds a pair once."""
    held: dict[tuple, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT local_date, product_a, product_b, baskets FROM analytics_basketdayseries")
        for day, *packed in cursor.fetchall():
            a, b, n = ([int.from_bytes(bytes(column)[i:i + 8], "big", signed=True) for i in range(0, len(column), 8)]
                       for column in packed)
            assert len(a) == len(b) == len(n) and list(zip(a, b, strict=True)) == sorted(set(zip(a, b, strict=True))), day
            held.update({(day, pa, pb): count for pa, pb, count in zip(a, b, n, strict=True)})
    return held


def rollup_snapshot() -> list[tuple]:
    """Every bucket of every rollup table with its row version (xmin), to prove a re-run rewrote nothing."""
    out: list[tuple] = []
    with connection.cursor() as cursor:
        for table in ("saleschainrollup", "salesdevicerollup", "salesproductrollup", "salesslotrollup", "salesslotcoderollup", "bookingrollup",
                      "customerhistoryrollup", "basketdayrollup", "basketdayseries", "salesdeviceseries"):
            cursor.execute(f"SELECT xmin::text, ctid::text, * FROM analytics_{table} ORDER BY id")
            out.extend((table, *row) for row in cursor.fetchall())
    return out


def local(tz: ZoneInfo, day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def assert_coarse_match_days() -> None:
    """Every week and month bucket is exactly the sum of its day buckets (per family)."""
    with connection.cursor() as cursor:
        for table in ("analytics_saleschainrollup", "analytics_salesdevicerollup", "analytics_salesproductrollup",
                      "analytics_salesslotrollup", "analytics_salesslotcoderollup"):
            for grain, unit in (("week", "week"), ("month", "month")):
                cursor.execute(
                    f"""
                    SELECT c.local_date, c.s, d.s FROM
                      (SELECT local_date, SUM(revenue) s FROM {table} WHERE grain = %s GROUP BY 1) c
                      FULL JOIN
                      (SELECT date_trunc(%s, local_date)::date AS local_date, SUM(revenue) s FROM {table}
                       WHERE grain = 'day' GROUP BY 1) d USING (local_date)
                    WHERE c.s IS DISTINCT FROM d.s
                    """,
                    [grain, unit],
                )
                assert cursor.fetchall() == [], (table, grain)


HOUR = timedelta(hours=1)
